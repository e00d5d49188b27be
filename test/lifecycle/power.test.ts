/** `lab stop` / `lab start`: instances from the stack outputs (ctx.target()), EC2 state transitions, SSM agents after a start. */
import type { RunReport } from '../../lib/lab/reporter.js';
import { LabCli } from './cli-harness.js';
import { FakeAccount, type FakeLab } from './fake-account.js';
import type { FakeResponse } from '../aws/fake-ssm-server.js';
import { scriptKind } from '../lab/harness.js';

let account: FakeAccount;
let cli: LabCli;

beforeEach(async () => {
  account = await FakeAccount.start();
  cli = new LabCli(account);
});
afterEach(async () => {
  await account.close();
});

const states = (lab: FakeLab): string[] => lab.instanceIds.map((id) => account.instances.get(id)?.state ?? 'missing');

/** The control plane's answer to the cluster wait (cluster-wait.sh): each Kubernetes node with its Ready condition. */
const clusterAnswer =
  (lab: FakeLab, ready: (node: string) => string = () => 'True', exitCode = 0) =>
  (_instanceId: string, script: string): FakeResponse =>
    scriptKind(script) === 'wait'
      ? { exitCode, stdout: `${lab.plan.instances.filter((n) => n.role !== 'testpc').map((n) => `CILIUM_LAB_NODE ${n.name} ${ready(n.name)}`).join('\n')}\n`, ...(exitCode ? { stderr: 'error: timed out waiting for the condition on nodes/k8s-w2\n' } : {}) }
      : { exitCode: 99, stderr: 'fake node: unexpected script\n' };

describe('lab stop', () => {
  it('stops every instance of the lab and waits until they are stopped; a second stop does nothing', async () => {
    // Given a running lab (3 Kubernetes nodes and the test host)
    const lab = account.addLab('kans-w3');
    await account.startSsm();
    // When it is stopped
    const run = await cli.run(['stop', '-c', 'labName=kans-w3', '--json']);
    // Then one StopInstances named all four instances, and the command returned once all were stopped
    expect(run.code).toBe(0);
    expect(account.mutations()).toEqual([`StopInstances ${lab.instanceIds.join(' ')}`]);
    expect(states(lab)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
    const report = JSON.parse(run.result) as RunReport & { result: { changed: string[] } };
    expect(report.result.changed).toEqual(lab.instanceIds);
    // stopping takes 60 ms in the fake: the phase waited for it
    expect(report.phases.find((p) => p.name === 'stop instances')?.durationMs).toBeGreaterThanOrEqual(50);

    const again = await cli.run(['stop', '-c', 'labName=kans-w3']);
    expect(again.code).toBe(0);
    expect(again.result).toContain('every instance is already stopped; nothing to do');
    expect(account.mutations()).toHaveLength(1);
  });

  it('leaves an instance that is still pending (it cannot be stopped yet), saying so, and stops the others', async () => {
    const lab = account.addLab('kans-w3');
    await account.startSsm();
    const [first, ...rest] = lab.instanceIds;
    (account.instances.get(first as string) as { state: string }).state = 'pending';
    const run = await cli.run(['stop', '-c', 'labName=kans-w3']);
    expect(run.code).toBe(0);
    expect(account.mutations()).toEqual([`StopInstances ${rest.join(' ')}`]);
    expect(states(lab)).toEqual(['pending', 'stopped', 'stopped', 'stopped']);
    expect(run.info.join('\n')).toMatch(new RegExp(`k8s-s \\(${first}\\) still starting \\(pending\\): not stopped now; run lab stop again once it runs`));
  });

  it('fails clearly when the stack does not exist', async () => {
    await account.startSsm();
    const run = await cli.run(['stop', '-c', 'labName=kans-w9']);
    expect(run.code).toBe(1);
    expect(run.result).toMatch(/there is no stack kans-w9/);
    expect(account.mutations()).toEqual([]);
  });
});

describe('lab start', () => {
  it('starts the instances, waits until they run and their SSM agents are Online, and says lab check should pass again', async () => {
    // Given a stopped lab whose agents report ConnectionLost twice after the start, then Online
    const lab = account.addLab('kans-w3', { instanceState: 'stopped' });
    for (const id of lab.instanceIds) account.pings.set(id, ['ConnectionLost', 'ConnectionLost', 'Online']);
    const ssm = await account.startSsm(clusterAnswer(lab));
    // When it is started
    const run = await cli.run(['start', '-c', 'labName=kans-w3']);
    // Then the instances run and the agents were polled until Online
    expect(run.code).toBe(0);
    expect(account.mutations()).toEqual([`StartInstances ${lab.instanceIds.join(' ')}`]);
    expect(states(lab)).toEqual(['running', 'running', 'running', 'running']);
    expect(ssm.calls.filter((c) => c.operation === 'DescribeInstanceInformation').length).toBeGreaterThanOrEqual(3);
    expect(run.result).toContain('lab check should pass again');
    expect(run.result).toContain('the NIC MTU persists through netplan');
    expect(run.result).toContain('keeps its Elastic IP 203.0.113.10');
  });

  it('waits until the cluster is back, and fails naming the node that is not Ready', async () => {
    const lab = account.addLab('kans-w3', { instanceState: 'stopped' });
    const ssm = await account.startSsm(clusterAnswer(lab, (node) => (node === 'k8s-w2' ? 'False' : 'True'), 1));
    const run = await cli.run(['start', '-c', 'labName=kans-w3', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.result) as RunReport;
    expect(report.phases.find((p) => p.name === 'cluster back')?.status).toBe('failed');
    expect(report.error).toMatch(/1 of 3 node\(s\) not Ready \(k8s-w2\)[\s\S]*the instances run again, but the cluster is not back/);
    // the wait ran on the control plane only
    const sends = ssm.calls.filter((c) => c.operation === 'SendCommand');
    expect(sends.map((c) => c.body['InstanceIds'])).toEqual([[lab.instanceIds[0]]]);
  });

  it('with --no-cluster-wait stops at the SSM agents (a lab without Cilium yet)', async () => {
    const lab = account.addLab('kans-w3', { instanceState: 'stopped' });
    const ssm = await account.startSsm(clusterAnswer(lab, () => 'False', 1));
    const run = await cli.run(['start', '-c', 'labName=kans-w3', '--no-cluster-wait']);
    expect(run.code).toBe(0);
    expect(ssm.calls.filter((c) => c.operation === 'SendCommand')).toEqual([]);
  });

  it('lets an instance that is still stopping finish before starting it', async () => {
    const lab = account.addLab('kans-w3', { instanceState: 'stopped' });
    const stopping = account.instances.get(lab.instanceIds[2] as string);
    if (stopping) {
      stopping.state = 'stopping';
      stopping.transition = { to: 'stopped', at: Date.now() + 100 };
    }
    await account.startSsm(clusterAnswer(lab));
    const run = await cli.run(['start', '-c', 'labName=kans-w3']);
    expect(run.code).toBe(0);
    expect(account.ec2.calls.filter((c) => c.errorCode === 'IncorrectInstanceState')).toEqual([]);
    expect(states(lab)).toEqual(['running', 'running', 'running', 'running']);
  });

  it('fails naming the node whose agent never comes Online', async () => {
    const lab = account.addLab('kans-w3', { instanceState: 'stopped' });
    account.pings.set(lab.instanceIds[1] as string, ['ConnectionLost']);
    await account.startSsm();
    const run = await cli.run(['start', '-c', 'labName=kans-w3']);
    expect(run.code).toBe(1);
    expect(run.result).toContain(`k8s-w1 (${lab.instanceIds[1]}): ConnectionLost`);
  });
});
