/**
 * KubeClient over @kubernetes/client-node 1.4.0 (pinned: 2.x needs a newer Node). The only file
 * besides lib/kube/exec.ts that imports client-node. It maps the generated models to the plain
 * shapes of ./types.ts and the library's errors to KubeApiError.
 *
 * Quirks handled here:
 *   - client-node 1.x throws ApiException with `body` as the raw response text: the Status JSON
 *     (reason, message) is parsed out of it.
 *   - No request has a timeout by default; a promise middleware gives each one an AbortSignal.
 *   - Pod readiness is polled (GET every interval) rather than watched: a poll needs nothing from
 *     the server but GET and survives a dropped connection without resync logic.
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  PortForward,
  ServerConfiguration,
  createConfiguration,
  setHeaderOptions,
  type CoreV1Event,
  type RequestContext,
  type ResponseContext,
  type V1ContainerStatus,
  type V1DaemonSet,
  type V1Deployment,
  type V1Node,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { PassThrough, type Duplex } from 'node:stream';
import { execInPod } from './exec.js';
import {
  KubeApiError,
  PodNotReadyError,
  WaitTimeoutError,
  describePod,
  formatEvent,
  type ExecRequest,
  type ExecResult,
  type KubeClient,
  type KubeConfigMap,
  type KubeContainerStatus,
  type KubeEvent,
  type KubeNode,
  type KubePod,
  type KubeService,
  type KubeWorkload,
  type CiliumNetworkPolicyDocument,
  type CiliumNodeIpam,
  type PodManifest,
  type ServiceManifest,
  type WaitOptions,
} from './types.js';
import { AbortedError, pollUntil } from './wait.js';

export interface KubeClientOptions {
  /** The kubeconfig context to use. @default the file's current-context */
  readonly context?: string;
  /** Budget of one API request. @default 30000 */
  readonly requestTimeoutMs?: number;
}

