/**
 * `lab preflight`: the pure judges, one test per refused fact (and the accepted look-alikes),
 * then the command end to end on fakes of EC2, SSM and CloudFormation, where each refusal must
 * name the node, the fact found and the fact needed.
 */
import {
  datapathNeeds,
  formatFinding,
  judgeAgent,
  judgeFactsRun,
  judgeImage,
  judgeInstance,
  judgeInstanceType,
  judgeNodeFacts,
  type DatapathNeeds,
  type NodeFacts,
} from '../../lib/lab/preflight.js';
import type { NodeRunResult } from '../../lib/lab/remote-runner.js';
import { FakeLab, factsLine } from './harness.js';

const XDP_116: DatapathNeeds = { ciliumVersion: '1.16.3', minKernel: '5.4', bpfHostRouting: true, netkit: false, xdp: 'native' };
const facts = (over: Partial<NodeFacts> = {}): NodeFacts => ({ kernel: '6.8.0-1021-aws', interface: 'ens5', driver: 'ena', driverVersion: '6.8.0-1021-aws', mtu: 9001, ...over });
const lines = (findings: ReturnType<typeof judgeNodeFacts>) => findings.map(formatFinding);

describe('datapathNeeds', () => {
  it('reads BPF host routing, netkit and XDP from the values, the kernel minimum from the Cilium minor', () => {
    expect(datapathNeeds('1.18.12', { bpf: { hostLegacyRouting: false, datapathMode: 'netkit' }, loadBalancer: { acceleration: 'native' } })).toEqual({
      ciliumVersion: '1.18.12',
      minKernel: '5.10',
      bpfHostRouting: true,
      netkit: true,
      xdp: 'native',
    });
  });

  it('asks for nothing extra when the values leave those unset', () => {
    expect(datapathNeeds('1.16.3', { debug: { enabled: true } })).toEqual({ ciliumVersion: '1.16.3', minKernel: '5.4', bpfHostRouting: false, netkit: false, xdp: undefined });
  });
});

describe('judgeInstanceType', () => {
  it('refuses a Xen type, naming the type, its nodes, the hypervisor found and nitro', () => {
    expect(judgeInstanceType('t3.xlarge', { instanceType: 't3.xlarge', hypervisor: 'xen', enaSupport: 'required' }, ['k8s-s', 'k8s-w1']).map(formatFinding)).toEqual([
      'instance type t3.xlarge (k8s-s, k8s-w1): the hypervisor is xen; needs nitro: XDP on the ENA driver needs a Nitro instance type (t3, m5 and later)',
    ]);
  });

  it('refuses EnaSupport unsupported', () => {
    expect(judgeInstanceType('m5.large', { instanceType: 'm5.large', hypervisor: 'nitro', enaSupport: 'unsupported' }, ['k8s-w1']).map(formatFinding)).toEqual([
      'instance type m5.large (k8s-w1): NetworkInfo.EnaSupport is unsupported; needs supported or required (the lab datapath runs on ENA)',
    ]);
  });

  it('refuses a type EC2 does not know', () => {
    expect(judgeInstanceType('t9.huge', undefined, ['k8s-s'])[0]).toMatchObject({ found: 'unknown to DescribeInstanceTypes in this region' });
  });

  it('accepts Nitro with ENA supported, and bare metal (no hypervisor)', () => {
    expect(judgeInstanceType('c6i.xlarge', { instanceType: 'c6i.xlarge', hypervisor: 'nitro', enaSupport: 'supported' }, ['k8s-s'])).toEqual([]);
    expect(judgeInstanceType('c6i.metal', { instanceType: 'c6i.metal', bareMetal: true, enaSupport: 'required' }, ['k8s-s'])).toEqual([]);
  });
});

