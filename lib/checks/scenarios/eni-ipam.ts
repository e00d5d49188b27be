/**
 * Profile eni: Cilium's ENI IPAM gave the pods VPC addresses. Every test pod's address is in the
 * node subnet and inside cilium-config's native-routing CIDR (so the VPC routes it and nothing
 * between pods is masqueraded); every node's CiliumNode lists its ENIs (status.eni.enis) in that
 * subnet and VPC, and each pod's address is a secondary address of one of its own node's ENIs;
 * each node's pod capacity is the lab's figure for its instance type (lib/config/eni-ipam.ts).
 * https://docs.cilium.io/en/stable/network/concepts/ipam/eni/
 */
import { cidrContainsAddress, parseCidr, parseIpv4, type Ipv4Cidr } from '../../config/cidr.js';
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { KUBE_SYSTEM } from '../helpers.js';
import type { Scenario } from '../types.js';

const cidrOf = (text: string | undefined): Ipv4Cidr | undefined => {
  if (text === undefined) return undefined;
  const c = parseCidr(text);
  return typeof c === 'string' ? undefined : c;
};
const inside = (cidr: Ipv4Cidr | undefined, ip: string | undefined): boolean => {
  const address = parseIpv4(ip ?? '');
  return cidr !== undefined && address !== undefined && cidrContainsAddress(cidr, address);
};

export const eniIpam: Scenario<DatapathPods> = {
  name: 'eni-ipam',
  proves: "Cilium's ENI IPAM gave the pods VPC addresses on ENIs its operator attached, routed without SNAT, and each node holds as many pods as its ENIs allow",
  expectations: [EXPECT.eniPodsInSubnet, EXPECT.eniPodsNotMasqueraded, EXPECT.eniCiliumNodeEnis, EXPECT.eniPodCapacity],
  async run(run) {
    const eni = run.env.lab.eni;
    if (!eni) return run.skip('the lab does not use ENI IPAM (profile=eni)');
    const subnet = cidrOf(eni.nodeSubnetCidr);
    const { netpod, webpods, hostport, hostclient } = run.fixture;
    const pods = [netpod, ...webpods, hostport, hostclient];

    const outside = pods.filter((p) => !inside(subnet, p.podIp)).map((p) => `${p.name} ${p.podIp ?? '?'}`);
    run.expect(EXPECT.eniPodsInSubnet, outside.length === 0, outside.length === 0 ? `${pods.map((p) => `${p.name} ${p.podIp}`).join(', ')} in ${eni.nodeSubnetCidr}` : `not in ${eni.nodeSubnetCidr}: ${outside.join(', ')}`);

    const config = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'cilium-config');
    const native = config?.data['ipv4-native-routing-cidr'];
    const masqueraded = pods.filter((p) => !inside(cidrOf(native), p.podIp)).map((p) => `${p.name} ${p.podIp ?? '?'}`);
    run.expect(
      EXPECT.eniPodsNotMasqueraded,
      native !== undefined && masqueraded.length === 0,
      native === undefined ? 'cilium-config has no ipv4-native-routing-cidr' : masqueraded.length === 0 ? `cilium-config ipv4-native-routing-cidr=${native} holds every test pod` : `outside ipv4-native-routing-cidr=${native}: ${masqueraded.join(', ')}`,
    );

    const ciliumNodes = await run.env.kube.listCiliumNodes();
    run.record(
      'list ciliumnodes.cilium.io (status.eni.enis)',
      ciliumNodes.map((n) => `${n.name}: ${n.enis.map((e) => `${e.id} ${e.subnetCidr ?? '?'} [${e.addresses.join(' ')}]`).join('; ') || '(no ENIs)'}`).join('\n') || '(none)',
    );
    const problems: string[] = [];
    for (const node of run.env.lab.nodes) {
      const cn = ciliumNodes.find((n) => n.name === node.name);
      if (!cn || cn.enis.length === 0) {
        problems.push(`${node.name}: ${cn ? 'no ENIs in status.eni.enis' : 'no CiliumNode'}`);
        continue;
      }
      for (const e of cn.enis) {
        if (e.subnetCidr !== eni.nodeSubnetCidr) problems.push(`${node.name}: ${e.id} is in subnet ${e.subnetCidr ?? '?'}, not ${eni.nodeSubnetCidr}`);
        if (e.vpcPrimaryCidr !== undefined && e.vpcPrimaryCidr !== eni.vpcCidr) problems.push(`${node.name}: ${e.id} is in a VPC of ${e.vpcPrimaryCidr}, not the lab's ${eni.vpcCidr}`);
      }
      for (const pod of pods.filter((p) => p.nodeName === node.name)) {
        if (!cn.enis.some((e) => e.addresses.includes(pod.podIp ?? ''))) problems.push(`${pod.name} ${pod.podIp ?? '?'} is on none of ${node.name}'s ENIs`);
      }
    }
    run.expect(
      EXPECT.eniCiliumNodeEnis,
      problems.length === 0,
      problems.length === 0 ? ciliumNodes.filter((n) => run.env.lab.nodes.some((l) => l.name === n.name)).map((n) => `${n.name} ${n.enis.length} ENI(s)`).join(', ') : problems.join('; '),
    );

    const nodes = await run.env.kube.listNodes();
    const capacity = run.env.lab.nodes.map((node) => {
      const want = eni.maxPods[node.role];
      const got = nodes.find((n) => n.name === node.name)?.podCapacity;
      return { node: node.name, want, got, ok: got === want };
    });
    run.expect(
      EXPECT.eniPodCapacity,
      capacity.every((c) => c.ok),
      capacity.map((c) => (c.ok ? `${c.node} ${c.got}` : `${c.node} ${c.got ?? '?'}, want ${c.want}`)).join(', '),
    );
  },
};
