/**
 * The pod density exercise (`lab density`): how many pods one node takes, and what stops it.
 * The study meets two limits on a kubeadm node with Cilium's Kubernetes IPAM:
 *   - the kubelet's maxPods (110 unless set): the scheduler leaves the next pod Pending with
 *     FailedScheduling "Too many pods" (NodeResourcesFit counts every pod bound to the node);
 *   - the node's pod CIDR (/24): 256 addresses less network and broadcast and the two Cilium's
 *     agent keeps for itself (router and health, cilium/cilium#46598 lists them), so about 250
 *     pods; the next pod stays ContainerCreating with FailedCreatePodSandBox "... range is full"
 *     (cilium/cilium#10627). With ENI IPAM the addresses are the ENIs' (lib/config/eni-ipam.ts).
 * The exercise creates pause pods pinned to one node in a namespace of its own, waits until every
 * pod runs or is held by one of those limits (bounded), reports which limit held and why, and
 * always deletes the namespace, also on failure and Ctrl-C.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cidrSize, parseCidr } from '../config/cidr.js';
import type { KubeClient, KubeEvent, KubePod, PodManifest } from '../kube/types.js';

export const DENSITY_NAMESPACE = 'cilium-lab-density';
/** registry.k8s.io's pause: the smallest image that runs and does nothing. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'cilium-lab', 'app.kubernetes.io/part-of': 'density' };

export interface DensityOptions {
  readonly node: string;
  readonly pods: number;
  /** Budget for the whole wait after the pods are created. */
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  /** Pods created at once. */
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  readonly info?: (line: string) => void;
}

/** What held a pod back. */
export type PodHold = 'running' | 'too-many-pods' | 'addresses-exhausted' | 'waiting';

/** Why a pod is where it is, from its phase and its events (the scheduler's and the kubelet's). */
export function classifyPod(pod: KubePod, events: readonly KubeEvent[]): PodHold {
  if (pod.phase === 'Running') return 'running';
  const own = events.filter((e) => e.object.name === pod.name);
  if (!pod.nodeName && own.some((e) => e.reason === 'FailedScheduling' && /\bToo many pods\b/.test(e.message))) return 'too-many-pods';
  // Only the pool being full: other IPAM failures (a timeout to the agent) are no limit.
  if (own.some((e) => e.reason === 'FailedCreatePodSandBox' && /range is full/.test(e.message))) return 'addresses-exhausted';
  return 'waiting';
}

export interface DensityLimits {
  /** status.allocatable.pods of the node. */
  readonly maxPods?: number;
  /** Pods on the node before the exercise (they count against maxPods). */
  readonly podsBefore: number;
  /** Of those, the ones with an address of the node's pool (not on the host network). */
  readonly addressedBefore: number;
  /** Pod addresses of the node's pool (pod CIDR less network, broadcast, router, health), when known. */
  readonly podAddresses?: number;
  readonly podCidr?: string;
}

/** Addresses of a node's pod CIDR that pods can have: less network, broadcast, and Cilium's router and health. */
export function podAddressesOf(podCidr: string): number | undefined {
  const cidr = parseCidr(podCidr);
  return typeof cidr === 'string' ? undefined : cidrSize(cidr) - 4;
}

export interface DensityReport {
  readonly node: string;
  readonly asked: number;
  readonly running: number;
  readonly held: { readonly tooManyPods: number; readonly addressesExhausted: number; readonly waiting: number };
  readonly limits: DensityLimits;
  /** Which limit stopped the node filling up, or none when every pod runs. */
  readonly stoppedBy: 'max-pods' | 'pod-addresses' | 'none' | 'timeout';
  /** One sentence on what happened and why, with the figures. */
  readonly verdict: string;
  /** One event of each limit, as the cluster words it. */
  readonly evidence: readonly string[];
  readonly timedOut: boolean;
}

export function densityVerdict(node: string, asked: number, holds: readonly PodHold[], limits: DensityLimits, evidence: readonly string[], timedOut: boolean): DensityReport {
  const count = (h: PodHold) => holds.filter((x) => x === h).length;
  const running = count('running');
  const held = { tooManyPods: count('too-many-pods'), addressesExhausted: count('addresses-exhausted'), waiting: count('waiting') };
  const total = limits.podsBefore + running;
  // Both limits may show (pods past the address limit can also be past maxPods): the one with less
  // room on the node is the one that stopped it.
  const podRoom = limits.maxPods === undefined ? Infinity : limits.maxPods - limits.podsBefore;
  const addressRoom = limits.podAddresses === undefined ? Infinity : limits.podAddresses - limits.addressedBefore;
  const stoppedBy =
    held.addressesExhausted > 0 && (held.tooManyPods === 0 || addressRoom <= podRoom)
      ? 'pod-addresses'
      : held.tooManyPods > 0
        ? 'max-pods'
        : timedOut
          ? 'timeout'
          : 'none';
  const cidr = limits.podCidr ? `pod CIDR ${limits.podCidr}` : 'its pod addresses';
  const verdict = {
    'max-pods': `${node} took ${running} of ${asked} pods and holds ${total} in all: the kubelet's maxPods is ${limits.maxPods ?? '?'} (status.capacity.pods), so the scheduler left ${held.tooManyPods} Pending with "Too many pods"`,
    'pod-addresses': `${node} took ${running} of ${asked} pods: ${cidr} gives pods ${limits.podAddresses ?? '?'} addresses (${limits.addressedBefore} already taken by pods there before), so ${held.addressesExhausted} pod(s) stay ContainerCreating with Cilium's "range is full", under the kubelet's maxPods of ${limits.maxPods ?? '?'}${held.tooManyPods > 0 ? ` (which held ${held.tooManyPods} more Pending with "Too many pods")` : ''}`,
    none: `${node} took all ${asked} pods (${total} in all), under its maxPods of ${limits.maxPods ?? '?'}${limits.podAddresses !== undefined ? ` and the ${limits.podAddresses} addresses of ${cidr}` : ''}`,
    timeout: `${node} took ${running} of ${asked} pods before the wait ran out; ${held.waiting} were still starting with no limit named by the cluster`,
  }[stoppedBy];
  return { node, asked, running, held, limits, stoppedBy, verdict, evidence, timedOut };
}

