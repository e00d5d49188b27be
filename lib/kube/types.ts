/**
 * The Kubernetes API as the rest of the lab sees it: a few plain shapes and the `KubeClient`
 * interface. lib/kube/kube-client.ts implements it over @kubernetes/client-node (the only place that
 * imports it); tests talk to a loopback fake of the API server through the same implementation.
 *
 * The shapes keep what the checks read and drop the rest, so no consumer depends on client-node's
 * generated models.
 */
import type { Duplex } from 'node:stream';

/** One ENI of a CiliumNode's status.eni.enis (ENI IPAM): the operator's view of the interface. */
export interface CiliumNodeEni {
  readonly id: string;
  /** The interface's own (primary) address. */
  readonly ip?: string;
  readonly subnetCidr?: string;
  readonly vpcPrimaryCidr?: string;
  /** Its secondary addresses, the ones pods get. */
  readonly addresses: readonly string[];
}

/** A CiliumNetworkPolicy as a learner writes it (exercises/policy/*.yaml): its name and its spec. */
export interface CiliumNetworkPolicyDocument {
  readonly metadata: { readonly name: string };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** A CiliumNode's name, spec.ipam.podCIDRs (cluster-pool) and status.eni.enis (ENI IPAM). */
export interface CiliumNodeIpam {
  readonly name: string;
  readonly podCidrs: readonly string[];
  readonly enis: readonly CiliumNodeEni[];
}

export interface KubeCondition {
  readonly type: string;
  /** "True" | "False" | "Unknown", as the API spells it. */
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface KubeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

export interface KubeNode {
  readonly name: string;
  /** The Ready condition is "True". */
  readonly ready: boolean;
  readonly conditions: readonly KubeCondition[];
  /** status.addresses[type=InternalIP]. */
  readonly internalIp?: string;
  readonly podCidr?: string;
  /** status.capacity.pods: the kubelet's maxPods. */
  readonly podCapacity?: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly KubeTaint[];
}

/** The replica counts of a DaemonSet or a Deployment. */
export interface KubeWorkload {
  readonly kind: 'DaemonSet' | 'Deployment';
  readonly namespace: string;
  readonly name: string;
  /** DaemonSet: status.desiredNumberScheduled; Deployment: spec.replicas. */
  readonly desired: number;
  /** DaemonSet: status.numberReady; Deployment: status.readyReplicas. */
  readonly ready: number;
  /** DaemonSet: status.numberAvailable; Deployment: status.availableReplicas. */
  readonly available: number;
  /** DaemonSet: status.updatedNumberScheduled; Deployment: status.updatedReplicas. */
  readonly updated: number;
}

export interface KubeConfigMap {
  readonly namespace: string;
  readonly name: string;
  readonly data: Readonly<Record<string, string>>;
}

export interface KubeServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly protocol?: string;
  /** NodePort services: the port every node answers on (allocated by the API server). */
  readonly nodePort?: number;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';
export type ExternalTrafficPolicy = 'Cluster' | 'Local';

export interface KubeService {
  readonly namespace: string;
  readonly name: string;
  readonly type?: string;
  readonly clusterIp?: string;
  readonly externalTrafficPolicy?: string;
  readonly ports: readonly KubeServicePort[];
  /** LoadBalancer services: the addresses a load-balancer controller gave it (status.loadBalancer.ingress[].ip); empty until then. */
  readonly loadBalancerIps: readonly string[];
}

export interface KubeContainerStatus {
  readonly name: string;
  readonly ready: boolean;
  readonly restartCount: number;
  /** "running", "waiting: ErrImagePull (message)", "terminated: Error (exit 1)". */
  readonly state: string;
}

export interface KubePod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  /** Pending | Running | Succeeded | Failed | Unknown. */
  readonly phase: string;
  readonly podIp?: string;
  readonly hostIp?: string;
  /** The Ready condition is "True". */
  readonly ready: boolean;
  /** The pod is being deleted (metadata.deletionTimestamp is set). */
  readonly terminating: boolean;
  readonly conditions: readonly KubeCondition[];
  readonly containers: readonly KubeContainerStatus[];
}

export interface KubeEvent {
  /** Normal | Warning. */
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly object: { readonly kind: string; readonly name: string };
  /** lastTimestamp, eventTime or creationTimestamp, as ISO 8601 when known. */
  readonly time?: string;
}

export interface KubeToleration {
  readonly key?: string;
  readonly operator: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface ContainerManifest {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number; readonly hostPort?: number; readonly protocol?: 'TCP' | 'UDP' }[];
  /** An HTTP GET readiness probe on this port and path. */
  readonly readinessHttpGet?: { readonly port: number; readonly path: string };
}

/** The part of a Pod spec the lab creates. */
export interface PodManifest {
  readonly name: string;
  /** In the node's own network namespace (its address, no pod address). @default false */
  readonly hostNetwork?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly KubeToleration[];
  readonly containers: readonly ContainerManifest[];
  /** @default 1 (test pods have nothing to drain) */
  readonly terminationGracePeriodSeconds?: number;
}

export interface ServiceManifest {
  readonly name: string;
  /** @default ClusterIP */
  readonly type?: ServiceType;
  /** NodePort: which nodes answer (Local: only those running a backend, and no SNAT). @default Cluster */
  readonly externalTrafficPolicy?: ExternalTrafficPolicy;
  readonly labels?: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name?: string; readonly port: number; readonly targetPort: number; readonly protocol?: 'TCP' | 'UDP' }[];
}

