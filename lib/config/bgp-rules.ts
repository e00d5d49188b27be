/**
 * Profile bgp's rules, run at synth with the lab's own (lib/config/rules.ts): the router's and the
 * nodes' ASes, the LoadBalancer pool against the lab's other ranges, and the ranges the router
 * accepts and the instances route through it. The router's and the test-subnet workers' addresses
 * are checked with every other instance's (rules.ts checkAddresses, from the plan).
 */
import { cidrContains, cidrsOverlap, formatCidr, parseCidr, type Ipv4Cidr } from './cidr.js';
import type { Report } from './report.js';
import type { LabConfig } from './schema.js';

/**
 * AS numbers no BGP speaker may use as its own: 23456 is AS_TRANS (RFC 6793, section 9), 65535 and
 * 4294967295 are reserved (RFC 7300); 0 and numbers above 4294967295 the schema refuses.
 */
export const RESERVED_ASNS: Readonly<Record<number, string>> = {
  23456: 'AS_TRANS, the placeholder 2-byte speakers see for a 4-byte AS (RFC 6793)',
  65535: 'reserved (RFC 7300)',
};

/** What the router accepts from the cluster and the instances route via it: the config's list, else the pod range and the LoadBalancer pool. */
export function advertisedRanges(config: Pick<LabConfig, 'bgp' | 'kubernetes'>): readonly string[] {
  return config.bgp.advertisedRanges ?? [config.kubernetes.podCidr, config.bgp.lbPoolCidr];
}

const cidrOf = (text: string): Ipv4Cidr | undefined => {
  const parsed = parseCidr(text);
  return typeof parsed === 'string' ? undefined : parsed;
};

export function checkBgp(config: LabConfig, report: Report): void {
  const { bgp } = config;
  for (const [field, asn] of [['routerAsn', bgp.routerAsn], ['clusterAsn', bgp.clusterAsn]] as const) {
    const reserved = RESERVED_ASNS[asn];
    if (reserved) report(['bgp', field], `AS ${asn} is ${reserved}; use a private AS such as ${field === 'routerAsn' ? 65000 : 65001} (64512-65534)`);
  }
  if (bgp.routerAsn === bgp.clusterAsn) {
    const why = 'the router and the Cilium nodes peer as external BGP neighbours, as the study does (the router: remote-as external); in one AS the router would not pass one node\'s routes to another (iBGP split horizon) and FRR would refuse the peers as "external"';
    report(['bgp', 'clusterAsn'], `AS ${bgp.clusterAsn} is bgp.routerAsn too; ${why}; use e.g. bgp.clusterAsn=${bgp.routerAsn === 65001 ? 65002 : 65001}`, {
      path: ['bgp', 'routerAsn'],
      message: `AS ${bgp.routerAsn} is bgp.clusterAsn too; ${why}; use e.g. bgp.routerAsn=${bgp.clusterAsn === 65000 ? 64999 : 65000}`,
    });
  }
  if (bgp.keepAliveTimeSeconds > bgp.holdTimeSeconds) {
    // Cilium 1.18's CRD refuses it (CEL: "keepAliveTimeSeconds can not be larger than holdTimeSeconds"); a third of the hold time is usual (RFC 4271, 4.4).
    report(['bgp', 'keepAliveTimeSeconds'], `${bgp.keepAliveTimeSeconds} s is longer than bgp.holdTimeSeconds ${bgp.holdTimeSeconds} s: the session would expire between two keepalives; use at most a third of the hold time (the study: hold 9, keepalive 3)`);
  }
  if (bgp.testSubnetWorkers > config.workers.count) {
    report(['bgp', 'testSubnetWorkers'], `${bgp.testSubnetWorkers} workers behind the router, but the lab has ${config.workers.count} (workers.count); lower bgp.testSubnetWorkers or raise workers.count`);
  }
  const pool = cidrOf(bgp.lbPoolCidr);
  if (pool) {
    const others: readonly [string, string][] = [
      ['kubernetes.podCidr', config.kubernetes.podCidr],
      ['kubernetes.serviceCidr', config.kubernetes.serviceCidr],
      ['network.vpcCidr', config.network.vpcCidr],
    ];
    for (const [field, text] of others) {
      const other = cidrOf(text);
      if (other && cidrsOverlap(pool, other)) {
        report(['bgp', 'lbPoolCidr'], `${formatCidr(pool)} overlaps ${field} ${formatCidr(other)}; LoadBalancer IPs must be a range of their own, or the router's routes to them clash with ${field === 'network.vpcCidr' ? "the VPC's own" : 'the cluster\'s'} (use e.g. 10.20.0.0/24)`);
      }
    }
    if (pool.prefix > 30) {
      report(['bgp', 'lbPoolCidr'], `/${pool.prefix} is too small: the lab's checks take a LoadBalancer IP for their own Service and a study needs a few more; use a /24 to /30`);
    }
  }
  if (bgp.advertisedRanges) {
    const ranges = bgp.advertisedRanges.map(cidrOf).filter((c): c is Ipv4Cidr => c !== undefined);
    const needs: readonly [string, string, string][] = [
      ['kubernetes.podCidr', config.kubernetes.podCidr, "the router would drop the nodes' pod CIDRs (its import filter) and the nodes would not route pod traffic through it"],
      ['bgp.lbPoolCidr', bgp.lbPoolCidr, 'the router would drop the LoadBalancer IPs and testpc would not route to them'],
    ];
    for (const [field, text, why] of needs) {
      const range = cidrOf(text);
      if (range && !ranges.some((r) => cidrContains(r, range))) {
        report(['bgp', 'advertisedRanges'], `${field} ${formatCidr(range)} is covered by none of ${bgp.advertisedRanges.join(', ')}: ${why}; add ${formatCidr(range)}, or leave bgp.advertisedRanges out (it defaults to the pod range and the pool)`);
      }
    }
    const vpc = cidrOf(config.network.vpcCidr);
    for (const range of ranges) {
      if (vpc && cidrsOverlap(range, vpc)) {
        report(['bgp', 'advertisedRanges'], `${formatCidr(range)} overlaps network.vpcCidr ${formatCidr(vpc)}: a route to it via the router would take lab addresses away from the VPC's own routing; keep the advertised ranges outside the VPC`);
      }
    }
  }
}
