/**
 * The study's test workload, in its own namespace (default cilium-lab-check):
 *   - netpod (nicolaka/netshoot) on the control plane, tolerating its NoSchedule taint: the client;
 *   - webpod1 and webpod2 (traefik/whoami) pinned to the first and the last worker (both on the
 *     only worker of a one-worker lab), behind the ClusterIP service `webpod`;
 *   - hostport (traefik/whoami) on the first worker with hostPort 8080, and hostclient (netshoot)
 *     beside it, the same-node HostPort client.
 * whoami answers with its hostname and the peer address it saw, which is what the datapath
 * scenarios assert on.
 *
 * Set-up deletes a leftover namespace first (an interrupted earlier run), so re-running is safe.
 * Teardown deletes the namespace and waits until it is gone, unless --keep-namespace.
 */
import { PodNotReadyError, describePod, type KubeEvent, type KubePod, type KubeService, type PodManifest } from '../kube/types.js';
import { readDatapathSettings, type DatapathSettings } from './datapath-settings.js';
import type { CheckEnvironment, Fixture } from './types.js';

export const IMAGES = {
  /** Has curl, dig, nslookup; the study's client image. */
  netshoot: 'nicolaka/netshoot:v0.13',
  /** Answers HTTP with Hostname, IPs and RemoteAddr. */
  whoami: 'traefik/whoami:v1.10.3',
} as const;

export const HOST_PORT = 8080;
export const SERVICE_NAME = 'webpod';
/** The webpods behind NodePorts, one per externalTrafficPolicy (the nodeport-from-testpc scenario). */
export const NODEPORT_SERVICES = { cluster: 'webpod-nodeport', local: 'webpod-local' } as const;
export const NETPOD_CONTAINER = 'netshoot';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'cilium-lab', 'app.kubernetes.io/part-of': 'cilium-lab-check' };

export interface DatapathPods {
  readonly namespace: string;
  readonly netpod: KubePod;
  readonly webpods: readonly [KubePod, KubePod];
  readonly hostport: KubePod;
  /** netshoot on the hostport pod's node (the same-node HostPort client). */
  readonly hostclient: KubePod;
  readonly service: KubeService;
  /** The NodePort services of the webpods, as the API server made them (their nodePorts allocated). */
  readonly nodePorts: { readonly cluster: KubeService; readonly local: KubeService };
  /** What the cluster's cilium-config asks of the datapath (SNAT between pods, ...). */
  readonly settings: DatapathSettings;
  /** When the set-up began (Hubble reads flows from then on). */
  readonly setUpAt: Date;
  /** The node name each pod was pinned to. */
  readonly placement: Readonly<Record<string, string>>;
}

const hostname = (node: string) => ({ 'kubernetes.io/hostname': node });

