/**
 * Profile eni: Cilium's ENI IPAM gave the pods VPC addresses. Every test pod's address is in the
 * node subnet; testpc, a VPC host outside the cluster, reaches the webpods at those addresses
 * directly (scripts/node/nodeport-probe.sh aimed at pod IPs: only the VPC's routing makes that
 * work, a pod CIDR of an overlay or of Kubernetes IPAM is unknown to it); every node's CiliumNode
 * lists its ENIs (status.eni.enis) in that subnet and VPC, and each pod's address is a secondary
 * address of one of its own node's ENIs; each node's pod capacity is the lab's figure for its
 * instance type (lib/config/eni-ipam.ts): the boot's max-pods reached the kubelet.
 * https://docs.cilium.io/en/stable/network/concepts/ipam/eni/
 */
import { cidrContainsAddress, parseCidr, parseIpv4, type Ipv4Cidr } from '../../config/cidr.js';
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { remoteRecorded } from '../helpers.js';
import type { Scenario, ScenarioRun } from '../types.js';
import { nodePortProbeScript, parseNodePortAnswers } from './nodeport.js';

/** The probe's "service" name for webpods called at their pod address on their own port. */
export const POD_DIRECT = 'pod-direct';
const WEBPOD_PORT = 80;

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
  proves: "Cilium's ENI IPAM gave the pods VPC addresses on ENIs its operator attached, which the VPC itself routes (testpc reaches them), and each node holds as many pods as its ENIs allow",
  expectations: [EXPECT.eniPodsInSubnet, EXPECT.eniTestpcReachesPods, EXPECT.eniCiliumNodeEnis, EXPECT.eniPodCapacity],
  async run(run) {
    const eni = run.env.lab.eni;
    if (!eni) return run.skip('the lab does not use ENI IPAM (profile=eni)');
    const subnet = cidrOf(eni.nodeSubnetCidr);
    const { netpod, webpods, hostport, hostclient } = run.fixture;
    const pods = [netpod, ...webpods, hostport, hostclient];

    const outside = pods.filter((p) => !inside(subnet, p.podIp)).map((p) => `${p.name} ${p.podIp ?? '?'}`);
    run.expect(EXPECT.eniPodsInSubnet, outside.length === 0, outside.length === 0 ? `${pods.map((p) => `${p.name} ${p.podIp}`).join(', ')} in ${eni.nodeSubnetCidr}` : `not in ${eni.nodeSubnetCidr}: ${outside.join(', ')}`);

    const testpc = run.env.lab.testpc;
    if (!testpc) {
      run.expect(EXPECT.eniTestpcReachesPods, true, 'not judged: the lab has no testpc (testpc.enabled=false)');
    } else {
      const targets = webpods.map((p) => ({ name: p.name, privateIp: p.podIp ?? '' }));
      const [result] = await remoteRecorded(run as ScenarioRun<unknown>, `curl ${webpods.map((p) => `${p.podIp}:${WEBPOD_PORT}`).join(' ')} from ${testpc.name}`, [testpc], nodePortProbeScript(targets, { [POD_DIRECT]: WEBPOD_PORT }));
      const answers = parseNodePortAnswers(result?.stdout ?? '');
      const misses = webpods.flatMap((p) => {
        const a = answers.find((x) => x.node === p.name);
        const own = a?.answers[p.name] ?? 0;
        return a && own === a.requests ? [] : [`${p.name} ${p.podIp}: ${a ? `${own} of ${a.requests} answered by it${a.error ? ` (${a.error})` : ''}` : `no answer line from ${testpc.name} (exit ${result?.exitCode ?? '?'})`}`];
      });
      run.expect(
        EXPECT.eniTestpcReachesPods,
        misses.length === 0,
        misses.length === 0 ? `${testpc.name} reached ${webpods.map((p) => `${p.name} at ${p.podIp}`).join(' and ')} directly` : misses.join('; '),
      );
    }

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