/** Loads a kubeconfig file; throws a message that names the file when it cannot. */
export function loadKubeConfig(path: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (error) {
    throw new Error(`cannot read the kubeconfig ${path}: ${(error as Error).message}`);
  }
  if (context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === context)) {
      throw new Error(`the kubeconfig ${path} has no context "${context}" (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) throw new Error(`the kubeconfig ${path} names no cluster for context "${kc.getCurrentContext()}"`);
  return kc;
}

/** A KubeClient for the cluster of a kubeconfig file. */
export function createKubeClient(kubeconfigPath: string, options: KubeClientOptions = {}): KubeClient {
  return new ClientNodeKube(loadKubeConfig(kubeconfigPath, options.context), options);
}

/** Turns client-node's errors into KubeApiError with the API server's own message. */
export function toKubeApiError(error: unknown, what: string): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (error instanceof ApiException) {
    const code = Number(error.code);
    let reason = '';
    let message = '';
    try {
      const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as { reason?: string; message?: string } | undefined;
      reason = body?.reason ?? '';
      message = body?.message ?? '';
    } catch {
      message = typeof error.body === 'string' ? error.body.slice(0, 300) : '';
    }
    return new KubeApiError(`${what}: HTTP ${code}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`, code, reason);
  }
  const e = error as { name?: string; message?: string; code?: string } | undefined;
  if (e?.name === 'AbortError') return new KubeApiError(`${what}: the request timed out`, 0, 'Timeout');
  return new KubeApiError(`${what}: ${e?.code ? `${e.code} ` : ''}${e?.message ?? String(error)}`, 0, e?.code ?? '');
}

const isNotFound = (error: unknown): boolean => error instanceof KubeApiError && error.status === 404;

function conditionTrue(conditions: readonly { type: string; status: string }[] | undefined, type: string): boolean {
  return conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

function containerState(status: V1ContainerStatus): string {
  const s = status.state;
  // A crash-looping container's reason is in its last termination: show it beside the back-off.
  const last = status.lastState?.terminated ? `; last terminated: ${status.lastState.terminated.reason ?? 'unknown'} (exit ${status.lastState.terminated.exitCode}), ${status.restartCount} restart(s)` : '';
  if (s?.running) return 'running';
  if (s?.waiting) return `waiting: ${s.waiting.reason ?? 'unknown'}${s.waiting.message ? ` (${s.waiting.message})` : ''}${last}`;
  if (s?.terminated) return `terminated: ${s.terminated.reason ?? 'unknown'} (exit ${s.terminated.exitCode})`;
  return 'unknown';
}

/** A container the kubelet keeps restarting: it will not become Ready by waiting (the wait fails fast). */
function crashLooping(pod: KubePod): string | undefined {
  const container = pod.containers.find((c) => c.state.startsWith('waiting: CrashLoopBackOff'));
  return container ? `container ${container.name} is in CrashLoopBackOff: ${container.state.slice('waiting: '.length)}` : undefined;
}

export function nodeFromApi(node: V1Node): KubeNode {
  const conditions = (node.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  return {
    name: node.metadata?.name ?? '',
    ready: conditionTrue(conditions, 'Ready'),
    conditions,
    internalIp: node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    podCidr: node.spec?.podCIDR,
    ...(node.status?.capacity?.['pods'] !== undefined ? { podCapacity: Number(node.status.capacity['pods']) } : {}),
    labels: node.metadata?.labels ?? {},
    taints: (node.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
  };
}

export function podFromApi(pod: V1Pod): KubePod {
  const conditions = (pod.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  const containers: KubeContainerStatus[] = (pod.status?.containerStatuses ?? []).map((c) => ({
    name: c.name,
    ready: c.ready,
    restartCount: c.restartCount,
    state: containerState(c),
  }));
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    labels: pod.metadata?.labels ?? {},
    nodeName: pod.spec?.nodeName,
    phase: pod.status?.phase ?? 'Unknown',
    podIp: pod.status?.podIP,
    hostIp: pod.status?.hostIP,
    ready: conditionTrue(conditions, 'Ready'),
    terminating: pod.metadata?.deletionTimestamp !== undefined,
    conditions,
    containers,
  };
}

function daemonSetFromApi(ds: V1DaemonSet): KubeWorkload {
  return {
    kind: 'DaemonSet',
    namespace: ds.metadata?.namespace ?? '',
    name: ds.metadata?.name ?? '',
    desired: ds.status?.desiredNumberScheduled ?? 0,
    ready: ds.status?.numberReady ?? 0,
    available: ds.status?.numberAvailable ?? 0,
    updated: ds.status?.updatedNumberScheduled ?? 0,
  };
}

function deploymentFromApi(d: V1Deployment): KubeWorkload {
  return {
    kind: 'Deployment',
    namespace: d.metadata?.namespace ?? '',
    name: d.metadata?.name ?? '',
    // spec.replicas defaults to 1 when unset.
    desired: d.spec?.replicas ?? 1,
    ready: d.status?.readyReplicas ?? 0,
    available: d.status?.availableReplicas ?? 0,
    updated: d.status?.updatedReplicas ?? 0,
  };
}

function serviceFromApi(s: V1Service): KubeService {
  return {
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    type: s.spec?.type,
    clusterIp: s.spec?.clusterIP,
    externalTrafficPolicy: s.spec?.externalTrafficPolicy,
    ports: (s.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort as number | string | undefined, protocol: p.protocol, nodePort: p.nodePort })),
    loadBalancerIps: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== ''),
  };
}

function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function eventFromApi(e: CoreV1Event): KubeEvent {
  return {
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: (e.message ?? '').trim(),
    count: e.count ?? e.series?.count ?? 1,
    object: { kind: e.involvedObject.kind ?? '', name: e.involvedObject.name ?? '' },
    time: iso(e.lastTimestamp) ?? iso(e.eventTime as Date | string | undefined) ?? iso(e.metadata.creationTimestamp),
  };
}

function podToApi(manifest: PodManifest): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: manifest.name, labels: { ...manifest.labels } },
    spec: {
      terminationGracePeriodSeconds: manifest.terminationGracePeriodSeconds ?? 1,
      ...(manifest.hostNetwork ? { hostNetwork: true } : {}),
      ...(manifest.nodeSelector ? { nodeSelector: { ...manifest.nodeSelector } } : {}),
      ...(manifest.tolerations ? { tolerations: manifest.tolerations.map((t) => ({ ...t })) } : {}),
      containers: manifest.containers.map((c) => ({
        name: c.name,
        image: c.image,
        ...(c.command ? { command: [...c.command] } : {}),
        ...(c.args ? { args: [...c.args] } : {}),
        ...(c.ports ? { ports: c.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })) } : {}),
        ...(c.readinessHttpGet
          ? { readinessProbe: { httpGet: { path: c.readinessHttpGet.path, port: c.readinessHttpGet.port }, periodSeconds: 2, failureThreshold: 3 } }
          : {}),
      })),
    },
  };
}

function serviceToApi(manifest: ServiceManifest): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: manifest.name, labels: { ...manifest.labels } },
    spec: {
      type: manifest.type ?? 'ClusterIP',
      ...(manifest.externalTrafficPolicy ? { externalTrafficPolicy: manifest.externalTrafficPolicy } : {}),
      selector: { ...manifest.selector },
      ports: manifest.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol ?? 'TCP' })),
    },
  };
}

/** Gives every request an AbortSignal: client-node 1.x sets no timeout of its own. */
function timeoutMiddleware(ms: number) {
  return {
    pre: async (context: RequestContext): Promise<RequestContext> => {
      context.setSignal(AbortSignal.timeout(ms));
      return context;
    },
    post: async (context: ResponseContext): Promise<ResponseContext> => context,
  };
}

export class ClientNodeKube implements KubeClient {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(
    private readonly kc: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      promiseMiddleware: [timeoutMiddleware(options.requestTimeoutMs ?? 30_000)],
    });
    this.core = new CoreV1Api(configuration);
    this.apps = new AppsV1Api(configuration);
    this.custom = new CustomObjectsApi(configuration);
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toKubeApiError(error, what);
    }
  }

  private async optional<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(what, run);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async listNodes(): Promise<KubeNode[]> {
    const list = await this.call('list nodes', () => this.core.listNode());
    return list.items.map(nodeFromApi);
  }

  async getDaemonSet(namespace: string, name: string): Promise<KubeWorkload | undefined> {
    const ds = await this.optional(`read daemonset ${namespace}/${name}`, () => this.apps.readNamespacedDaemonSet({ namespace, name }));
    return ds && daemonSetFromApi(ds);
  }

  async getDeployment(namespace: string, name: string): Promise<KubeWorkload | undefined> {
    const d = await this.optional(`read deployment ${namespace}/${name}`, () => this.apps.readNamespacedDeployment({ namespace, name }));
    return d && deploymentFromApi(d);
  }

  async getConfigMap(namespace: string, name: string): Promise<KubeConfigMap | undefined> {
    const cm = await this.optional(`read configmap ${namespace}/${name}`, () => this.core.readNamespacedConfigMap({ namespace, name }));
    return cm && { namespace, name, data: cm.data ?? {} };
  }

  async getService(namespace: string, name: string): Promise<KubeService | undefined> {
    const s = await this.optional(`read service ${namespace}/${name}`, () => this.core.readNamespacedService({ namespace, name }));
    return s && serviceFromApi(s);
  }

  async listPods(namespace: string, labelSelector?: string): Promise<KubePod[]> {
    const list = await this.call(`list pods in ${namespace}${labelSelector ? ` (${labelSelector})` : ''}`, () =>
      this.core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
    );
    return list.items.map(podFromApi);
  }

  async listPodsOnNode(nodeName: string): Promise<KubePod[]> {
    const list = await this.call(`list pods on node ${nodeName}`, () => this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }));
    return list.items.map(podFromApi);
  }

  async getPod(namespace: string, name: string): Promise<KubePod | undefined> {
    const pod = await this.optional(`read pod ${namespace}/${name}`, () => this.core.readNamespacedPod({ namespace, name }));
    return pod && podFromApi(pod);
  }

  async getEvents(namespace: string, objectName?: string): Promise<KubeEvent[]> {
    const list = await this.call(`list events in ${namespace}`, () =>
      this.core.listNamespacedEvent({ namespace, ...(objectName ? { fieldSelector: `involvedObject.name=${objectName}` } : {}) }),
    );
    const events = list.items.map(eventFromApi);
    return events.sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
  }

  async getNamespacePhase(name: string): Promise<string | undefined> {
    const ns = await this.optional(`read namespace ${name}`, () => this.core.readNamespace({ name }));
    return ns && (ns.status?.phase ?? 'Active');
  }

  async createNamespace(name: string, labels: Readonly<Record<string, string>> = {}): Promise<Date | undefined> {
    const created = await this.call(`create namespace ${name}`, () => this.core.createNamespace({ body: { metadata: { name, labels: { ...labels } } } }));
    const at = created.metadata?.creationTimestamp;
    return at === undefined ? undefined : new Date(at);
  }

  async deleteNamespace(name: string, options: WaitOptions): Promise<'deleted' | 'absent'> {
    try {
      // Background, as kubectl deletes: Foreground would put the foregroundDeletion finalizer on the
      // namespace, tied to the garbage collector (kubernetes/kubernetes#111251).
      await this.call(`delete namespace ${name}`, () => this.core.deleteNamespace({ name, propagationPolicy: 'Background' }));
    } catch (error) {
      if (isNotFound(error)) return 'absent';
      throw error;
    }
    await pollUntil(
      `namespace ${name} was not gone`,
      async () => {
        const ns = await this.optional(`read namespace ${name}`, () => this.core.readNamespace({ name }));
        if (!ns) return { done: true, value: undefined };
        const phase = ns.status?.phase ?? 'Active';
        const finalizers = [...(ns.metadata?.finalizers ?? []), ...(ns.spec?.finalizers ?? [])];
        const conditions = (ns.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.type}: ${c.message ?? c.reason ?? ''}`);
        const pods = await this.listPods(name).catch(() => []);
        const left = pods.length > 0 ? `, pods left: ${pods.map((p) => `${p.name} (${p.phase}${p.terminating ? ', terminating' : ''})`).join(', ')}` : '';
        const held = finalizers.length > 0 ? `, finalizers: ${finalizers.join(', ')}` : '';
        const why = conditions.length > 0 ? `, conditions: ${conditions.join('; ')}` : '';
        return { done: false, seen: `phase ${phase}${held}${why}${left}` };
      },
      options,
    );
    return 'deleted';
  }

  async applyPod(namespace: string, manifest: PodManifest): Promise<KubePod> {
    try {
      const pod = await this.call(`create pod ${namespace}/${manifest.name}`, () => this.core.createNamespacedPod({ namespace, body: podToApi(manifest) }));
      return podFromApi(pod);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) {
        const existing = await this.getPod(namespace, manifest.name);
        if (existing) return existing;
      }
      throw error;
    }
  }

  async applyService(namespace: string, manifest: ServiceManifest): Promise<KubeService> {
    try {
      const service = await this.call(`create service ${namespace}/${manifest.name}`, () =>
        this.core.createNamespacedService({ namespace, body: serviceToApi(manifest) }),
      );
      return serviceFromApi(service);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) {
        const existing = await this.getService(namespace, manifest.name);
        if (existing) return existing;
      }
      throw error;
    }
  }

  async waitForPodReady(namespace: string, name: string, options: WaitOptions): Promise<KubePod> {
    let last: KubePod | undefined;
    try {
      return await pollUntil(
        `pod ${namespace}/${name} did not become Ready`,
        async () => {
          const pod = await this.getPod(namespace, name);
          last = pod ?? last;
          if (!pod) return { done: false, seen: 'no such pod' };
          if (pod.ready) return { done: true, value: pod };
          if (pod.phase === 'Failed' || pod.phase === 'Succeeded') {
            // A pod that ended never becomes Ready: stop waiting at once.
            throw new PodEndedError(`pod ${namespace}/${name} ended (${describePod(pod)})`);
          }
          const looping = crashLooping(pod);
          if (looping) throw new PodEndedError(`pod ${namespace}/${name} will not become Ready: ${looping}`);
          return { done: false, seen: describePod(pod) };
        },
        options,
        (error) => error instanceof PodEndedError,
      );
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      if (!(error instanceof WaitTimeoutError) && !(error instanceof PodEndedError)) throw error;
      const events = await this.getEvents(namespace, name).catch(() => []);
      const warnings = events.filter((e) => e.type === 'Warning');
      const why = (warnings.length > 0 ? warnings : events).slice(-3).map(formatEvent);
      const message = `${error.message}${why.length > 0 ? `; events: ${why.join(' | ')}` : '; no events'}`;
      throw new PodNotReadyError(message, last ? describePod(last) : 'no such pod', last, events);
    }
  }

  async listCiliumNodes(): Promise<CiliumNodeIpam[]> {
    type ApiEni = { id?: string; ip?: string; subnet?: { cidr?: string }; vpc?: { 'primary-cidr'?: string }; addresses?: string[] };
    const list = (await this.call('list ciliumnodes', () => this.custom.listClusterCustomObject({ group: 'cilium.io', version: 'v2', plural: 'ciliumnodes' }))) as {
      items?: { metadata?: { name?: string }; spec?: { ipam?: { podCIDRs?: string[] } }; status?: { eni?: { enis?: Record<string, ApiEni> } } }[];
    };
    return (list.items ?? []).map((n) => ({
      name: n.metadata?.name ?? '',
      podCidrs: n.spec?.ipam?.podCIDRs ?? [],
      enis: Object.entries(n.status?.eni?.enis ?? {}).map(([key, eni]) => ({
        id: eni.id ?? key,
        ...(eni.ip !== undefined ? { ip: eni.ip } : {}),
        ...(eni.subnet?.cidr !== undefined ? { subnetCidr: eni.subnet.cidr } : {}),
        ...(eni.vpc?.['primary-cidr'] !== undefined ? { vpcPrimaryCidr: eni.vpc['primary-cidr'] } : {}),
        addresses: eni.addresses ?? [],
      })),
    }));
  }

  async applyCiliumNetworkPolicy(namespace: string, policy: CiliumNetworkPolicyDocument): Promise<void> {
    const name = policy.metadata.name;
    const target = { group: 'cilium.io', version: 'v2', namespace, plural: 'ciliumnetworkpolicies' };
    const existing = (await this.optional(`read ciliumnetworkpolicy ${namespace}/${name}`, () => this.custom.getNamespacedCustomObject({ ...target, name }))) as
      | { metadata?: { resourceVersion?: string } }
      | undefined;
    const body = { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', ...policy, metadata: { ...policy.metadata, namespace } };
    if (!existing) {
      await this.call(`create ciliumnetworkpolicy ${namespace}/${name}`, () => this.custom.createNamespacedCustomObject({ ...target, body }));
      return;
    }
    // A replace carries the version it replaces (optimistic concurrency, as kubectl apply does).
    const replaced = { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } };
    await this.call(`replace ciliumnetworkpolicy ${namespace}/${name}`, () => this.custom.replaceNamespacedCustomObject({ ...target, name, body: replaced }));
  }

  async deleteCiliumNetworkPolicies(namespace: string): Promise<string[]> {
    const target = { group: 'cilium.io', version: 'v2', namespace, plural: 'ciliumnetworkpolicies' };
    const list = (await this.call(`list ciliumnetworkpolicies in ${namespace}`, () => this.custom.listNamespacedCustomObject(target))) as { items?: { metadata?: { name?: string } }[] };
    const names = (list.items ?? []).map((i) => i.metadata?.name ?? '').filter((n) => n !== '');
    for (const name of names) await this.optional(`delete ciliumnetworkpolicy ${namespace}/${name}`, () => this.custom.deleteNamespacedCustomObject({ ...target, name }));
    return names;
  }

  async labelPod(namespace: string, name: string, labels: Readonly<Record<string, string | null>>): Promise<void> {
    // A JSON merge patch: a null value removes the label.
    await this.call(`label pod ${namespace}/${name}`, () =>
      this.core.patchNamespacedPod({ namespace, name, body: { metadata: { labels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
  }

  async getEndpointIdentity(namespace: string, name: string): Promise<number | undefined> {
    const cep = (await this.optional(`read ciliumendpoint ${namespace}/${name}`, () =>
      this.custom.getNamespacedCustomObject({ group: 'cilium.io', version: 'v2', namespace, plural: 'ciliumendpoints', name }),
    )) as { status?: { identity?: { id?: number } } } | undefined;
    return cep?.status?.identity?.id;
  }

  exec(request: ExecRequest): Promise<ExecResult> {
    return execInPod(this.kc, request);
  }

  /**
   * client-node's PortForward: a WebSocket to pods/NAME/portforward per connection (as kubectl
   * opens a stream per connection); the first two bytes of each channel are the port number,
   * which client-node strips. The error channel ends the connection with the server's message.
   */
  async forwardPort(namespace: string, pod: string, port: number, connection: Duplex): Promise<void> {
    const errors = new PassThrough();
    errors.on('data', (data: Buffer) => {
      const text = data.toString('utf8').trim();
      if (text) connection.destroy(new Error(`port-forward to ${namespace}/${pod}:${port}: ${text}`));
    });
    const socket = await new PortForward(this.kc, true).portForward(namespace, pod, [port], connection, errors, connection);
    const ws = typeof socket === 'function' ? socket() : socket;
    connection.on('close', () => ws?.close());
    ws?.on('close', () => connection.end());
  }
}

class PodEndedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodEndedError';
  }
}
