/**
 * The rules of profile cluster-pool (lib/config/profiles.ts): its pools against the lab's other
 * ranges, against each other, and against the nodes they must serve.
 */
import { cidrContains, cidrsOverlap, coveringCidr, formatCidr, parseCidr, type Ipv4Cidr } from './cidr.js';
import type { Report } from './report.js';
import type { LabConfig } from './schema.js';

/** The pitfall the cluster-pool profile teaches, said with every overlap it refuses. */
const POOL_PITFALL = "Cilium's cluster-pool IPAM hands out pod addresses from these pools, and a pool that overlaps node or service addresses breaks cross-node traffic (the chart's default 10.0.0.0/8 is the classic case)";

/** Private ranges (RFC 1918 and the shared 100.64.0.0/10 of RFC 6598): a covering range outside them holds public addresses. */
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];

/** Link-local: the instance metadata service and the VPC's DNS at 169.254.169.253 live here. */
const LINK_LOCAL = '169.254.0.0/16';

function cidrOf(text: string | undefined): Ipv4Cidr | undefined {
  if (text === undefined) return undefined;
  const parsed = parseCidr(text);
  return typeof parsed === 'string' ? undefined : parsed;
}

export function checkClusterPool(config: LabConfig, report: Report): void {
  const pools = config.clusterPool.cidrs.map((text) => ({ text, cidr: cidrOf(text) }));
  const taken: [string, Ipv4Cidr | undefined][] = [
    ['network.vpcCidr', cidrOf(config.network.vpcCidr)],
    ['kubernetes.serviceCidr', cidrOf(config.kubernetes.serviceCidr)],
  ];
  pools.forEach(({ text, cidr }, i) => {
    if (!cidr) return;
    for (const [field, range] of taken) {
      if (range && cidrsOverlap(cidr, range)) report(['clusterPool', 'cidrs', i], `${text} overlaps ${field} ${formatCidr(range)}: ${POOL_PITFALL}; pick a pool apart from both (e.g. 10.200.0.0/16)`);
    }
    pools.slice(0, i).forEach((earlier) => {
      if (earlier.cidr && cidrsOverlap(cidr, earlier.cidr)) report(['clusterPool', 'cidrs', i], `${text} overlaps the pool ${earlier.text}; every pool is its own range`);
    });
    if (config.clusterPool.maskSize < cidr.prefix) {
      report(['clusterPool', 'maskSize'], `/${config.clusterPool.maskSize} blocks do not fit in the pool ${text}; use a mask of /${cidr.prefix} or longer (it cannot change once the lab runs)`);
    }
  });
  const blocks = pools.reduce((sum, { cidr }) => sum + (cidr && config.clusterPool.maskSize >= cidr.prefix ? 2 ** (config.clusterPool.maskSize - cidr.prefix) : 0), 0);
  const kubeNodes = 1 + config.workers.count;
  if (pools.every((p) => p.cidr) && blocks > 0 && blocks < kubeNodes) {
    report(['clusterPool', 'cidrs'], `the pools hold ${blocks} /${config.clusterPool.maskSize} block(s) for ${kubeNodes} Kubernetes nodes; add a pool (the list can only grow) or use a larger one`);
  }
  // Cilium takes one native-routing CIDR (ipv4NativeRoutingCIDR): the lab gives it the range that
  // covers every pool (profiles.ts nativeRoutingCidr), and Cilium masquerades nothing bound for
  // it. Pools far apart make that range swallow the VPC, the services or the link-local range, and
  // pods then reach them (and testpc, the internet, the VPC's DNS) with addresses nothing routes back.
  const parsed = pools.map((p) => p.cidr);
  if (parsed.length > 1 && parsed.every((c): c is Ipv4Cidr => c !== undefined)) {
    const covering = coveringCidr(parsed);
    const clashes = [...taken, ['169.254.0.0/16 (link-local: instance metadata, the VPC DNS)', cidrOf(LINK_LOCAL)] as [string, Ipv4Cidr | undefined]].filter(
      ([, range]) => range && cidrsOverlap(covering, range),
    );
    const isPrivate = (c: Ipv4Cidr) => PRIVATE_RANGES.some((r) => cidrContains(cidrOf(r) as Ipv4Cidr, c));
    const leavesPrivate = parsed.every(isPrivate) && !isPrivate(covering);
    if (clashes.length > 0 || leavesPrivate) {
      const what = [
        ...(clashes.length > 0 ? [`overlaps ${clashes.map(([field, range]) => (field.startsWith('169.254') ? field : `${field} ${formatCidr(range as Ipv4Cidr)}`)).join(' and ')}`] : []),
        ...(leavesPrivate ? ['holds public addresses (the pods would reach them unmasqueraded, with addresses nothing routes back)'] : []),
      ].join(' and ');
      report(
        ['clusterPool', 'cidrs'],
        `the range covering every pool, ${formatCidr(covering)} (Cilium's ipv4NativeRoutingCIDR: traffic to it is never masqueraded), ${what}; pick pools next to each other (e.g. 10.200.0.0/16, 10.201.0.0/16)`,
      );
    }
  }
}