describe('judgeInstance, judgeImage, judgeAgent', () => {
  it('refuses a stopped instance', () => {
    expect(judgeInstance('k8s-w2', 'i-03', { instanceId: 'i-03', state: 'stopped' }).map(formatFinding)).toEqual([
      'k8s-w2: the state of i-03 is stopped; needs running (start it: aws ec2 start-instances)',
    ]);
  });

  it('refuses an instance EC2 does not know', () => {
    expect(judgeInstance('k8s-w2', 'i-03', undefined)[0]).toMatchObject({ subject: 'k8s-w2', found: 'not found by DescribeInstances' });
  });

  it('refuses an AMI without EnaSupport, and leaves a deregistered one unjudged', () => {
    expect(judgeImage('k8s-s', { imageId: 'ami-1', name: 'custom', enaSupport: false }).map(formatFinding)).toEqual([
      'k8s-s: EnaSupport of its AMI ami-1 (custom) is false; needs true (an ENA-enabled AMI such as Canonical Ubuntu)',
    ]);
    expect(judgeImage('k8s-s', undefined)).toEqual([]);
    expect(judgeImage('k8s-s', { imageId: 'ami-1', enaSupport: true })).toEqual([]);
  });

  it('refuses an agent that is not Online, with its last status', () => {
    expect(judgeAgent('k8s-w1', 'i-02', 'ConnectionLost').map(formatFinding)).toEqual([
      'k8s-w1: the SSM agent of i-02 is ConnectionLost; needs Online (DescribeInstanceInformation PingStatus); the lab runs everything on the nodes through SSM Run Command',
    ]);
    expect(judgeAgent('k8s-w1', 'i-02', undefined)).toEqual([]);
  });
});

describe('judgeNodeFacts', () => {
  it('accepts the study node: kernel 6.8 aws with the in-tree ENA driver (version = kernel release)', () => {
    expect(judgeNodeFacts('k8s-s', facts(), XDP_116)).toEqual([]);
  });

  it('refuses a kernel below the Cilium minor minimum', () => {
    expect(lines(judgeNodeFacts('k8s-w1', facts({ kernel: '5.4.0-1103-aws', driverVersion: '5.4.0-1103-aws' }), { ...XDP_116, ciliumVersion: '1.18.12', minKernel: '5.10', bpfHostRouting: false }))).toEqual([
      "k8s-w1: the kernel is 5.4.0-1103-aws; needs >= 5.10 for cilium 1.18's minimum kernel",
    ]);
  });

  it('refuses a kernel below 5.10 when BPF host routing is asked for', () => {
    expect(lines(judgeNodeFacts('k8s-w1', facts({ kernel: '5.4.0-1103-aws', driverVersion: '5.4.0-1103-aws' }), XDP_116))).toEqual([
      'k8s-w1: the kernel is 5.4.0-1103-aws; needs >= 5.10 for BPF host routing (bpf.hostLegacyRouting: false)',
    ]);
  });

  it('refuses a kernel below 6.8 when netkit is asked for', () => {
    expect(lines(judgeNodeFacts('k8s-s', facts({ kernel: '6.5.0-1024-aws', driverVersion: '6.5.0-1024-aws' }), { ...XDP_116, netkit: true }))).toEqual([
      'k8s-s: the kernel is 6.5.0-1024-aws; needs >= 6.8 for netkit devices (bpf.datapathMode: netkit)',
    ]);
  });

  it('refuses an amzn-drivers ENA older than 2.2.8 when XDP is wanted, and accepts it without XDP', () => {
    const old = facts({ driverVersion: '2.1.0K' });
    expect(lines(judgeNodeFacts('k8s-w2', old, XDP_116))).toEqual([
      'k8s-w2: the ENA driver of ens5 is 2.1.0K; needs the ENA driver >= 2.2.8 (or the in-tree driver of Linux >= 5.7) for XDP (loadBalancer.acceleration: native); or install without XDP (--no-xdp)',
    ]);
    expect(judgeNodeFacts('k8s-w2', old, { ...XDP_116, xdp: undefined })).toEqual([]);
  });

  it('accepts amzn-drivers ENA 2.13.0g (a letter suffix) and 2.2.8 itself', () => {
    expect(judgeNodeFacts('k8s-s', facts({ driverVersion: '2.13.0g' }), XDP_116)).toEqual([]);
    expect(judgeNodeFacts('k8s-s', facts({ driverVersion: '2.2.8' }), XDP_116)).toEqual([]);
  });

  it('refuses a NIC that is not ENA, and an unreadable ENA version, when XDP is wanted', () => {
    expect(judgeNodeFacts('k8s-s', facts({ driver: 'virtio_net', driverVersion: '1.0.0' }), XDP_116)[0]).toMatchObject({ subject: 'k8s-s', fact: 'the driver of ens5', found: 'virtio_net' });
    expect(judgeNodeFacts('k8s-s', facts({ driverVersion: '' }), XDP_116)[0]).toMatchObject({ fact: 'the ENA driver version of ens5', found: 'unreadable ("")' });
  });

  it('refuses facts that could not be gathered', () => {
    const result = { name: 'k8s-w1', instanceId: 'i-02', commandId: 'c', status: 'Failed', exitCode: 4, stdout: '', stderr: 'ERROR: no NIC to read\n', stdoutTruncated: false, stderrTruncated: false, durationMs: 5, deadlineExceeded: false, note: '' } satisfies NodeRunResult;
    expect(judgeFactsRun(result).map(formatFinding)).toEqual([
      'k8s-w1: the kernel and NIC report is unknown: node-facts.sh ended Failed (exit code 4): ERROR: no NIC to read; needs node-facts.sh to run over SSM and report them',
    ]);
  });
});

