/**
 * The KubeClient adapter through the real client-node 1.4.0, against a loopback API server:
 * reads, 404s as "absent", pod creation and readiness, namespace deletion with a deadline, and
 * exec over the WebSocket channel protocol.
 */
import { createKubeClient } from '../../lib/kube/kube-client.js';
import { KubeApiError, PodNotReadyError, WaitTimeoutError, type KubeClient } from '../../lib/kube/types.js';
import { FakeKubeApi } from './fake-kube-api.js';

const NS = 'cilium-lab-check';
const quick = { timeoutMs: 3_000, pollIntervalMs: 20 };

let api: FakeKubeApi;
let kube: KubeClient;

beforeEach(async () => {
  api = await FakeKubeApi.start();
  api.addNode({ name: 'k8s-s', internalIp: '192.168.10.10', podCidr: '172.16.0.0/24', controlPlane: true });
  api.addNode({ name: 'k8s-w1', internalIp: '192.168.10.101', podCidr: '172.16.1.0/24' });
  kube = createKubeClient(api.writeKubeconfig(), { context: 'CiliumLab', requestTimeoutMs: 5_000 });
});

afterEach(async () => {
  await api.close();
});

const netpod = { name: 'netpod', nodeSelector: { 'kubernetes.io/hostname': 'k8s-w1' }, containers: [{ name: 'netshoot', image: 'nicolaka/netshoot:v0.13' }] };

describe('reads', () => {
  it('lists nodes with readiness, internal IP and taints', async () => {
    // when
    const nodes = await kube.listNodes();
    // then
    expect(nodes.map((n) => [n.name, n.ready, n.internalIp])).toEqual([
      ['k8s-s', true, '192.168.10.10'],
      ['k8s-w1', true, '192.168.10.101'],
    ]);
    expect(nodes[0]?.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', value: undefined, effect: 'NoSchedule' }]);
  });

  it('reports a missing DaemonSet, Deployment and ConfigMap as undefined, not as an error', async () => {
    // given nothing in kube-system
    // when / then
    await expect(kube.getDaemonSet('kube-system', 'kube-proxy')).resolves.toBeUndefined();
    await expect(kube.getDeployment('kube-system', 'coredns')).resolves.toBeUndefined();
    await expect(kube.getConfigMap('kube-system', 'kube-proxy')).resolves.toBeUndefined();
  });

  it('maps DaemonSet and Deployment counts', async () => {
    // given
    api.addDaemonSet('kube-system', 'cilium', { desired: 2, ready: 1 });
    api.addDeployment('kube-system', 'coredns', { replicas: 2, ready: 2 });
    // when
    const ds = await kube.getDaemonSet('kube-system', 'cilium');
    const d = await kube.getDeployment('kube-system', 'coredns');
    // then
    expect(ds).toMatchObject({ kind: 'DaemonSet', desired: 2, ready: 1 });
    expect(d).toMatchObject({ kind: 'Deployment', desired: 2, ready: 2, available: 2 });
  });

  it('turns an API error into KubeApiError with the server\'s reason and message', async () => {
    // given a kubeconfig whose token the server refuses
    const bad = createKubeClient(api.writeKubeconfig(), {});
    (api as unknown as { authorized: () => boolean }).authorized = () => false;
    // when
    const error = await bad.listNodes().catch((e: unknown) => e);
    // then
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(401);
  });
});

describe('pods', () => {
  it('creates a pod on its node and waits until it is Ready, with its pod IP', async () => {
    // given
    await kube.createNamespace(NS);
    await kube.applyPod(NS, netpod);
    // when
    const pod = await kube.waitForPodReady(NS, 'netpod', quick);
    // then
    expect(pod).toMatchObject({ ready: true, phase: 'Running', nodeName: 'k8s-w1', hostIp: '192.168.10.101' });
    expect(pod.podIp).toMatch(/^172\.16\.1\.\d+$/);
  });

  it('fails a pod that never becomes Ready with the last phase, its conditions and the Warning events', async () => {
    // given an image that does not exist
    api.podBehaviour('netpod', { kind: 'image-pull-fails' });
    await kube.createNamespace(NS);
    await kube.applyPod(NS, netpod);
    // when
    const error = await kube.waitForPodReady(NS, 'netpod', { timeoutMs: 300, pollIntervalMs: 20 }).catch((e: unknown) => e);
    // then
    expect(error).toBeInstanceOf(PodNotReadyError);
    const e = error as PodNotReadyError;
    expect(e.message).toMatch(/did not become Ready within 0\.3 s/);
    expect(e.message).toMatch(/last seen: Pending on k8s-w1; .*Ready=False \(ContainersNotReady\)/);
    expect(e.message).toMatch(/Warning Failed .*Failed to pull image "nicolaka\/netshoot:v0.13"/);
    expect(e.events.some((ev) => ev.reason === 'BackOff')).toBe(true);
  });

  it('fails fast on a crash-looping container, with its last exit code and the back-off, not after the whole wait', async () => {
    // given a container that exits 1 on start
    api.podBehaviour('netpod', { kind: 'crash-loop' });
    await kube.createNamespace(NS);
    await kube.applyPod(NS, netpod);
    // when: a wait that could last 30 s
    const started = Date.now();
    const error = (await kube.waitForPodReady(NS, 'netpod', { timeoutMs: 30_000, pollIntervalMs: 20 }).catch((e: unknown) => e)) as PodNotReadyError;
    // then
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error).toBeInstanceOf(PodNotReadyError);
    expect(error.message).toMatch(/pod cilium-lab-check\/netpod will not become Ready: container netshoot is in CrashLoopBackOff: CrashLoopBackOff \(back-off 40s restarting failed container=netshoot .*\); last terminated: Error \(exit 1\), 3 restart\(s\)/);
    expect(error.message).toMatch(/Warning BackOff .*Back-off restarting failed container netshoot/);
  });

  it('waits out a Running pod that is not Ready, and says its readiness probe fails', async () => {
    // given
    api.podBehaviour('netpod', { kind: 'running-not-ready' });
    await kube.createNamespace(NS);
    await kube.applyPod(NS, netpod);
    // when
    const error = (await kube.waitForPodReady(NS, 'netpod', { timeoutMs: 300, pollIntervalMs: 20 }).catch((e: unknown) => e)) as PodNotReadyError;
    // then
    expect(error.message).toMatch(/did not become Ready within 0\.3 s; last seen: Running on k8s-w1; .*Ready=False \(ContainersNotReady\)/);
    expect(error.message).toMatch(/Warning Unhealthy .*Readiness probe failed/);
  });

  it('says why a pod is not scheduled', async () => {
    // given
    api.podBehaviour('netpod', { kind: 'unschedulable' });
    await kube.createNamespace(NS);
    await kube.applyPod(NS, netpod);
    // when
    const error = (await kube.waitForPodReady(NS, 'netpod', { timeoutMs: 200, pollIntervalMs: 20 }).catch((e: unknown) => e)) as PodNotReadyError;
    // then
    expect(error.message).toMatch(/PodScheduled=False \(Unschedulable\)/);
    expect(error.message).toMatch(/FailedScheduling/);
  });

  it('returns the existing pod when it is applied twice', async () => {
    // given
    await kube.createNamespace(NS);
    await kube.applyPod(NS, netpod);
    // when
    const again = await kube.applyPod(NS, netpod);
    // then
    expect(again.name).toBe('netpod');
    expect(api.createdPods).toEqual([`${NS}/netpod`]);
  });
});

