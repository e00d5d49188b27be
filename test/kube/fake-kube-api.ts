/**
 * A loopback stand-in for the Kubernetes API server, spoken to by the REAL @kubernetes/client-node
 * (kubeconfig `server: http://127.0.0.1:PORT`, bearer token), so the adapter is tested through the
 * library's own request building, deserialisation, error handling and WebSocket exec.
 *
 * What it serves, shaped like a real API server's answers (kind/apiVersion/metadata, Status
 * objects for errors with reason and code):
 *   GET    /api/v1/nodes
 *   GET    /apis/apps/v1/namespaces/NS/{daemonsets,deployments}/NAME
 *   GET    /api/v1/namespaces/NS/{configmaps,services,pods}/NAME
 *   GET    /api/v1/namespaces/NS/pods?labelSelector=a=b,c=d
 *   GET    /api/v1/namespaces/NS/events?fieldSelector=involvedObject.name=X
 *   POST   /api/v1/namespaces, /api/v1/namespaces/NS/{pods,services}
 *   GET    /api/v1/namespaces/NAME ; DELETE /api/v1/namespaces/NAME (Terminating, then gone)
 *   GET    /api/v1/namespaces/NS/pods/NAME/exec?command=..&container=..  (WebSocket upgrade)
 *
 * Pods it creates go through a small kubelet: scheduled by their kubernetes.io/hostname node
 * selector, Pending with events on the first read, then Running and Ready with a pod IP from the
 * node's pod CIDR, unless a `PodBehaviour` says they never get there (image pull failure, no node).
 *
 * Exec speaks the channel protocol client-node 1.4.0 offers (v5.channel.k8s.io first, then
 * v4.channel.k8s.io, ...): one binary frame per chunk, first byte the channel (1 stdout, 2 stderr),
 * then channel 3 with the final Status JSON (Success, or Failure/NonZeroExitCode with the exit
 * code in details.causes[ExitCode]), then a normal close. An exec handler supplies the output.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of the `ws` package (a dependency of client-node, without bundled types) used here. */
interface WsSocket {
  readonly protocol: string;
  send(data: Buffer, cb?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'close', listener: () => void): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
}
interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, cb: (ws: WsSocket) => void): void;
  close(): void;
}
interface WsModule {
  WebSocketServer: new (options: { noServer: true; handleProtocols: (protocols: Set<string>) => string | false }) => WsServer;
}
const { WebSocketServer } = createRequire(import.meta.url)('ws') as WsModule;

export const FAKE_TOKEN = 'fake-kube-token';
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

type Json = Record<string, unknown>;

export interface ExecCall {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
  readonly protocol: string;
}

export interface ExecReply {
  readonly stdout?: string;
  readonly stderr?: string;
  /** 0 (default): Status Success; otherwise Failure/NonZeroExitCode with this code. */
  readonly exitCode?: number;
  /** Close the socket after the output without sending a Status. */
  readonly closeWithoutStatus?: boolean;
  /** Never answer (the client's deadline must end it). */
  readonly hang?: boolean;
}

export type ExecHandler = (call: ExecCall) => ExecReply | Promise<ExecReply>;

export type PodBehaviour =
  /** Ready on the `readyAtRead`-th read of the pod (default 2: the first read sees it Pending). */
  | { readonly kind: 'ready'; readonly readyAtRead?: number }
  /** Scheduled, but its image never pulls: ErrImagePull / ImagePullBackOff with Warning events. */
  | { readonly kind: 'image-pull-fails' }
  /** Never scheduled: PodScheduled False (Unschedulable) with a FailedScheduling event. */
  | { readonly kind: 'unschedulable' }
  /** Starts, exits 1, restarts: Running, not Ready, CrashLoopBackOff with the last termination. */
  | { readonly kind: 'crash-loop' }
  /** Running but its readiness probe fails: Ready False, Unhealthy events. */
  | { readonly kind: 'running-not-ready' };

export interface FakeNodeSpec {
  readonly name: string;
  readonly internalIp: string;
  /** spec.podCIDR; none where kubeadm allocates no node CIDRs (no networking.podSubnet: ENI IPAM). */
  readonly podCidr?: string;
  readonly ready?: boolean;
  readonly controlPlane?: boolean;
  /** status.capacity.pods, the kubelet's maxPods. @default 110 */
  readonly podCapacity?: number;
}