describe('lab preflight against fakes of EC2, SSM and CloudFormation', () => {
  let lab: FakeLab | undefined;
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  it('passes the healthy study lab and reports each node', async () => {
    lab = await FakeLab.start();
    const run = await lab.run(['preflight']);
    expect(run.code).toBe(0);
    expect(run.result).toMatch(/^preflight ok: 3 Kubernetes node\(s\)/);
    expect(run.result).toMatch(/k8s-w2\s+t3\.xlarge\s+ami-0123456789abcdef0\s+kernel 6\.8\.0-1021-aws\s+ens5 ena 6\.8\.0-1021-aws/);
    // The facts script went to the three Kubernetes nodes, not to the test host
    const send = lab.ssm.callsTo('SendCommand')[0];
    expect(send?.body['InstanceIds']).toEqual(['k8s-s', 'k8s-w1', 'k8s-w2'].map((n) => lab?.instanceId(n)));
  });

  it('refuses a type EC2 reports as Xen', async () => {
    lab = await FakeLab.start({ ec2: { types: { 't3.xlarge': { hypervisor: 'xen' } } } });
    const run = await lab.run(['preflight']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('instance type t3.xlarge (k8s-s, k8s-w1, k8s-w2): the hypervisor is xen; needs nitro');
  });

  it('refuses EnaSupport unsupported', async () => {
    lab = await FakeLab.start({ ec2: { types: { 't3.xlarge': { enaSupport: 'unsupported' } } } });
    const run = await lab.run(['preflight']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('instance type t3.xlarge (k8s-s, k8s-w1, k8s-w2): NetworkInfo.EnaSupport is unsupported; needs supported or required');
  });

  it('refuses a node whose SSM agent is offline, and asks only the others for their facts', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-w1': { ping: ['ConnectionLost'] } } });
    const run = await lab.run(['preflight']);
    expect(run.code).toBe(1);
    expect(run.result).toContain(`k8s-w1: the SSM agent of ${lab.instanceId('k8s-w1')} is ConnectionLost; needs Online`);
    expect(lab.ssm.callsTo('SendCommand')[0]?.body['InstanceIds']).toEqual([lab.instanceId('k8s-s'), lab.instanceId('k8s-w2')]);
  });

  it('refuses an old kernel on one node, naming it, the release found and the minimum', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-w2': { answers: { facts: { stdout: `${factsLine({ kernel: '5.4.0-1103-aws', driverVersion: '5.4.0-1103-aws' })}\n` } } } } });
    const run = await lab.run(['preflight']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('k8s-w2: the kernel is 5.4.0-1103-aws; needs >= 5.10 for BPF host routing (bpf.hostLegacyRouting: false)');
    expect(run.result).not.toMatch(/k8s-w1: the kernel/);
  });

  it('refuses an old ENA driver while XDP is wanted, and lets it pass with --no-xdp', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-w1': { answers: { facts: { stdout: `${factsLine({ driverVersion: '2.1.0K' })}\n` } } } } });
    const refused = await lab.run(['preflight']);
    expect(refused.code).toBe(1);
    expect(refused.result).toContain('k8s-w1: the ENA driver of ens5 is 2.1.0K; needs the ENA driver >= 2.2.8');
    const withoutXdp = await lab.run(['preflight', '--no-xdp']);
    expect(withoutXdp.code).toBe(0);
  });

  it('lists every refusal at once, EC2 and node facts alike', async () => {
    lab = await FakeLab.start({
      ec2: { amiEnaSupport: false },
      nodes: { 'k8s-s': { answers: { facts: { stdout: `${factsLine({ kernel: '5.4.0-1103-aws', driverVersion: '5.4.0-1103-aws' })}\n` } } } },
    });
    const run = await lab.run(['preflight']);
    expect(run.code).toBe(1);
    expect(run.result).toMatch(/refused 4 fact\(s\)/);
    expect(run.result).toContain('k8s-w2: EnaSupport of its AMI ami-0123456789abcdef0');
    expect(run.result).toContain('k8s-s: the kernel is 5.4.0-1103-aws');
  });
});
