/**
 * The pod density exercise (lib/exercises/density.ts) through the real client-node against the
 * loopback API server, whose scheduler counts pods against the node's maxPods (FailedScheduling
 * "Too many pods") and whose Cilium agent runs out of the node's pod CIDR ("range is full"), as
 * the real ones do; and the pure parts (what holds a pod, the verdict) on their own.
 */
import { classifyPod, densityVerdict, podAddressesOf, runDensityExercise, DENSITY_NAMESPACE } from '../../lib/exercises/density.js';
import { createKubeClient } from '../../lib/kube/kube-client.js';
import type { KubeClient, KubeEvent, KubePod } from '../../lib/kube/types.js';
import { FakeKubeApi } from '../kube/fake-kube-api.js';

const pod = (over: Partial<KubePod>): KubePod => ({ namespace: DENSITY_NAMESPACE, name: 'density-0001', labels: {}, phase: 'Pending', ready: false, terminating: false, conditions: [], containers: [], ...over });
const event = (reason: string, message: string, name = 'density-0001'): KubeEvent => ({ type: 'Warning', reason, message, count: 1, object: { kind: 'Pod', name } });

describe('what holds a pod', () => {
  it('tells Running, the scheduler\'s "Too many pods", an address pool that is full, and still starting apart', () => {
    expect(classifyPod(pod({ phase: 'Running', nodeName: 'k8s-w1' }), [])).toBe('running');
    expect(classifyPod(pod({}), [event('FailedScheduling', '0/3 nodes are available: 1 Too many pods, 2 node(s) didn\'t match Pod\'s node affinity/selector.')])).toBe('too-many-pods');
    expect(
      classifyPod(pod({ nodeName: 'k8s-w1' }), [event('FailedCreatePodSandBox', 'Failed to create pod sandbox: ... unable to allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure  range is full')]),
    ).toBe('addresses-exhausted');
    // another pod's event says nothing about this one
    expect(classifyPod(pod({ nodeName: 'k8s-w1' }), [event('FailedCreatePodSandBox', 'range is full', 'density-0002')])).toBe('waiting');
  });

  it('counts a /24 as 252 pod addresses (less network, broadcast, router, health)', () => {
    expect([podAddressesOf('172.16.1.0/24'), podAddressesOf('10.200.0.0/26'), podAddressesOf('nope')]).toEqual([252, 60, undefined]);
  });

  it('names the limit that held, with its figures', () => {
    const limits = { maxPods: 110, podsBefore: 3, addressedBefore: 1, podAddresses: 252, podCidr: '172.16.1.0/24' };
    expect(densityVerdict('k8s-w1', 150, [...Array(107).fill('running'), ...Array(43).fill('too-many-pods')], limits, [], false).verdict).toBe(
      'k8s-w1 took 107 of 150 pods and holds 110 in all: the kubelet\'s maxPods is 110 (status.capacity.pods), so the scheduler left 43 Pending with "Too many pods"',
    );
    const r = densityVerdict('k8s-w1', 300, [...Array(251).fill('running'), ...Array(49).fill('addresses-exhausted')], { ...limits, maxPods: 400 }, [], false);
    expect([r.stoppedBy, r.verdict]).toEqual(['pod-addresses', 'k8s-w1 took 251 of 300 pods: pod CIDR 172.16.1.0/24 gives pods 252 addresses (1 already taken by pods there before), so 49 pod(s) stay ContainerCreating with Cilium\'s "range is full", under the kubelet\'s maxPods of 400']);
    expect(densityVerdict('k8s-w1', 5, Array(5).fill('running'), limits, [], false).stoppedBy).toBe('none');
    expect(densityVerdict('k8s-w1', 5, ['running', 'waiting'], limits, [], true).stoppedBy).toBe('timeout');
  });
});