/** One ENI of a CiliumNode's status.eni.enis, as Cilium's operator writes it (ENI IPAM). */
export interface FakeCiliumEni {
  readonly id: string;
  readonly ip: string;
  readonly subnetCidr: string;
  readonly vpcPrimaryCidr: string;
  /** Secondary addresses; the agents hand them to pods in this order. */
  readonly addresses: readonly string[];
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

interface PodState {
  obj: Json;
  reads: number;
  behaviour: PodBehaviour;
  /** The CNI could not give it an address (its FailedCreatePodSandBox event is out). */
  sandboxFailed?: boolean;
}

const key = (ns: string, name: string): string => `${ns}/${name}`;
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

let uidCounter = 0;
const uid = (): string => `00000000-0000-4000-8000-${String(++uidCounter).padStart(12, '0')}`;

function status(code: number, reason: string, message: string, details: Json = {}): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

/** Label selector "a=b,c=d" (equality only, as the checks use it). */
function matchesSelector(labels: Json | undefined, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return k !== undefined && (labels?.[k.trim()] as string | undefined) === v?.trim();
  });
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  readonly execCalls: ExecCall[] = [];
  readonly deletedNamespaces: string[] = [];
  readonly createdPods: string[] = [];

  private readonly nodes = new Map<string, Json>();
  /** CiliumNode spec.ipam.podCIDRs per node (what Cilium's IPAM allocated). */
  readonly ciliumNodePodCidrs = new Map<string, string[]>();
  /** ENI IPAM: each node's ENIs in its CiliumNode status.eni.enis; its pods get their secondary addresses. */
  readonly ciliumNodeEnis = new Map<string, FakeCiliumEni[]>();
  private readonly namespaces = new Map<string, { obj: Json; readsLeft: number }>();
  private readonly daemonSets = new Map<string, Json>();
  private readonly deployments = new Map<string, Json>();
  private readonly configMaps = new Map<string, Json>();
  private readonly services = new Map<string, Json>();
  /** CiliumNetworkPolicies by namespace/name (cilium.io/v2), as applied. */
  readonly ciliumNetworkPolicies = new Map<string, Json>();
  private resourceVersion = 100;
  /** The next nodePort to hand out (the API server's default range starts at 30000). */
  private nextNodePort = 30080;
  private readonly pods = new Map<string, PodState>();
  private readonly events: Json[] = [];
  private readonly behaviours = new Map<string, PodBehaviour>();
  private readonly ipCounters = new Map<string, number>();
  private serviceIpCounter = 10;
  private execHandler: ExecHandler = () => ({ stderr: 'fake: no exec handler\n', exitCode: 126 });
  /** Reads of a Terminating namespace before it is gone. */
  namespaceTerminationReads = 1;
  /** The API server's clock against this machine's (ms; negative: the cluster runs behind). Namespaces are stamped with it. */
  clockOffsetMs = 0;
  /** Namespaces whose deletion never completes (stuck finalizer). */
  readonly stuckNamespaces = new Set<string>();
  /**
   * As a real API server: DELETE of a namespace with propagationPolicy=Foreground puts the
   * `foregroundDeletion` finalizer on it, which only the garbage collector removes; a namespace
   * held that way may never go (kubernetes/kubernetes#111251). The fake holds it forever.
   */
  readonly foregroundHeld = new Set<string>();

  private constructor(
    private readonly server: Server,
    private readonly wss: WsServer,
    readonly url: string,
  ) {}

  /** The exec subprotocols this server accepts, in its order of preference (a 1.29 server: v4 only). */
  acceptedProtocols: readonly string[] = EXEC_PROTOCOLS;

  static async start(): Promise<FakeKubeApi> {
    let self: FakeKubeApi | undefined;
    const wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => self?.acceptedProtocols.find((p) => offered.has(p)) ?? false,
    });
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const fake = new FakeKubeApi(server, wss, `http://127.0.0.1:${port}`);
    self = fake;
    server.on('request', (req, res) => fake.handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => fake.upgrade(req, socket, head));
    for (const ns of ['default', 'kube-system', 'kube-public']) fake.addNamespace(ns);
    return fake;
  }

  async close(): Promise<void> {
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig (context CiliumLab) pointing at this server, written to a temp dir. */
  writeKubeconfig(dir = mkdtempSync(join(tmpdir(), 'fake-kube-'))): string {
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: cilium-lab',
        '  cluster:',
        `    server: ${this.url}`,
        // client-node refuses plain HTTP unless TLS verification is explicitly off.
        '    insecure-skip-tls-verify: true',
        'users:',
        '- name: kubernetes-admin',
        '  user:',
        `    token: ${FAKE_TOKEN}`,
        'contexts:',
        '- name: CiliumLab',
        '  context:',
        '    cluster: cilium-lab',
        '    user: kubernetes-admin',
        'current-context: CiliumLab',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return path;
  }

  // ---- state set-up ------------------------------------------------------------------------

  onExec(handler: ExecHandler): void {
    this.execHandler = handler;
  }

  podBehaviour(name: string, behaviour: PodBehaviour): void {
    this.behaviours.set(name, behaviour);
  }

  addNamespace(name: string): void {
    this.namespaces.set(name, {
      obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: uid(), creationTimestamp: new Date(Date.now() + this.clockOffsetMs).toISOString().replace(/\.\d+Z$/, 'Z'), labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
      readsLeft: -1,
    });
  }

  /** The Node object as the API holds it (tests read what a kubelet posted). */
  nodeNamed(name: string): Json | undefined {
    return this.nodes.get(name);
  }

  hasNamespace(name: string): boolean {
    return this.namespaces.has(name);
  }

  addNode(spec: FakeNodeSpec): void {
    const ready = spec.ready ?? true;
    this.nodes.set(spec.name, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: spec.name,
        uid: uid(),
        creationTimestamp: now(),
        labels: {
          'kubernetes.io/hostname': spec.name,
          'kubernetes.io/os': 'linux',
          ...(spec.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
        },
      },
      spec: {
        ...(spec.podCidr !== undefined ? { podCIDR: spec.podCidr, podCIDRs: [spec.podCidr] } : {}),
        ...(spec.controlPlane ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {}),
      },
      status: {
        addresses: [
          { type: 'InternalIP', address: spec.internalIp },
          { type: 'Hostname', address: spec.name },
        ],
        capacity: { cpu: '4', memory: '16202300Ki', pods: String(spec.podCapacity ?? 110) },
        allocatable: { cpu: '4', memory: '16099900Ki', pods: String(spec.podCapacity ?? 110) },
        conditions: [
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: now(), lastTransitionTime: now() },
          ready
            ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }
            : {
                type: 'Ready',
                status: 'False',
                reason: 'KubeletNotReady',
                message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
                lastHeartbeatTime: now(),
                lastTransitionTime: now(),
              },
        ],
        nodeInfo: { kubeletVersion: 'v1.30.14', containerRuntimeVersion: 'containerd://1.7.27', kernelVersion: '6.8.0-1021-aws', osImage: 'Ubuntu 22.04.5 LTS', architecture: 'amd64', operatingSystem: 'linux' },
      },
    });
  }

  addDaemonSet(ns: string, name: string, counts: { desired: number; ready: number }, labels: Json = {}): void {
    this.daemonSets.set(key(ns, name), {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace: ns, uid: uid(), generation: 1, creationTimestamp: now(), labels },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `${name}:fake` }] } } },
      status: {
        currentNumberScheduled: counts.desired,
        desiredNumberScheduled: counts.desired,
        numberMisscheduled: 0,
        numberReady: counts.ready,
        numberAvailable: counts.ready,
        ...(counts.ready < counts.desired ? { numberUnavailable: counts.desired - counts.ready } : {}),
        updatedNumberScheduled: counts.desired,
        observedGeneration: 1,
      },
    });
  }

  addDeployment(ns: string, name: string, counts: { replicas: number; ready: number }): void {
    this.deployments.set(key(ns, name), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns, uid: uid(), generation: 1, creationTimestamp: now() },
      spec: { replicas: counts.replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:fake` }] } } },
      status: {
        observedGeneration: 1,
        replicas: counts.replicas,
        updatedReplicas: counts.replicas,
        ...(counts.ready > 0 ? { readyReplicas: counts.ready, availableReplicas: counts.ready } : { unavailableReplicas: counts.replicas }),
        conditions: [
          { type: 'Available', status: counts.ready >= counts.replicas ? 'True' : 'False', reason: counts.ready >= counts.replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: '' },
        ],
      },
    });
  }

  configMap(ns: string, name: string): Json | undefined {
    return this.configMaps.get(key(ns, name));
  }

  addConfigMap(ns: string, name: string, data: Record<string, string>): void {
    this.configMaps.set(key(ns, name), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, uid: uid(), creationTimestamp: now() }, data });
  }

  addService(ns: string, name: string, clusterIp: string, port: number, selector: Json = {}, targetPort = port): void {
    this.services.set(key(ns, name), this.serviceObject(ns, { metadata: { name }, spec: { selector, ports: [{ port, targetPort, protocol: 'TCP' }] } }, clusterIp));
  }

  /** A running, Ready pod that exists from the start (cilium agents and the like). */
  addRunningPod(ns: string, name: string, nodeName: string, labels: Json, containers: readonly string[], hostNetwork = false): void {
    const node = this.nodes.get(nodeName);
    const hostIp = this.internalIp(node);
    const obj: Json = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, uid: uid(), creationTimestamp: now(), labels },
      spec: { nodeName, hostNetwork, containers: containers.map((c) => ({ name: c, image: `${c}:fake` })) },
      status: {},
    };
    const state: PodState = { obj, reads: 0, behaviour: { kind: 'ready', readyAtRead: 0 } };
    this.makeRunning(state, hostNetwork ? hostIp : (this.nextPodIp(nodeName) ?? hostIp));
    this.pods.set(key(ns, name), state);
  }

  /** The pod object as the server holds it. */
  pod(ns: string, name: string): Json | undefined {
    return this.pods.get(key(ns, name))?.obj;
  }

  /** Pods bound to a node, in every namespace, not being deleted (what the scheduler counts against maxPods). */
  private podsOnNode(nodeName: string): number {
    return [...this.pods.values()].filter((p) => (p.obj.spec as Json).nodeName === nodeName && (p.obj.metadata as Json).deletionTimestamp === undefined).length;
  }

  podsIn(ns: string): Json[] {
    return [...this.pods.entries()].filter(([k]) => k.startsWith(`${ns}/`)).map(([, s]) => s.obj);
  }

  /**
   * A LoadBalancer IP controller (Cilium's LB IPAM in the lab world): called for a Service of type
   * LoadBalancer without an address, on each read after the first (the controller acts after the
   * create, never within it); the address it returns lands in status.loadBalancer.ingress.
   */
  loadBalancerIpam: ((service: Json) => string | undefined) | undefined;
  private readonly serviceReads = new Map<string, number>();

  private readService(ns: string, name: string): Json | undefined {
    const svc = this.services.get(key(ns, name));
    if (!svc || (svc.spec as Json).type !== 'LoadBalancer' || !this.loadBalancerIpam) return svc;
    const reads = (this.serviceReads.get(key(ns, name)) ?? 0) + 1;
    this.serviceReads.set(key(ns, name), reads);
    const status = svc.status as Json;
    if (reads > 1 && !((status.loadBalancer as Json).ingress as Json[] | undefined)?.length) {
      const ip = this.loadBalancerIpam(svc);
      if (ip) svc.status = { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } };
    }
    return svc;
  }

  servicesIn(ns: string): Json[] {
    return [...this.services].filter(([k]) => k.startsWith(`${ns}/`)).map(([, v]) => v);
  }

  /** The node whose InternalIP is `ip`. */
  nodeNameByIp(ip: string): string | undefined {
    for (const [name, node] of this.nodes) {
      if ((((node.status as Json).addresses ?? []) as Json[]).some((a) => a.type === 'InternalIP' && a.address === ip)) return name;
    }
    return undefined;
  }

  serviceIn(ns: string, name: string): Json | undefined {
    return this.services.get(key(ns, name));
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private send(req: IncomingMessage, res: ServerResponse, code: number, body: Json): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, status: code });
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Audit-Id': uid() });
    res.end(text);
  }

  private async readBody(req: IncomingMessage): Promise<Json> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Json) : {};
  }

  private authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${FAKE_TOKEN}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorized(req)) {
        this.send(req, res, 401, status(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      const method = req.method ?? 'GET';
      const path = url.pathname;
      let m: RegExpExecArray | null;

      if ((m = /^\/apis\/cilium\.io\/v2\/namespaces\/([^/]+)\/ciliumnetworkpolicies(?:\/([^/]+))?$/.exec(path))) {
        await this.ciliumNetworkPolicyRoute(req, res, method, m[1] as string, m[2]);
      } else if ((m = /^\/apis\/cilium\.io\/v2\/namespaces\/([^/]+)\/ciliumendpoints\/([^/]+)$/.exec(path)) && method === 'GET') {
        // Cilium's CiliumEndpoint: the pod's security identity, one per distinct label set (as the agents allocate them).
        const [, ns, name] = m as unknown as [string, string, string];
        const state = this.pods.get(key(ns, name));
        if (!state || (state.obj.status as Json).phase !== 'Running') {
          this.send(req, res, 404, status(404, 'NotFound', `ciliumendpoints.cilium.io "${name}" not found`, { name, group: 'cilium.io', kind: 'ciliumendpoints' }));
          return;
        }
        const labels = (state.obj.metadata as Json).labels as Record<string, string> | undefined;
        this.send(req, res, 200, { apiVersion: 'cilium.io/v2', kind: 'CiliumEndpoint', metadata: { name, namespace: ns }, status: { identity: { id: this.identityOf(ns, labels ?? {}), labels: Object.entries(labels ?? {}).map(([k, v]) => `k8s:${k}=${v}`) } } });
      } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path)) && method === 'PATCH') {
        const [, ns, name] = m as unknown as [string, string, string];
        if (req.headers['content-type'] !== 'application/merge-patch+json') {
          this.send(req, res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
          return;
        }
        const body = await this.readBody(req);
        const state = this.pods.get(key(ns, name));
        if (!state) {
          this.send(req, res, 404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
          return;
        }
        const meta = state.obj.metadata as Json;
        const labels = { ...((meta.labels as Json | undefined) ?? {}) };
        for (const [k, v] of Object.entries(((body.metadata as Json | undefined)?.labels as Json | undefined) ?? {})) {
          if (v === null) delete labels[k];
          else labels[k] = v;
        }
        meta.labels = labels;
        this.send(req, res, 200, state.obj);
      } else if (method === 'GET' && path === '/apis/cilium.io/v2/ciliumnodes') {
        // Cilium's CRD: one CiliumNode per node, spec.ipam.podCIDRs what cluster-pool IPAM gave it,
        // status.eni.enis the ENIs the operator attached (ENI IPAM), keyed by ENI id.
        const names = [...new Set([...this.ciliumNodePodCidrs.keys(), ...this.ciliumNodeEnis.keys()])];
        const items = names.map((name) => {
          const enis = this.ciliumNodeEnis.get(name);
          return {
            apiVersion: 'cilium.io/v2',
            kind: 'CiliumNode',
            metadata: { name },
            spec: { ipam: { ...(this.ciliumNodePodCidrs.has(name) ? { podCIDRs: this.ciliumNodePodCidrs.get(name) } : {}) } },
            ...(enis
              ? {
                  status: {
                    eni: {
                      enis: Object.fromEntries(
                        enis.map((e, i) => [e.id, { id: e.id, ip: e.ip, number: i, subnet: { id: `subnet-${i}`, cidr: e.subnetCidr }, vpc: { id: 'vpc-1', 'primary-cidr': e.vpcPrimaryCidr }, addresses: [...e.addresses], description: `Cilium-CNI (i-${name})` }]),
                      ),
                    },
                  },
                }
              : {}),
          };
        });
        this.send(req, res, 200, { apiVersion: 'cilium.io/v2', kind: 'CiliumNodeList', metadata: {}, items });
      } else if (method === 'GET' && path === '/api/v1/pods') {
        // All namespaces; the one field selector the lab uses: spec.nodeName=NAME.
        const selector = url.searchParams.get('fieldSelector') ?? '';
        const node = /^spec\.nodeName=(.+)$/.exec(selector)?.[1];
        if (selector !== '' && node === undefined) {
          this.send(req, res, 400, status(400, 'BadRequest', `field label not supported: ${selector.split('=')[0]}`));
          return;
        }
        const items = [...this.pods.values()].map((p) => p.obj).filter((p) => node === undefined || (p.spec as Json).nodeName === node);
        this.send(req, res, 200, this.list('PodList', items));
      } else if (method === 'GET' && path === '/api/v1/nodes') {
        this.send(req, res, 200, this.list('NodeList', [...this.nodes.values()]));
      } else if (method === 'POST' && path === '/api/v1/namespaces') {
        const body = await this.readBody(req);
        const name = (body.metadata as Json | undefined)?.name as string;
        const existing = this.namespaces.get(name);
        if (existing) {
          const terminating = (existing.obj.status as Json).phase === 'Terminating';
          this.send(req, res, 409, status(409, 'AlreadyExists', terminating ? `object is being deleted: namespaces "${name}" already exists` : `namespaces "${name}" already exists`, { name, kind: 'namespaces' }));
          return;
        }
        this.addNamespace(name);
        const ns = this.namespaces.get(name) as { obj: Json };
        (ns.obj.metadata as Json).labels = { ...((ns.obj.metadata as Json).labels as Json), ...((body.metadata as Json).labels as Json | undefined) };
        this.send(req, res, 201, ns.obj);
      } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path))) {
        const name = decodeURIComponent(m[1] as string);
        this.namespaceRoute(req, res, method, name);
      } else if ((m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(daemonsets|deployments)\/([^/]+)$/.exec(path)) && method === 'GET') {
        const [, ns, kind, name] = m as unknown as [string, string, string, string];
        const obj = (kind === 'daemonsets' ? this.daemonSets : this.deployments).get(key(ns, name));
        if (obj) this.send(req, res, 200, obj);
        else this.send(req, res, 404, status(404, 'NotFound', `${kind}.apps "${name}" not found`, { name, group: 'apps', kind }));
      } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/(configmaps|services|pods)\/([^/]+)$/.exec(path)) && method === 'GET') {
        const [, ns, kind, name] = m as unknown as [string, string, string, string];
        const obj = kind === 'configmaps' ? this.configMaps.get(key(ns, name)) : kind === 'services' ? this.readService(ns, name) : this.readPod(ns, name);
        if (obj) this.send(req, res, 200, obj);
        else this.send(req, res, 404, status(404, 'NotFound', `${kind} "${name}" not found`, { name, kind }));
      } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)) && method === 'GET') {
        const ns = m[1] as string;
        const selector = url.searchParams.get('labelSelector');
        // A list is a read of every pod in it: the kubelets move them along as for a GET.
        const items = this.podsIn(ns)
          .filter((p) => matchesSelector((p.metadata as Json).labels as Json, selector))
          .map((p) => this.readPod(ns, (p.metadata as Json).name as string) ?? p);
        this.send(req, res, 200, this.list('PodList', items));
      } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|services)$/.exec(path)) && method === 'POST') {
        const [, ns, kind] = m as unknown as [string, string, string];
        const body = await this.readBody(req);
        this.create(req, res, ns, kind, body);
      } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(path)) && method === 'GET') {
        const ns = m[1] as string;
        const field = url.searchParams.get('fieldSelector');
        const name = field?.startsWith('involvedObject.name=') ? field.slice('involvedObject.name='.length) : undefined;
        const items = this.events.filter((e) => (e.metadata as Json).namespace === ns && (name === undefined || (e.involvedObject as Json).name === name));
        this.send(req, res, 200, this.list('EventList', items));
      } else {
        this.send(req, res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      }
    } catch (error) {
      this.send(req, res, 500, status(500, 'InternalError', `fake: ${(error as Error).message}`));
    }
  }

  private list(kind: string, items: Json[]): Json {
    return { kind, apiVersion: 'v1', metadata: { resourceVersion: String(1000 + this.requests.length) }, items };
  }

  private namespaceRoute(req: IncomingMessage, res: ServerResponse, method: string, name: string): void {
    const ns = this.namespaces.get(name);
    const notFound = () => this.send(req, res, 404, status(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' }));
    if (method === 'GET') {
      if (!ns) return notFound();
      if ((ns.obj.status as Json).phase === 'Terminating' && !this.stuckNamespaces.has(name) && !this.foregroundHeld.has(name)) {
        if (ns.readsLeft <= 0) {
          this.purgeNamespace(name);
          return notFound();
        }
        ns.readsLeft -= 1;
      }
      this.send(req, res, 200, ns.obj);
    } else if (method === 'DELETE') {
      if (!ns) return notFound();
      if ((ns.obj.status as Json).phase !== 'Terminating') {
        ns.obj.status = { phase: 'Terminating' };
        const policy = new URL(req.url ?? '/', 'http://localhost').searchParams.get('propagationPolicy');
        if (policy === 'Foreground') {
          this.foregroundHeld.add(name);
          (ns.obj.metadata as Json).finalizers = ['foregroundDeletion'];
        }
        if (this.stuckNamespaces.has(name) || policy === 'Foreground') {
          // What a namespace held by finalizers reports (the namespace controller's conditions).
          (ns.obj.spec as Json | undefined) ?? ((ns.obj as Json).spec = {});
          ((ns.obj as Json).spec as Json).finalizers = ['kubernetes'];
          (ns.obj.status as Json).conditions = [
            { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/held in 1 resource instances' },
          ];
        }
        (ns.obj.metadata as Json).deletionTimestamp = now();
        ns.readsLeft = this.namespaceTerminationReads;
        this.deletedNamespaces.push(name);
        for (const p of this.podsIn(name)) (p.metadata as Json).deletionTimestamp = now();
      }
      this.send(req, res, 200, ns.obj);
    } else {
      this.send(req, res, 405, status(405, 'MethodNotAllowed', `method ${method} not allowed`));
    }
  }

  private readonly identities = new Map<string, number>();

  /** The identity of a label set in a namespace: new label sets get the next number from 10000 up. */
  identityOf(ns: string, labels: Readonly<Record<string, string>>): number {
    const k = `${ns}|${Object.entries(labels).filter(([name]) => name !== 'pod-template-hash').sort().map(([a, b]) => `${a}=${b}`).join(',')}`;
    if (!this.identities.has(k)) this.identities.set(k, 10000 + this.identities.size * 137);
    return this.identities.get(k) as number;
  }

  private async ciliumNetworkPolicyRoute(req: IncomingMessage, res: ServerResponse, method: string, ns: string, name: string | undefined): Promise<void> {
    const notFound = (n: string) => this.send(req, res, 404, status(404, 'NotFound', `ciliumnetworkpolicies.cilium.io "${n}" not found`, { name: n, group: 'cilium.io', kind: 'ciliumnetworkpolicies' }));
    if (name === undefined && method === 'GET') {
      const items = [...this.ciliumNetworkPolicies].filter(([k]) => k.startsWith(`${ns}/`)).map(([, v]) => v);
      this.send(req, res, 200, { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicyList', metadata: {}, items });
      return;
    }
    if (name === undefined && method === 'POST') {
      const body = await this.readBody(req);
      const n = (body.metadata as Json).name as string;
      if (!this.namespaces.has(ns)) return void this.send(req, res, 404, status(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }));
      if (this.ciliumNetworkPolicies.has(key(ns, n))) return void this.send(req, res, 409, status(409, 'AlreadyExists', `ciliumnetworkpolicies.cilium.io "${n}" already exists`, { name: n, kind: 'ciliumnetworkpolicies' }));
      const obj = { ...body, metadata: { ...(body.metadata as Json), namespace: ns, uid: uid(), resourceVersion: String(++this.resourceVersion), creationTimestamp: now() } };
      this.ciliumNetworkPolicies.set(key(ns, n), obj);
      this.send(req, res, 201, obj);
      return;
    }
    const existing = name === undefined ? undefined : this.ciliumNetworkPolicies.get(key(ns, name));
    if (name === undefined || !existing) return void notFound(name ?? '');
    if (method === 'GET') return void this.send(req, res, 200, existing);
    if (method === 'DELETE') {
      this.ciliumNetworkPolicies.delete(key(ns, name));
      return void this.send(req, res, 200, status(200, '', '', { name, kind: 'ciliumnetworkpolicies' }));
    }
    if (method === 'PUT') {
      const body = await this.readBody(req);
      const sent = ((body.metadata as Json | undefined)?.resourceVersion as string | undefined) ?? '';
      // Optimistic concurrency, as the API server does: a replace must carry the current version.
      if (sent !== (existing.metadata as Json).resourceVersion) {
        return void this.send(req, res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ciliumnetworkpolicies.cilium.io "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: 'ciliumnetworkpolicies' }));
      }
      const obj = { ...body, metadata: { ...(body.metadata as Json), namespace: ns, resourceVersion: String(++this.resourceVersion) } };
      this.ciliumNetworkPolicies.set(key(ns, name), obj);
      return void this.send(req, res, 200, obj);
    }
    this.send(req, res, 405, status(405, 'MethodNotAllowed', `method ${method} not allowed`));
  }

  private purgeNamespace(name: string): void {
    this.namespaces.delete(name);
    for (const map of [this.configMaps, this.services, this.daemonSets, this.deployments, this.ciliumNetworkPolicies]) {
      for (const k of [...map.keys()]) if (k.startsWith(`${name}/`)) map.delete(k);
    }
    for (const k of [...this.pods.keys()]) if (k.startsWith(`${name}/`)) this.pods.delete(k);
    for (let i = this.events.length - 1; i >= 0; i--) if (((this.events[i] as Json).metadata as Json).namespace === name) this.events.splice(i, 1);
  }

  private create(req: IncomingMessage, res: ServerResponse, ns: string, kind: string, body: Json): void {
    const meta = body.metadata as Json;
    const name = meta.name as string;
    const namespace = this.namespaces.get(ns);
    if (!namespace) {
      this.send(req, res, 404, status(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }));
      return;
    }
    if ((namespace.obj.status as Json).phase === 'Terminating') {
      this.send(req, res, 403, status(403, 'Forbidden', `${kind} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, { name, kind }));
      return;
    }
    const store = kind === 'pods' ? this.pods : this.services;
    if (store.has(key(ns, name))) {
      this.send(req, res, 409, status(409, 'AlreadyExists', `${kind} "${name}" already exists`, { name, kind }));
      return;
    }
    if (kind === 'services') {
      const svc = this.serviceObject(ns, body, `10.10.${Math.floor(this.serviceIpCounter / 250)}.${(this.serviceIpCounter++ % 250) + 1}`);
      this.services.set(key(ns, name), svc);
      this.send(req, res, 201, svc);
      return;
    }
    const obj = this.podObject(ns, body);
    const state: PodState = { obj, reads: 0, behaviour: this.behaviours.get(name) ?? { kind: 'ready' } };
    this.pods.set(key(ns, name), state);
    this.createdPods.push(key(ns, name));
    this.schedule(state);
    this.send(req, res, 201, obj);
  }

  private serviceObject(ns: string, body: Json, clusterIp: string): Json {
    const meta = body.metadata as Json;
    const spec = (body.spec ?? {}) as Json;
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { ...meta, namespace: ns, uid: uid(), creationTimestamp: now(), resourceVersion: '1' },
      spec: {
        ...spec,
        type: spec.type ?? 'ClusterIP',
        // As the API server defaults it: externalTrafficPolicy Cluster for NodePort services, and
        // a nodePort from the default range 30000-32767 for each port that has none.
        ...(spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? { externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster' } : {}),
        ...(spec.type === 'LoadBalancer' ? { allocateLoadBalancerNodePorts: true } : {}),
        clusterIP: clusterIp,
        clusterIPs: [clusterIp],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        sessionAffinity: 'None',
        internalTrafficPolicy: 'Cluster',
        ports: ((spec.ports ?? []) as Json[]).map((p) => ({ protocol: 'TCP', ...p, ...((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && p.nodePort === undefined ? { nodePort: this.nextNodePort++ } : {}) })),
      },
      status: { loadBalancer: {} },
    };
  }

  private podObject(ns: string, body: Json): Json {
    const meta = body.metadata as Json;
    const spec = body.spec as Json;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...meta, namespace: ns, uid: uid(), creationTimestamp: now(), resourceVersion: '1' },
      spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', ...spec },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    };
  }

  // ---- the scheduler and kubelet -------------------------------------------------------------

  private event(ns: string, pod: string, type: string, reason: string, message: string, component: string, count = 1): void {
    const existing = this.events.find((e) => (e.involvedObject as Json).name === pod && e.reason === reason && (e.metadata as Json).namespace === ns);
    if (existing) {
      existing.count = (existing.count as number) + count;
      existing.lastTimestamp = now();
      return;
    }
    this.events.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod}.${uid().slice(-12)}`, namespace: ns, creationTimestamp: now() },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod, namespace: ns },
      reason,
      message,
      type,
      count,
      firstTimestamp: now(),
      lastTimestamp: now(),
      source: { component },
      reportingComponent: component,
    });
  }

  private internalIp(node: Json | undefined): string {
    const addresses = ((node?.status as Json | undefined)?.addresses ?? []) as Json[];
    return (addresses.find((a) => a.type === 'InternalIP')?.address as string | undefined) ?? '';
  }

  /**
   * The next pod address the node's Cilium agent hands out, or undefined when its pool is full
   * ("range is full"). ENI IPAM: the node's ENIs' secondary addresses, in the operator's order.
   * Kubernetes or cluster-pool IPAM: the node's block, less its network and broadcast addresses
   * and the two the agent keeps for itself (router and health: cilium/cilium#46598 lists them).
   */
  private nextPodIp(nodeName: string): string | undefined {
    const n = this.ipCounters.get(nodeName) ?? 0;
    const enis = this.ciliumNodeEnis.get(nodeName);
    if (enis) {
      const address = enis.flatMap((e) => e.addresses)[n];
      if (address !== undefined) this.ipCounters.set(nodeName, n + 1);
      return address;
    }
    // Cilium's IPAM decides: with cluster-pool its CiliumNode's block, with Kubernetes IPAM the Node's podCIDR.
    const cidr = this.ciliumNodePodCidrs.get(nodeName)?.[0] ?? ((this.nodes.get(nodeName)?.spec as Json | undefined)?.podCIDR as string | undefined) ?? '172.16.99.0/24';
    const [base, prefix] = cidr.split('/') as [string, string];
    const size = 2 ** (32 - Number(prefix));
    // Host offsets 1 and 2 are the agent's router and health addresses; pods get 11 and up, then 3-10.
    const usable = size - 2 - 2;
    if (n >= usable) return undefined;
    const offset = n < size - 2 - 10 ? 11 + n : 3 + (n - (size - 2 - 10));
    this.ipCounters.set(nodeName, n + 1);
    const start = base.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    const ip = start + offset;
    return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
  }

  private schedule(state: PodState): void {
    const meta = state.obj.metadata as Json;
    const spec = state.obj.spec as Json;
    const ns = meta.namespace as string;
    const name = meta.name as string;
    const wanted = ((spec.nodeSelector ?? {}) as Json)['kubernetes.io/hostname'] as string | undefined;
    const node = wanted ? this.nodes.get(wanted) : [...this.nodes.values()][0];
    if (state.behaviour.kind === 'unschedulable' || !node) {
      state.obj.status = {
        phase: 'Pending',
        qosClass: 'BestEffort',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: `0/${this.nodes.size} nodes are available: ${this.nodes.size} node(s) didn't match Pod's node affinity/selector. preemption: 0/${this.nodes.size} nodes are available: ${this.nodes.size} Preemption is not helpful for scheduling.`,
            lastTransitionTime: now(),
          },
        ],
      };
      this.event(ns, name, 'Warning', 'FailedScheduling', ((state.obj.status as Json).conditions as Json[])[0]?.message as string, 'default-scheduler');
      return;
    }
    const nodeName = (node.metadata as Json).name as string;
    // The scheduler's NodeResourcesFit: a node takes no more pods than status.allocatable.pods
    // (the kubelet's maxPods), counting every pod bound to it, host-network ones included.
    const allocatable = Number((((node.status as Json).allocatable ?? {}) as Json).pods ?? 110);
    if (this.podsOnNode(nodeName) >= allocatable) {
      const n = this.nodes.size;
      const message = `0/${n} nodes are available: 1 Too many pods${n > 1 ? `, ${n - 1} node(s) didn't match Pod's node affinity/selector` : ''}. preemption: 0/${n} nodes are available: 1 No preemption victims found for incoming pod${n > 1 ? `, ${n - 1} Preemption is not helpful for scheduling` : ''}.`;
      state.obj.status = { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now() }] };
      this.event(ns, name, 'Warning', 'FailedScheduling', message, 'default-scheduler');
      return;
    }
    spec.nodeName = nodeName;
    state.obj.status = {
      phase: 'Pending',
      qosClass: 'BestEffort',
      hostIP: this.internalIp(node),
      hostIPs: [{ ip: this.internalIp(node) }],
      startTime: now(),
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'False', lastTransitionTime: now() },
        { type: 'Initialized', status: 'True', lastTransitionTime: now() },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [' + this.containerNames(state).join(' ') + ']', lastTransitionTime: now() },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now() },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now() },
      ],
      containerStatuses: this.containerNames(state).map((c, i) => ({
        name: c,
        image: this.images(state)[i],
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
      })),
    };
    this.event(ns, name, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${nodeName}`, 'default-scheduler');
  }

  private containerNames(state: PodState): string[] {
    return (((state.obj.spec as Json).containers ?? []) as Json[]).map((c) => c.name as string);
  }

  private images(state: PodState): string[] {
    return (((state.obj.spec as Json).containers ?? []) as Json[]).map((c) => c.image as string);
  }

  private makeRunning(state: PodState, podIp: string): void {
    const spec = state.obj.spec as Json;
    const node = this.nodes.get(spec.nodeName as string);
    const hostIp = this.internalIp(node);
    const t = now();
    state.obj.status = {
      phase: 'Running',
      qosClass: 'BestEffort',
      hostIP: hostIp,
      hostIPs: [{ ip: hostIp }],
      podIP: podIp,
      podIPs: [{ ip: podIp }],
      startTime: t,
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: t })),
      containerStatuses: this.containerNames(state).map((c, i) => ({
        name: c,
        image: this.images(state)[i] ?? `${c}:fake`,
        imageID: `docker.io/library/${c}@sha256:${'0'.repeat(64)}`,
        containerID: `containerd://${'a'.repeat(64)}`,
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: t } },
        lastState: {},
      })),
    };
  }

  /** A read by the client: the kubelet moves the pod along. */
  private readPod(ns: string, name: string): Json | undefined {
    const state = this.pods.get(key(ns, name));
    if (!state) return undefined;
    state.reads += 1;
    const spec = state.obj.spec as Json;
    const nodeName = spec.nodeName as string | undefined;
    const b = state.behaviour;
    if (nodeName && (state.obj.status as Json).phase === 'Pending' && (state.obj.metadata as Json).deletionTimestamp === undefined) {
      // A pod on the host network has the node's address and takes none from the pool.
      const onHost = (spec.hostNetwork as boolean | undefined) === true ? this.internalIp(this.nodes.get(nodeName)) : undefined;
      const podIp = b.kind === 'ready' && state.reads >= (b.readyAtRead ?? 2) ? (onHost ?? this.nextPodIp(nodeName)) : undefined;
      if (b.kind === 'ready' && state.reads >= (b.readyAtRead ?? 2) && podIp === undefined) {
        // The node's pool is full: the CNI ADD fails, the pod stays ContainerCreating, the kubelet
        // retries (cilium/cilium#10627 quotes the event).
        if (!state.sandboxFailed) {
          state.sandboxFailed = true;
          this.event(
            ns,
            name,
            'Warning',
            'FailedCreatePodSandBox',
            `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${uid().replace(/-/g, '')}": plugin type="cilium-cni" name="cilium" failed (add): unable to allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure  range is full`,
            'kubelet',
          );
        }
      } else if (b.kind === 'ready' && state.reads >= (b.readyAtRead ?? 2)) {
        for (const [i, image] of this.images(state).entries()) {
          this.event(ns, name, 'Normal', 'Pulled', `Successfully pulled image "${image}" in 1.2s (1.2s including waiting). Image size: 4567890 bytes.`, 'kubelet');
          this.event(ns, name, 'Normal', 'Created', `Created container ${this.containerNames(state)[i]}`, 'kubelet');
          this.event(ns, name, 'Normal', 'Started', `Started container ${this.containerNames(state)[i]}`, 'kubelet');
        }
        this.makeRunning(state, podIp as string);
      } else if (b.kind === 'crash-loop' || b.kind === 'running-not-ready') {
        this.makeRunning(state, this.nextPodIp(nodeName) ?? '');
        const status = state.obj.status as Json;
        for (const c of (status.conditions ?? []) as Json[]) if (c.type === 'Ready' || c.type === 'ContainersReady') Object.assign(c, { status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${this.containerNames(state).join(' ')}]` });
        for (const c of (status.containerStatuses ?? []) as Json[]) {
          c.ready = false;
          if (b.kind === 'crash-loop') {
            Object.assign(c, {
              started: false,
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=${String(c.name)} pod=${name}_${ns}(${String((state.obj.metadata as Json).uid)})` } },
              lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now(), finishedAt: now() } },
            });
            this.event(ns, name, 'Warning', 'BackOff', `Back-off restarting failed container ${String(c.name)} in pod ${name}_${ns}`, 'kubelet');
          } else {
            this.event(ns, name, 'Warning', 'Unhealthy', 'Readiness probe failed: Get "http://172.16.1.9:80/": dial tcp 172.16.1.9:80: connect: connection refused', 'kubelet');
          }
        }
      } else if (b.kind === 'image-pull-fails') {
        const image = this.images(state)[0] ?? '';
        const message = `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/${image}": failed to resolve reference "docker.io/${image}": docker.io/${image}: not found`;
        this.event(ns, name, 'Normal', 'Pulling', `Pulling image "${image}"`, 'kubelet');
        this.event(ns, name, 'Warning', 'Failed', message, 'kubelet');
        this.event(ns, name, 'Warning', 'Failed', 'Error: ErrImagePull', 'kubelet');
        this.event(ns, name, 'Warning', 'BackOff', `Back-off pulling image "${image}"`, 'kubelet');
        const statuses = ((state.obj.status as Json).containerStatuses ?? []) as Json[];
        for (const s of statuses) s.state = { waiting: { reason: state.reads % 2 === 0 ? 'ImagePullBackOff' : 'ErrImagePull', message: state.reads % 2 === 0 ? `Back-off pulling image "${image}"` : message } };
      }
    }
    return state.obj;
  }

  // ---- exec ---------------------------------------------------------------------------------

  private refuse(socket: Socket, code: number, text: string, body: Json): void {
    const payload = JSON.stringify(body);
    socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`);
  }

  /** Where `pods/NAME/portforward` of a pod's port leads: a real server on loopback playing the container ("ns/pod:port" -> address). */
  readonly portForwardTargets = new Map<string, { host: string; port: number }>();

  /**
   * pods/NAME/portforward?ports=P over WebSocket (v4.channel.k8s.io), as the API server proxies it
   * to the kubelet: channel 0 data, channel 1 errors, each opened with a frame holding the port
   * number (2 bytes, little endian); the bytes the client sends on channel 0 go to the container's
   * port, its answer comes back on channel 0. No listener there: the error channel says so.
   */
  private portForward(req: IncomingMessage, socket: Socket, head: Buffer, ns: string, name: string, port: number): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const portFrame = (channel: number): Buffer => Buffer.from([channel, port & 0xff, port >> 8]);
      ws.send(portFrame(0));
      ws.send(portFrame(1));
      const target = this.portForwardTargets.get(`${ns}/${name}:${port}`);
      const upstream = target ? connect(target.port, target.host) : undefined;
      if (!upstream) {
        ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(`error forwarding port ${port} to pod ${name}, uid : failed to execute portforward in network namespace: failed to connect to localhost:${port} inside namespace: connection refused`)]));
        ws.close(1000);
        return;
      }
      upstream.on('data', (data: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), data])));
      upstream.on('end', () => ws.close(1000));
      upstream.on('error', () => ws.close(1011));
      ws.on('message', (data: Buffer) => {
        if (data[0] === 0 && data.length > 1) upstream.write(data.subarray(1));
      });
      ws.on('close', () => upstream.end());
    });
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const forward = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(url.pathname);
    if (forward) {
      this.requests.push({ method: 'GET', path: `${url.pathname}${url.search}`, status: 101 });
      if (!this.authorized(req)) return this.refuse(socket, 401, 'Unauthorized', status(401, 'Unauthorized', 'Unauthorized'));
      const [, ns, name] = forward as unknown as [string, string, string];
      if (!this.pods.get(key(ns, name))) return this.refuse(socket, 404, 'Not Found', status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
      return this.portForward(req, socket, head, ns, name, Number(url.searchParams.get('ports')));
    }
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    this.requests.push({ method: 'GET', path: `${url.pathname}${url.search}`, status: 101 });
    if (!this.authorized(req)) return this.refuse(socket, 401, 'Unauthorized', status(401, 'Unauthorized', 'Unauthorized'));
    if (!m) return this.refuse(socket, 404, 'Not Found', status(404, 'NotFound', 'the server could not find the requested resource'));
    const [, ns, name] = m as unknown as [string, string, string];
    const pod = this.pods.get(key(ns, name));
    if (!pod) return this.refuse(socket, 404, 'Not Found', status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
    const container = url.searchParams.get('container') ?? this.containerNames(pod)[0] ?? '';
    if (!this.containerNames(pod).includes(container)) {
      return this.refuse(socket, 400, 'Bad Request', status(400, 'BadRequest', `container ${container} is not valid for pod ${name}`));
    }
    if ((pod.obj.status as Json).phase !== 'Running') {
      return this.refuse(socket, 400, 'Bad Request', status(400, 'BadRequest', `unable to upgrade connection: container not found ("${container}")`));
    }
    const command = url.searchParams.getAll('command');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const call: ExecCall = { namespace: ns, pod: name, container, command, protocol: ws.protocol };
      this.execCalls.push(call);
      void this.answerExec(ws, call);
    });
  }

  private async answerExec(ws: WsSocket, call: ExecCall): Promise<void> {
    let reply: ExecReply;
    try {
      reply = await this.execHandler(call);
    } catch (error) {
      reply = { stderr: `fake exec handler failed: ${(error as Error).message}\n`, exitCode: 1 };
    }
    if (reply.hang) return;
    const frame = (channel: number, data: string | Buffer): Buffer => Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8')]);
    const sendFrame = (data: Buffer) => new Promise<void>((resolve) => ws.send(data, () => resolve()));
    // The API server's first frame is an empty one on stdout (the stream is open), then the
    // output in chunks, as a real stream arrives.
    await sendFrame(frame(1, ''));
    const chunks = (text: string) => text.match(/[\s\S]{1,4096}/g) ?? [];
    for (const c of chunks(reply.stdout ?? '')) await sendFrame(frame(1, c));
    for (const c of chunks(reply.stderr ?? '')) await sendFrame(frame(2, c));
    if (reply.closeWithoutStatus) {
      ws.terminate();
      return;
    }
    const code = reply.exitCode ?? 0;
    const final =
      code === 0
        ? { metadata: {}, status: 'Success' }
        : {
            metadata: {},
            status: 'Failure',
            message: `command terminated with non-zero exit code: error executing command [${call.command.join(' ')}], exit code ${code}`,
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
          };
    await sendFrame(frame(3, JSON.stringify(final)));
    ws.close(1000);
  }
}
