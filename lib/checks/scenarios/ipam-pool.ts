/**
 * Profile cluster-pool: Cilium's operator carved the pools into node blocks and the pods live in
 * them. Every Kubernetes node has a CiliumNode whose spec.ipam.podCIDRs are /maskSize blocks
 * inside clusterPool.cidrs, no two nodes share a block, and each test pod's IP is inside its own
 * node's blocks (the agent allocated it there, not from Kubernetes' node podCIDR).
 * https://docs.cilium.io/en/stable/network/concepts/ipam/cluster-pool/
 */
import { cidrContains, cidrContainsAddress, cidrsOverlap, parseCidr, parseIpv4, type Ipv4Cidr } from '../../config/cidr.js';
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import type { Scenario } from '../types.js';

const cidrOf = (text: string): Ipv4Cidr | undefined => {
  const c = parseCidr(text);
  return typeof c === 'string' ? undefined : c;
};

export const ipamPool: Scenario<DatapathPods> = {
  name: 'ipam-pool',
  proves: "Cilium's cluster-pool IPAM gave every node its own block of the lab's pools, and pods get their addresses from their node's block",
  expectations: [EXPECT.ipamPoolBlocks, EXPECT.ipamPodsInBlocks],
  async run(run) {
    const pool = run.env.lab.clusterPool;
    if (!pool) return run.skip('the lab does not use cluster-pool IPAM (profile=cluster-pool)');
    const pools = pool.cidrs.map(cidrOf).filter((c): c is Ipv4Cidr => c !== undefined);
    const ciliumNodes = await run.env.kube.listCiliumNodes();
    run.record('list ciliumnodes.cilium.io (spec.ipam.podCIDRs)', ciliumNodes.map((n) => `${n.name}: ${n.podCidrs.join(', ') || '(none)'}`).join('\n') || '(none)');
    const problems: string[] = [];
    const blocks: { node: string; cidr: Ipv4Cidr; text: string }[] = [];
    for (const node of run.env.lab.nodes) {
      const cn = ciliumNodes.find((n) => n.name === node.name);
      if (!cn || cn.podCidrs.length === 0) {
        problems.push(`${node.name}: ${cn ? 'no spec.ipam.podCIDRs' : 'no CiliumNode'}`);
        continue;
      }
      for (const text of cn.podCidrs) {
        const cidr = cidrOf(text);
        if (!cidr) problems.push(`${node.name}: ${text} is not a CIDR`);
        else if (cidr.prefix !== pool.maskSize) problems.push(`${node.name}: ${text} is not a /${pool.maskSize} block (clusterPool.maskSize)`);
        else if (!pools.some((p) => cidrContains(p, cidr))) problems.push(`${node.name}: ${text} is outside clusterPool.cidrs ${pool.cidrs.join(', ')}`);
        else {
          const shared = blocks.find((b) => cidrsOverlap(b.cidr, cidr));
          if (shared) problems.push(`${node.name}: ${text} overlaps ${shared.node}'s ${shared.text}`);
          blocks.push({ node: node.name, cidr, text });
        }
      }
    }
    run.expect(
      EXPECT.ipamPoolBlocks,
      problems.length === 0,
      problems.length === 0 ? blocks.map((b) => `${b.node} ${b.text}`).join(', ') : problems.join('; '),
    );
    const { netpod, webpods, hostport, hostclient } = run.fixture;
    const outside = [netpod, ...webpods, hostport, hostclient].flatMap((pod) => {
      const address = parseIpv4(pod.podIp ?? '');
      const own = blocks.filter((b) => b.node === pod.nodeName);
      return address !== undefined && own.some((b) => cidrContainsAddress(b.cidr, address)) ? [] : [`${pod.name} ${pod.podIp ?? '?'} on ${pod.nodeName}, not in ${own.map((b) => b.text).join(', ') || 'any block'}`];
    });
    run.expect(EXPECT.ipamPodsInBlocks, outside.length === 0, outside.length === 0 ? 'every test pod has an address of its node\'s block' : outside.join('; '));
  },
};