export interface ExecRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
  /** Budget for the whole exec, from the WebSocket upgrade to the exit status. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  /** The command's exit code; -1 when none was reported (connection refused, timeout, closed early). */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Why there is no exit code, or the API server's message for a failure; empty on success. */
  readonly error: string;
  readonly durationMs: number;
}

export interface WaitOptions {
  /** Budget for the whole wait. */
  readonly timeoutMs: number;
  /** Pause between two reads. @default 1000 */
  readonly pollIntervalMs?: number;
  readonly signal?: AbortSignal;
}

/** What the lab needs from the Kubernetes API. */
export interface KubeClient {
  listNodes(): Promise<KubeNode[]>;
  /** undefined when there is no such DaemonSet. */
  getDaemonSet(namespace: string, name: string): Promise<KubeWorkload | undefined>;
  /** undefined when there is no such Deployment. */
  getDeployment(namespace: string, name: string): Promise<KubeWorkload | undefined>;
  /** undefined when there is no such ConfigMap. */
  getConfigMap(namespace: string, name: string): Promise<KubeConfigMap | undefined>;
  /** undefined when there is no such Service. */
  getService(namespace: string, name: string): Promise<KubeService | undefined>;
  listPods(namespace: string, labelSelector?: string): Promise<KubePod[]>;
  /** Every pod bound to the node, in all namespaces (what the scheduler counts against its maxPods). */
  listPodsOnNode(nodeName: string): Promise<KubePod[]>;
  /** undefined when there is no such Pod. */
  getPod(namespace: string, name: string): Promise<KubePod | undefined>;
  /** Events in the namespace, oldest first; only those about `objectName` when given. */
  getEvents(namespace: string, objectName?: string): Promise<KubeEvent[]>;
  /** The namespace's phase (Active, Terminating), undefined when there is none. */
  getNamespacePhase(name: string): Promise<string | undefined>;
  /** Creates the namespace; resolves to its creationTimestamp (the API server's clock), when it says. */
  createNamespace(name: string, labels?: Readonly<Record<string, string>>): Promise<Date | undefined>;
  /** Deletes the namespace and waits until it is gone; 'absent' when there was none. Throws WaitTimeoutError. */
  deleteNamespace(name: string, options: WaitOptions): Promise<'deleted' | 'absent'>;
  /** Creates the pod; an existing pod of that name is left as it is and returned. */
  applyPod(namespace: string, manifest: PodManifest): Promise<KubePod>;
  /** Creates the ClusterIP service; an existing one is returned as it is. */
  applyService(namespace: string, manifest: ServiceManifest): Promise<KubeService>;
  /** Polls until the pod is Ready; throws PodNotReadyError with the last pod state and its events. */
  waitForPodReady(namespace: string, name: string, options: WaitOptions): Promise<KubePod>;
  /** Cilium's CiliumNode objects (cilium.io/v2): the pod CIDRs its IPAM gave each node. */
  listCiliumNodes(): Promise<CiliumNodeIpam[]>;
  /** Creates the CiliumNetworkPolicy, or replaces the one of that name. */
  applyCiliumNetworkPolicy(namespace: string, policy: CiliumNetworkPolicyDocument): Promise<void>;
  /** Deletes every CiliumNetworkPolicy in the namespace; the names it deleted. */
  deleteCiliumNetworkPolicies(namespace: string): Promise<string[]>;
  /** Sets (string) or removes (null) labels of a pod. */
  labelPod(namespace: string, name: string, labels: Readonly<Record<string, string | null>>): Promise<void>;
  /** The security identity Cilium gave the pod (its CiliumEndpoint's status.identity.id). */
  getEndpointIdentity(namespace: string, name: string): Promise<number | undefined>;
  /** Runs a command in a container (no TTY, no stdin); never throws for the command's own failure. */
  exec(request: ExecRequest): Promise<ExecResult>;
  /**
   * Forwards one TCP connection to a pod's port through the API server (`kubectl port-forward`):
   * what the connection sends goes to the pod, what the pod answers comes back; ends with it.
   */
  forwardPort(namespace: string, pod: string, port: number, connection: Duplex): Promise<void>;
}

/** An API call answered with an error status. */
export class KubeApiError extends Error {
  constructor(
    message: string,
    /** HTTP status (404, 409, ...); 0 when the server was not reached. */
    readonly status: number,
    /** The Status reason (NotFound, AlreadyExists, Forbidden, ...), when the server gave one. */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** A wait ran into its deadline; the message carries the last state or error seen. */
export class WaitTimeoutError extends Error {
  constructor(
    message: string,
    readonly lastSeen: string,
  ) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/** The pod did not become Ready in time: its last state and events, for the evidence. */
export class PodNotReadyError extends WaitTimeoutError {
  constructor(
    message: string,
    lastSeen: string,
    readonly pod: KubePod | undefined,
    readonly events: readonly KubeEvent[],
  ) {
    super(message, lastSeen);
    this.name = 'PodNotReadyError';
  }
}

/** One line per event: "Warning Failed (x3): Failed to pull image ...". */
export function formatEvent(event: KubeEvent): string {
  const count = event.count > 1 ? ` (x${event.count})` : '';
  return `${event.type} ${event.reason}${count} ${event.object.kind}/${event.object.name}: ${event.message}`;
}

/** "Pending; PodScheduled=True, Ready=False (ContainersNotReady); netshoot waiting: ErrImagePull". */
export function describePod(pod: KubePod): string {
  const conditions = pod.conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ');
  const containers = pod.containers.map((c) => `${c.name} ${c.state}`).join(', ');
  return [
    `${pod.phase}${pod.nodeName ? ` on ${pod.nodeName}` : ''}`,
    conditions || 'no conditions',
    ...(containers ? [containers] : []),
  ].join('; ');
}