/** The pods of the fixture for a lab (pure: the tests read it too). */
export function datapathManifests(controlPlane: string, workers: readonly string[]): PodManifest[] {
  const w1 = workers[0];
  if (w1 === undefined) throw new Error('the datapath check needs at least one worker');
  // The last worker: in profile bgp it sits behind the router, so webpod1 and webpod2 are in different subnets.
  const w2 = workers.at(-1) ?? w1;
  const whoami = (name: string, node: string, hostPort?: number): PodManifest => ({
    name,
    labels: { ...MANAGED_BY, app: name === 'hostport' ? 'hostport' : 'webpod' },
    nodeSelector: hostname(node),
    containers: [
      {
        name: 'whoami',
        image: IMAGES.whoami,
        ports: [{ name: 'http', containerPort: 80, ...(hostPort ? { hostPort } : {}) }],
        readinessHttpGet: { port: 80, path: '/' },
      },
    ],
  });
  return [
    {
      name: 'netpod',
      labels: { ...MANAGED_BY, app: 'netpod' },
      nodeSelector: hostname(controlPlane),
      tolerations: [
        { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
      ],
      containers: [{ name: NETPOD_CONTAINER, image: IMAGES.netshoot, command: ['tail', '-f', '/dev/null'] }],
    },
    whoami('webpod1', w1),
    whoami('webpod2', w2),
    whoami('hostport', w1, HOST_PORT),
    // A client on the hostport pod's own node: pod -> its own node's IP:hostPort, the case the
    // portmap plugin's iptables DNAT did not handle (no hairpin) and Cilium's eBPF HostPort does.
    {
      name: 'hostclient',
      labels: { ...MANAGED_BY, app: 'hostclient' },
      nodeSelector: hostname(w1),
      containers: [{ name: NETPOD_CONTAINER, image: IMAGES.netshoot, command: ['tail', '-f', '/dev/null'] }],
    },
  ];
}

export const datapathFixture: Fixture<DatapathPods> = {
  name: 'datapath namespace',
  async setup(env: CheckEnvironment, record): Promise<DatapathPods> {
    const { kube, options } = env;
    const ns = options.namespace;
    const controlPlane = env.lab.nodes.find((n) => n.role === 'control-plane');
    const workers = env.lab.nodes.filter((n) => n.role === 'worker').map((n) => n.name);
    if (!controlPlane) throw new Error('the lab has no control-plane node');
    const wait = { timeoutMs: options.namespaceDeleteTimeoutMs, pollIntervalMs: options.pollIntervalMs, signal: env.signal };

    const leftover = await kube.deleteNamespace(ns, wait);
    record(`delete namespace ${ns} (leftover of an earlier run)`, leftover === 'deleted' ? 'deleted' : 'none');
    const createdAt = await kube.createNamespace(ns, MANAGED_BY);
    // On the cluster's clock (Hubble's --since is compared with the nodes' flow times), not this
    // machine's, which may run ahead of it; this machine's whole second only when the API says none.
    const setUpAt = createdAt ?? new Date(Math.floor(Date.now() / 1000) * 1000);
    record(`create namespace ${ns}`, `created ${setUpAt.toISOString().replace(/\.\d+Z$/, 'Z')}${createdAt ? ' (creationTimestamp)' : ' (this machine\'s clock)'}`);

    const manifests = datapathManifests(controlPlane.name, workers);
    for (const m of manifests) {
      await kube.applyPod(ns, m);
      record(`create pod ${ns}/${m.name} on ${m.nodeSelector?.['kubernetes.io/hostname']} (${m.containers[0]?.image})`, 'created');
    }
    const service = await kube.applyService(ns, {
      name: SERVICE_NAME,
      labels: MANAGED_BY,
      selector: { app: 'webpod' },
      ports: [{ name: 'http', port: 80, targetPort: 80 }],
    });
    record(`create service ${ns}/${SERVICE_NAME} (ClusterIP, port 80 -> webpod1, webpod2)`, `clusterIP ${service.clusterIp ?? 'none'}`);
    const nodePort = async (name: string, policy: 'Cluster' | 'Local'): Promise<KubeService> => {
      const created = await kube.applyService(ns, { name, type: 'NodePort', externalTrafficPolicy: policy, labels: MANAGED_BY, selector: { app: 'webpod' }, ports: [{ name: 'http', port: 80, targetPort: 80 }] });
      record(`create service ${ns}/${name} (NodePort, externalTrafficPolicy ${policy} -> webpod1, webpod2)`, `nodePort ${created.ports[0]?.nodePort ?? 'none'}`);
      if (created.ports[0]?.nodePort === undefined) throw new Error(`service ${name} got no nodePort`);
      return created;
    };
    const nodePorts = { cluster: await nodePort(NODEPORT_SERVICES.cluster, 'Cluster'), local: await nodePort(NODEPORT_SERVICES.local, 'Local') };

    const settled = await Promise.allSettled(
      manifests.map((m) => kube.waitForPodReady(ns, m.name, { timeoutMs: options.podReadyTimeoutMs, pollIntervalMs: options.pollIntervalMs, signal: env.signal })),
    );
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    if (failures.length > 0) {
      const events: KubeEvent[] = failures.flatMap((f) => (f instanceof PodNotReadyError ? [...f.events] : []));
      const message = failures.map((f) => (f as Error).message).join(' || ');
      const first = failures.find((f): f is PodNotReadyError => f instanceof PodNotReadyError);
      if (first) throw new PodNotReadyError(message, first.lastSeen, first.pod, events);
      throw failures[0];
    }
    const pods = settled.map((s) => (s as PromiseFulfilledResult<KubePod>).value);
    for (const pod of pods) record(`pod ${ns}/${pod.name}`, `${describePod(pod)}; IP ${pod.podIp ?? '-'}, host IP ${pod.hostIp ?? '-'}`);

    const placement = Object.fromEntries(manifests.map((m) => [m.name, m.nodeSelector?.['kubernetes.io/hostname'] ?? '']));
    const misplaced = pods.filter((p) => p.nodeName !== placement[p.name]);
    if (misplaced.length > 0) {
      throw new Error(`pods not on their node: ${misplaced.map((p) => `${p.name} on ${p.nodeName ?? 'none'}, want ${placement[p.name]}`).join(', ')}`);
    }
    const missingIp = pods.filter((p) => !p.podIp || !p.hostIp);
    if (missingIp.length > 0) throw new Error(`pods Ready without an IP: ${missingIp.map((p) => p.name).join(', ')}`);
    if (!service.clusterIp || service.clusterIp === 'None') throw new Error(`service ${SERVICE_NAME} got no ClusterIP`);

    const [netpod, webpod1, webpod2, hostport, hostclient] = pods as [KubePod, KubePod, KubePod, KubePod, KubePod];
    const config = await kube.getConfigMap('kube-system', 'cilium-config');
    if (!config) throw new Error('configmap kube-system/cilium-config not found: nothing says how Cilium treats the test traffic');
    const settings = readDatapathSettings(config.data);
    record('get configmap kube-system/cilium-config', Object.entries(settings.source).map(([k, v]) => `${k}: ${v}`).join('\n'));
    return { namespace: ns, netpod, webpods: [webpod1, webpod2], hostport, hostclient, service, nodePorts, settings, setUpAt, placement };
  },

  async teardown(env: CheckEnvironment, record): Promise<void> {
    const ns = env.options.namespace;
    if (env.options.keepNamespace) {
      record(`keep namespace ${ns}`, '--keep-namespace: left in place; delete it with `kubectl delete namespace ' + ns + '`');
      return;
    }
    // Not env.signal: cleanup must run to the end even after SIGINT.
    const outcome = await env.kube.deleteNamespace(ns, { timeoutMs: env.options.namespaceDeleteTimeoutMs, pollIntervalMs: env.options.pollIntervalMs });
    record(`delete namespace ${ns}`, outcome === 'deleted' ? 'deleted and gone' : 'was not there');
  },
};