describe('lab density against the API server', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  const options = { node: 'k8s-w1', timeoutMs: 20_000, pollIntervalMs: 10, concurrency: 16 };

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    api.addNode({ name: 'k8s-s', internalIp: '192.168.10.10', podCidr: '172.16.0.0/24', controlPlane: true });
    api.addNode({ name: 'k8s-w1', internalIp: '192.168.10.101', podCidr: '172.16.1.0/24' });
    // What runs on every node already: Cilium's agent (host network) and Envoy (host network), and a CoreDNS pod with an address.
    api.addRunningPod('kube-system', 'cilium-b9q4m', 'k8s-w1', { 'k8s-app': 'cilium' }, ['cilium-agent'], true);
    api.addRunningPod('kube-system', 'cilium-envoy-x2x9k', 'k8s-w1', { 'k8s-app': 'cilium-envoy' }, ['cilium-envoy'], true);
    api.addRunningPod('kube-system', 'coredns-55cb58b774-5zq4p', 'k8s-w1', { 'k8s-app': 'kube-dns' }, ['coredns']);
    kube = createKubeClient(api.writeKubeconfig(), { context: 'CiliumLab', requestTimeoutMs: 5_000 });
  });

  afterEach(async () => {
    await api.close();
  });

  it("stops at the kubelet's default maxPods of 110 with \"Too many pods\", and leaves nothing behind", async () => {
    const report = await runDensityExercise(kube, { ...options, pods: 120 });
    expect(report).toMatchObject({ stoppedBy: 'max-pods', running: 107, held: { tooManyPods: 13, addressesExhausted: 0, waiting: 0 }, limits: { maxPods: 110, podsBefore: 3, addressedBefore: 1 } });
    expect(report.evidence[0]).toMatch(/^density-\d{4}: FailedScheduling: 0\/2 nodes are available: 1 Too many pods/);
    expect(api.hasNamespace(DENSITY_NAMESPACE)).toBe(false);
  });

  it('with maxPods above the pod CIDR, stops where the /24 runs out ("range is full") instead', async () => {
    api.addNode({ name: 'k8s-w1', internalIp: '192.168.10.101', podCidr: '172.16.1.0/24', podCapacity: 300 });
    const report = await runDensityExercise(kube, { ...options, pods: 270 });
    // 252 addresses, one of them CoreDNS's: 251 density pods run
    expect(report).toMatchObject({ stoppedBy: 'pod-addresses', running: 251, held: { tooManyPods: 0, addressesExhausted: 19 }, limits: { maxPods: 300, podAddresses: 252 } });
    expect(report.evidence[0]).toMatch(/FailedCreatePodSandBox: .*range is full$/);
    expect(api.hasNamespace(DENSITY_NAMESPACE)).toBe(false);
  });

  it('names the address limit when both show: maxPods 300, 300 more pods, a /24', async () => {
    api.addNode({ name: 'k8s-w1', internalIp: '192.168.10.101', podCidr: '172.16.1.0/24', podCapacity: 300 });
    const report = await runDensityExercise(kube, { ...options, pods: 300 });
    // 251 run (252 addresses, CoreDNS has one), the rest are held; 3 pods were there before, so the last 3 also meet maxPods
    expect(report).toMatchObject({ stoppedBy: 'pod-addresses', running: 251, held: { tooManyPods: 3, addressesExhausted: 46 } });
    expect(report.verdict).toMatch(/range is full", under the kubelet's maxPods of 300 \(which held 3 more Pending with "Too many pods"\)$/);
  });

  it("takes a cluster-pool node's addresses from its CiliumNode block, not the Node's podCIDR", async () => {
    api.addNode({ name: 'k8s-w1', internalIp: '192.168.10.101', podCidr: '172.16.1.0/24', podCapacity: 300 });
    api.ciliumNodePodCidrs.set('k8s-w1', ['10.200.1.0/26']);
    const report = await runDensityExercise(kube, { ...options, pods: 80 });
    expect(report).toMatchObject({ stoppedBy: 'pod-addresses', limits: { podCidr: '10.200.1.0/26', podAddresses: 60 } });
  });

  it('deletes its namespace when interrupted (Ctrl-C) while it waits', async () => {
    const abort = new AbortController();
    const run = runDensityExercise(kube, { ...options, pods: 20, pollIntervalMs: 50, signal: abort.signal, info: (line) => (line.startsWith('created') ? abort.abort() : undefined) });
    await expect(run).rejects.toThrow('interrupted');
    expect(api.hasNamespace(DENSITY_NAMESPACE)).toBe(false);
  });

  it('names the nodes when the node asked for does not exist', async () => {
    await expect(runDensityExercise(kube, { ...options, node: 'k8s-w9', pods: 1 })).rejects.toThrow('no node k8s-w9 in the cluster (nodes: k8s-s, k8s-w1)');
  });
});
