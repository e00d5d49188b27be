/**
 * `lab up`: preflight, tune, cilium and wait as timed phases, in that order, stopping at the first
 * failure with its reason and the phase table; through the CLI on fakes of EC2, SSM and
 * CloudFormation.
 */
import { FakeLab, applyManifestsForReal, factsLine } from './harness.js';

let lab: FakeLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** The phase table's rows: name and result. */
const phaseRows = (text: string): string[][] =>
  text
    .split('\n')
    .map((line) => /^(preflight|tune|cilium|wait)\s+(ok|failed|skipped)\b/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] as string, m[2] as string]);

describe('lab up', () => {
  it("applies a bgp lab's BGP resources after Cilium, on the control plane only (the real apply-manifests.sh against a kubectl stand-in), and again on a re-run", async () => {
    lab = await FakeLab.start({ deployed: { profile: 'bgp' } });
    for (let round = 1; round <= 2; round++) {
      const run = await lab.run(['up', '--json']);
      expect(run.code).toBe(0);
      const report = JSON.parse(run.result) as { phases: { name: string; status: string; detail?: string }[] };
      expect(report.phases.map((p) => [p.name, p.status])).toEqual([['preflight', 'ok'], ['tune', 'ok'], ['cilium', 'ok'], ['resources', 'ok'], ['wait', 'ok']]);
      expect(report.phases.find((p) => p.name === 'resources')?.detail).toBe('5 object(s) applied server-side');
    }
    const sends = lab.ssm.callsTo('SendCommand');
    const kinds = lab.scriptKinds();
    const manifests = sends.filter((_, i) => kinds[i] === 'manifests');
    expect(manifests.map((c) => (c.body['InstanceIds'] as string[]).join(','))).toEqual([lab.instanceId('k8s-s'), lab.instanceId('k8s-s')]);
    // the router and testpc run none of the Kubernetes phases
    const routerId = lab.instanceId('router');
    expect(lab.ssm.callsTo('SendCommand').filter((c) => (c.body['InstanceIds'] as string[]).includes(routerId))).toEqual([]);
  });

  it("stops a bgp lab's up at the resources phase, naming both versions, when the installed Cilium serves another", async () => {
    lab = await FakeLab.start({ deployed: { profile: 'bgp', 'cilium.version': '1.18.12' }, nodes: { 'k8s-s': { answers: { manifests: applyManifestsForReal('v2alpha1') } } } });
    const run = await lab.run(['up']);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/ciliumbgpclusterconfigs\.cilium\.io on k8s-s serves v2alpha1, not v2, which the lab renders for Cilium 1\.18\.12/);
    expect(run.all).toMatch(/^wait\s+skipped/m);
  });

  it('runs preflight, tune, cilium and wait in order and prints the phase table', async () => {
    lab = await FakeLab.start();
    const run = await lab.run(['up']);
    expect(run.code).toBe(0);
    // The nodes received the scripts in phase order (the restart check follows the tune: NICs changed)
    expect(lab.scriptKinds()).toEqual(['facts', 'tune', 'restart', 'install', 'wait']);
    expect(run.info.filter((l) => l.startsWith('▶')).map((l) => l.slice(2))).toEqual(['preflight', 'tune', 'cilium', 'wait']);
    expect(phaseRows(run.result)).toEqual([
      ['preflight', 'ok'],
      ['tune', 'ok'],
      ['cilium', 'ok'],
      ['wait', 'ok'],
    ]);
    expect(run.result).toContain('Lab cilium-lab is up: Cilium 1.16.3 on 3 Ready node(s).');
    // EC2 was asked before SSM ran anything
    expect(lab.ec2.callsTo('DescribeInstanceTypes')).toHaveLength(1);
  });

  it('stops at a failing tune: no Helm install, no wait, both shown as skipped', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-w1': { answers: { tune: { exitCode: 5, stderr: 'ERROR: ens5 has MTU 9001 after setting 3498\n' } } } } });
    const run = await lab.run(['up']);
    expect(run.code).toBe(1);
    expect(lab.scriptKinds()).toEqual(['facts', 'tune']);
    expect(phaseRows(run.all)).toEqual([
      ['preflight', 'ok'],
      ['tune', 'failed'],
      ['cilium', 'skipped'],
      ['wait', 'skipped'],
    ]);
    expect(run.result).toMatch(/^lab up failed: .*the NIC of 1 of 3 node\(s\) is not tuned \(k8s-w1\)/);
    expect(run.result).toContain('ens5 has MTU 9001 after setting 3498');
  });

  it('stops at a failing preflight before touching any NIC', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { facts: { stdout: `${factsLine({ kernel: '5.4.0-1103-aws', driverVersion: '5.4.0-1103-aws' })}\n` } } } } });
    const run = await lab.run(['up']);
    expect(run.code).toBe(1);
    expect(lab.scriptKinds()).toEqual(['facts']);
    expect(phaseRows(run.all)).toEqual([
      ['preflight', 'failed'],
      ['tune', 'skipped'],
      ['cilium', 'skipped'],
      ['wait', 'skipped'],
    ]);
    expect(run.result).toContain('k8s-s: the kernel is 5.4.0-1103-aws; needs >= 5.10');
  });

  it('stops at a failing wait with the node that is not Ready', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { wait: { exitCode: 1, stdout: 'CILIUM_LAB_NODE k8s-s True\nCILIUM_LAB_NODE k8s-w1 True\nCILIUM_LAB_NODE k8s-w2 False\n', stderr: 'timed out waiting for the condition on nodes/k8s-w2\n' } } } } });
    const run = await lab.run(['up']);
    expect(run.code).toBe(1);
    expect(phaseRows(run.all).map(([, r]) => r)).toEqual(['ok', 'ok', 'ok', 'failed']);
    expect(run.result).toMatch(/1 of 3 node\(s\) not Ready \(k8s-w2\)/);
  });

  it('tunes without XDP and installs without xdp.yaml with --no-xdp', async () => {
    lab = await FakeLab.start();
    const run = await lab.run(['up', '--no-xdp', '--mtu', '9001']);
    expect(run.code).toBe(0);
    const [, tune, , install] = lab.ssm.scriptsSent();
    expect(tune).toContain("LAB_NIC_MTU='9001'\nLAB_NIC_XDP='false'");
    const b64 = /^readonly LAB_VALUES_B64='([^']+)'$/m.exec(install ?? '')?.[1] ?? '';
    expect(Buffer.from(b64, 'base64').toString('utf8')).not.toContain('acceleration');
  });

  it('reports the phase timings as JSON with --json', async () => {
    lab = await FakeLab.start();
    const run = await lab.run(['up', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.result) as { ok: boolean; phases: { name: string; status: string; durationMs: number }[] };
    expect(report.ok).toBe(true);
    expect(report.phases.map((p) => [p.name, p.status])).toEqual([
      ['preflight', 'ok'],
      ['tune', 'ok'],
      ['cilium', 'ok'],
      // The study profile has no resources of its own to apply (profile bgp has: test/lab/bgp-up.test.ts).
      ['resources', 'skipped'],
      ['wait', 'ok'],
    ]);
    expect(report.phases.every((p) => p.durationMs >= 0)).toBe(true);
  });
});
