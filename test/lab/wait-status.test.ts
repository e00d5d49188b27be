/** `lab wait` and `lab status` through the CLI on fakes of EC2, SSM and CloudFormation. */
import { FakeLab, scriptKind } from './harness.js';

let lab: FakeLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

describe('lab wait', () => {
  it('reports every configured node Ready', async () => {
    lab = await FakeLab.start();
    const run = await lab.run(['wait']);
    expect(run.code).toBe(0);
    expect(run.result).toBe('Cilium is up and all 3 node(s) are Ready:\n  k8s-s   Ready\n  k8s-w1  Ready\n  k8s-w2  Ready');
    const script = lab.ssm.scriptsSent(lab.instanceId('k8s-s'))[0] ?? '';
    expect(scriptKind(script)).toBe('wait');
    expect(script).toContain('cilium status --wait --wait-duration "$LAB_WAIT_DURATION"');
    expect(script).toContain('kubectl wait --for=condition=Ready node --all --timeout="$LAB_WAIT_DURATION"');
  });

  it('names a node that never joined and one that is not Ready', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { wait: { exitCode: 1, stdout: 'CILIUM_LAB_NODE k8s-s True\nCILIUM_LAB_NODE k8s-w1 False\n', stderr: 'error: timed out waiting for the condition on nodes/k8s-w1\n' } } } } });
    const run = await lab.run(['wait']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('2 of 3 node(s) not Ready (k8s-w1, k8s-w2)');
    expect(run.result).toContain('k8s-w1  NOT READY (Ready=False)');
    expect(run.result).toContain('k8s-w2  NOT IN THE CLUSTER (it never joined)');
    expect(run.result).toContain('| error: timed out waiting for the condition on nodes/k8s-w1');
  });

  it('fails when Cilium does not come up although the nodes are Ready', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { wait: { exitCode: 1, stdout: 'CILIUM_LAB_NODE k8s-s True\nCILIUM_LAB_NODE k8s-w1 True\nCILIUM_LAB_NODE k8s-w2 True\n', stderr: 'Cilium: 1 errors\n' } } } } });
    const run = await lab.run(['wait']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('every node is Ready but Cilium did not report itself up');
  });
});

describe('lab status', () => {
  it('shows the stack, each node with instance id, IP and state, and kubectl get nodes', async () => {
    lab = await FakeLab.start({ ec2: { states: {} } });
    const run = await lab.run(['status']);
    expect(run.code).toBe(0);
    expect(run.result).toContain('lab cilium-lab: Kubernetes 1.30.14, Cilium 1.16.3, API https://203.0.113.10:6443');
    expect(run.result).toMatch(new RegExp(`k8s-w1\\s+worker\\s+${lab.instanceId('k8s-w1')}\\s+t3\\.xlarge\\s+192\\.168\\.10\\.101\\s+-\\s+running`));
    expect(run.result).toMatch(new RegExp(`testpc\\s+testpc\\s+${lab.instanceId('testpc')}\\s+t3\\.small\\s+192\\.168\\.20\\.100`));
    expect(run.result).toContain('kubectl get nodes -o wide (on the control plane):\nNAME     STATUS');
  });

  it('still shows the lab when kubectl does not answer', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { kubectl: { exitCode: 1, stderr: 'The connection to the server 192.168.10.10:6443 was refused\n' } } } } });
    const run = await lab.run(['status']);
    expect(run.code).toBe(0);
    expect(run.result).toContain('kubectl get nodes: no answer from the control plane');
    expect(run.result).toContain('note: kubectl get nodes on k8s-s: Failed: The connection to the server 192.168.10.10:6443 was refused');
  });
});