describe('namespaces', () => {
  it('deletes a namespace and waits until it is gone', async () => {
    // given
    api.namespaceTerminationReads = 2;
    await kube.createNamespace(NS);
    // when
    const outcome = await kube.deleteNamespace(NS, quick);
    // then
    expect(outcome).toBe('deleted');
    expect(api.hasNamespace(NS)).toBe(false);
    await expect(kube.getNamespacePhase(NS)).resolves.toBeUndefined();
  });

  it('answers absent for a namespace that is not there', async () => {
    await expect(kube.deleteNamespace(NS, quick)).resolves.toBe('absent');
  });

  it('gives up on a namespace stuck Terminating at the deadline, with its phase and the pods left', async () => {
    // given a namespace whose finalizer never completes
    await kube.createNamespace(NS);
    await kube.applyPod(NS, netpod);
    api.stuckNamespaces.add(NS);
    // when
    const error = await kube.deleteNamespace(NS, { timeoutMs: 200, pollIntervalMs: 20 }).catch((e: unknown) => e);
    // then
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toMatch(
      /namespace cilium-lab-check was not gone within 0\.2 s; last seen: phase Terminating, finalizers: kubernetes, conditions: NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: example\.com\/held in 1 resource instances, pods left: netpod/,
    );
  });

  it('deletes as kubectl does (propagationPolicy Background): Foreground would hold the namespace with the garbage collector\'s finalizer', async () => {
    api.namespaceTerminationReads = 1;
    await kube.createNamespace(NS);
    await expect(kube.deleteNamespace(NS, quick)).resolves.toBe('deleted');
    const deletes = api.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith(`/api/v1/namespaces/${NS}`));
    expect(deletes.map((r) => new URL(r.path, 'http://x').searchParams.get('propagationPolicy'))).toEqual(['Background']);
    expect(api.foregroundHeld.has(NS)).toBe(false);
  });
});