/** The pause pod, pinned to the node (tolerating the control plane's taint, so any node can be asked). */
export function densityPod(index: number, node: string): PodManifest {
  return {
    name: `density-${String(index).padStart(4, '0')}`,
    labels: MANAGED_BY,
    nodeSelector: { 'kubernetes.io/hostname': node },
    tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    containers: [{ name: 'pause', image: PAUSE_IMAGE }],
    terminationGracePeriodSeconds: 0,
  };
}

class Interrupted extends Error {}

const pause = async (ms: number, signal?: AbortSignal): Promise<void> => {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch {
    throw new Interrupted('interrupted');
  }
};

/**
 * Runs the exercise against the cluster. The namespace is deleted before (a leftover of an
 * earlier run) and after, whatever happens; the deletion's own failure is reported, not hidden.
 */
export async function runDensityExercise(kube: KubeClient, options: DensityOptions): Promise<DensityReport> {
  const info = options.info ?? (() => undefined);
  const nodes = await kube.listNodes();
  const node = nodes.find((n) => n.name === options.node);
  if (!node) throw new Error(`no node ${options.node} in the cluster (nodes: ${nodes.map((n) => n.name).join(', ')})`);
  const before = (await kube.listPodsOnNode(node.name)).filter((p) => !p.terminating && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.namespace !== DENSITY_NAMESPACE);
  const addressedBefore = before.filter((p) => p.podIp !== undefined && p.podIp !== p.hostIp).length;
  // Where the node's pod addresses come from: its CiliumNode's block where Cilium's IPAM gave it
  // one (cluster-pool), else the Node's podCIDR (Kubernetes IPAM).
  const block = (await kube.listCiliumNodes()).find((n) => n.name === node.name)?.podCidrs[0];
  const podCidr = block ?? node.podCidr;
  const podAddresses = podCidr ? podAddressesOf(podCidr) : undefined;
  const limits: DensityLimits = {
    ...(node.podCapacity !== undefined ? { maxPods: node.podCapacity } : {}),
    podsBefore: before.length,
    addressedBefore,
    ...(podAddresses !== undefined ? { podAddresses } : {}),
    ...(podCidr ? { podCidr } : {}),
  };
  info(`${node.name}: maxPods ${limits.maxPods ?? '?'}, ${before.length} pod(s) there already${podCidr ? `, pod CIDR ${podCidr} (${podAddresses} pod addresses)` : ''}; asking for ${options.pods} more`);
  const wait = { timeoutMs: Math.max(options.timeoutMs, 30_000), pollIntervalMs: options.pollIntervalMs, ...(options.signal ? { signal: options.signal } : {}) };
  await kube.deleteNamespace(DENSITY_NAMESPACE, wait);
  let report: DensityReport | undefined;
  try {
    await kube.createNamespace(DENSITY_NAMESPACE, MANAGED_BY);
    const indices = Array.from({ length: options.pods }, (_, i) => i + 1);
    for (let i = 0; i < indices.length; i += options.concurrency) {
      if (options.signal?.aborted) throw new Interrupted('interrupted');
      await Promise.all(indices.slice(i, i + options.concurrency).map((k) => kube.applyPod(DENSITY_NAMESPACE, densityPod(k, node.name))));
    }
    info(`created ${options.pods} pause pod(s) pinned to ${node.name}; waiting until each runs or a limit holds it`);
    const deadline = Date.now() + options.timeoutMs;
    let stableSince: number | undefined;
    let last = '';
    for (;;) {
      const pods = await kube.listPods(DENSITY_NAMESPACE);
      const events = await kube.getEvents(DENSITY_NAMESPACE);
      const holds = pods.map((p) => classifyPod(p, events));
      const waiting = holds.filter((h) => h === 'waiting').length;
      const summary = `${holds.filter((h) => h === 'running').length} running, ${holds.filter((h) => h === 'too-many-pods').length} Too many pods, ${holds.filter((h) => h === 'addresses-exhausted').length} without an address, ${waiting} starting`;
      if (summary !== last) info(summary);
      // Done when nothing is still starting, twice in a row (a held pod stays held).
      stableSince = waiting === 0 ? (stableSince ?? Date.now()) : undefined;
      const timedOut = Date.now() >= deadline;
      if ((waiting === 0 && summary === last) || timedOut) {
        const evidence = [
          events.find((e) => e.reason === 'FailedScheduling' && /Too many pods/.test(e.message)),
          events.find((e) => e.reason === 'FailedCreatePodSandBox'),
        ]
          .filter((e): e is KubeEvent => e !== undefined)
          .map((e) => `${e.object.name}: ${e.reason}: ${e.message}`);
        report = densityVerdict(node.name, options.pods, holds, limits, evidence, timedOut && waiting > 0);
        break;
      }
      last = summary;
      await pause(options.pollIntervalMs, options.signal);
    }
  } finally {
    // Nothing is left behind: the pods go with their namespace (also after Ctrl-C).
    await kube.deleteNamespace(DENSITY_NAMESPACE, { timeoutMs: Math.max(options.timeoutMs, 60_000), pollIntervalMs: options.pollIntervalMs });
  }
  return report;
}