describe('exec over WebSocket', () => {
  beforeEach(async () => {
    await kube.createNamespace(NS);
    await kube.applyPod(NS, netpod);
    await kube.waitForPodReady(NS, 'netpod', quick);
  });

  it('collects stdout and stderr and reads exit code 0 from the Status channel, over v5.channel.k8s.io', async () => {
    // given
    api.onExec(() => ({ stdout: 'Hostname: webpod1\n'.repeat(600), stderr: 'warning\n' }));
    // when
    const result = await kube.exec({ namespace: NS, pod: 'netpod', container: 'netshoot', command: ['curl', '-s', 'http://x/'], timeoutMs: 3_000 });
    // then
    expect(result.exitCode).toBe(0);
    expect(result.error).toBe('');
    expect(result.stdout).toBe('Hostname: webpod1\n'.repeat(600));
    expect(result.stderr).toBe('warning\n');
    expect(api.execCalls[0]).toMatchObject({ container: 'netshoot', command: ['curl', '-s', 'http://x/'], protocol: 'v5.channel.k8s.io' });
  });

  it('speaks v4.channel.k8s.io to a server without v5', async () => {
    // given an older API server
    api.acceptedProtocols = ['v4.channel.k8s.io'];
    api.onExec(() => ({ stdout: 'ok\n', exitCode: 3 }));
    // when
    const result = await kube.exec({ namespace: NS, pod: 'netpod', container: 'netshoot', command: ['sh', '-c', 'echo ok; exit 3'], timeoutMs: 3_000 });
    // then
    expect(api.execCalls[0]?.protocol).toBe('v4.channel.k8s.io');
    expect(result).toMatchObject({ exitCode: 3, stdout: 'ok\n' });
  });

  it('reads a non-zero exit code from Failure/NonZeroExitCode', async () => {
    // given
    api.onExec(() => ({ stderr: 'curl: (28) Connection timed out after 5001 milliseconds\n', exitCode: 28 }));
    // when
    const result = await kube.exec({ namespace: NS, pod: 'netpod', container: 'netshoot', command: ['curl', 'http://x/'], timeoutMs: 3_000 });
    // then
    expect(result.exitCode).toBe(28);
    expect(result.stderr).toMatch(/Connection timed out/);
  });

  it('reports an exec into a pod that does not exist as refused with 404', async () => {
    // when
    const result = await kube.exec({ namespace: NS, pod: 'ghost', container: 'netshoot', command: ['true'], timeoutMs: 3_000 });
    // then
    expect(result.exitCode).toBe(-1);
    expect(result.error).toMatch(/exec in cilium-lab-check\/ghost \(container netshoot\) refused: .*404/);
  });

  it('reports a refused upgrade (no such container) with exit code -1 and the HTTP status', async () => {
    // when
    const result = await kube.exec({ namespace: NS, pod: 'netpod', container: 'nope', command: ['true'], timeoutMs: 3_000 });
    // then
    expect(result.exitCode).toBe(-1);
    expect(result.error).toMatch(/refused: .*400/);
  });

  it('reports a connection closed without a Status as exit code -1', async () => {
    // given
    api.onExec(() => ({ stdout: 'partial', closeWithoutStatus: true }));
    // when
    const result = await kube.exec({ namespace: NS, pod: 'netpod', container: 'netshoot', command: ['true'], timeoutMs: 3_000 });
    // then
    expect(result.exitCode).toBe(-1);
    expect(result.stdout).toBe('partial');
    expect(result.error).toMatch(/closed .* without an exit status/);
  });

  it('ends an exec that never answers at its deadline', async () => {
    // given
    api.onExec(() => ({ hang: true }));
    // when
    const result = await kube.exec({ namespace: NS, pod: 'netpod', container: 'netshoot', command: ['sleep', '999'], timeoutMs: 200 });
    // then
    expect(result.exitCode).toBe(-1);
    expect(result.error).toMatch(/no exit status from cilium-lab-check\/netpod \(container netshoot\) within 0\.2 s/);
  });
});
