/**
 * `lab perf`: throughput (iperf3) and request/response latency (curl's timings against
 * traefik/whoami) on the paths the study compares, repeated and summarised, with the datapath
 * settings that produced them (lib/exercises/perf-results.ts).
 *
 * Paths, all to servers on the first worker:
 *   - pod to pod on the same node, and from a pod on another node;
 *   - pod to host: an iperf3 server and a whoami on the worker's own network (hostNetwork pods);
 *   - testpc to a NodePort of the worker (scripts/node/perf-probe.sh over SSM), when there is a testpc.
 * iperf3 and not `cilium connectivity perf`: the lab already carries netshoot (iperf3 inside) and
 * whoami, iperf3's JSON is stable across its 3.x releases, and the same tool runs on testpc; the
 * cilium CLI's perf options moved between its releases. Everything lives in the namespace
 * cilium-lab-perf, deleted afterwards whatever happens.
 */
import { IMAGES } from '../checks/datapath-fixture.js';
import type { KubeClient, KubePod, PodManifest } from '../kube/types.js';
import { renderLabScript, taggedLines } from '../lab/remote.js';
import type { RemoteTarget, NodeRunResult, RunOptions } from '../lab/remote-runner.js';
import { CURL_RR_FORMAT, PERF_PATHS, PerfToolError, parseIperf3, parseRr, summarize, type PathResult, type PerfPathId, type PerfResult, type PerfSettings } from './perf-results.js';

export const PERF_NAMESPACE = 'cilium-lab-perf';
const LABELS = { 'app.kubernetes.io/managed-by': 'cilium-lab', 'app.kubernetes.io/part-of': 'perf' };
export const IPERF_PORT = 5201;
export const HOST_IPERF_PORT = 5202;
export const HOST_WEB_PORT = 8082;
export const IPERF_TAG = 'CILIUM_LAB_IPERF';
/** curl's requests per path; their first-byte times are the latency figures. */
export const RR_REQUESTS = 10;

export interface PerfNode {
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
  readonly privateIp: string;
}

export interface PerfEnvironment {
  readonly kube: KubeClient;
  /** Runs a script on testpc over SSM (the NodePort path). */
  readonly runOnTestpc?: (script: string, options: RunOptions) => Promise<NodeRunResult | undefined>;
  readonly nodes: readonly PerfNode[];
  readonly testpc?: RemoteTarget;
  readonly lab: { readonly name: string; readonly profile: string; readonly ciliumVersion: string; readonly instanceType: string };
}

export interface PerfOptions {
  readonly repeat: number;
  readonly seconds: number;
  readonly podReadyTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly signal?: AbortSignal;
  readonly info?: (line: string) => void;
  readonly now?: () => Date;
}

const pinned = (node: string): Pick<PodManifest, 'nodeSelector' | 'tolerations'> => ({
  nodeSelector: { 'kubernetes.io/hostname': node },
  tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
});

/** The pods of the exercise (pure): servers on `server`, a client beside them and one on `remote`. */
export function perfPods(server: string, remote: string): PodManifest[] {
  const netshoot = (name: string, node: string, command: string[], extra: Partial<PodManifest> = {}): PodManifest => ({
    name,
    labels: { ...LABELS, app: name },
    ...pinned(node),
    containers: [{ name: 'netshoot', image: IMAGES.netshoot, command }],
    ...extra,
  });
  return [
    netshoot('perf-iperf', server, ['iperf3', '-s', '-p', String(IPERF_PORT)]),
    { name: 'perf-web', labels: { ...LABELS, app: 'perf-web' }, ...pinned(server), containers: [{ name: 'whoami', image: IMAGES.whoami, ports: [{ containerPort: 80 }] }] },
    netshoot('perf-host-iperf', server, ['iperf3', '-s', '-p', String(HOST_IPERF_PORT)], { hostNetwork: true }),
    { name: 'perf-host-web', labels: { ...LABELS, app: 'perf-host-web' }, ...pinned(server), hostNetwork: true, containers: [{ name: 'whoami', image: IMAGES.whoami, args: ['--port', String(HOST_WEB_PORT)] }] },
    netshoot('perf-client-local', server, ['tail', '-f', '/dev/null']),
    netshoot('perf-client-remote', remote, ['tail', '-f', '/dev/null']),
  ];
}

export function iperfCommand(ip: string, port: number, seconds: number): string[] {
  // --connect-timeout: a dropped SYN fails in 3 s, not after the kernel's retries (iperf3 >= 3.8).
  return ['iperf3', '-c', ip, '-p', String(port), '-t', String(seconds), '--connect-timeout', '3000', '-J'];
}

export function rrCommand(url: string): string[] {
  return ['curl', '-s', '-o', '/dev/null', '--max-time', '5', '-w', CURL_RR_FORMAT.replace(/\\n$/, '\n'), url];
}

/** scripts/node/perf-probe.sh for testpc, aimed at a node's NodePorts (pure). */
export function perfProbeScript(nodeIp: string, iperfNodePort: number, webNodePort: number, options: Pick<PerfOptions, 'repeat' | 'seconds'>): string {
  return renderLabScript('perf-probe.sh', {}, {
    LAB_PERF_TARGET: nodeIp,
    LAB_PERF_IPERF_PORT: String(iperfNodePort),
    LAB_PERF_WEB_PORT: String(webNodePort),
    LAB_PERF_SECONDS: String(options.seconds),
    LAB_PERF_REPEAT: String(options.repeat),
    LAB_PERF_REQUESTS: String(RR_REQUESTS),
  });
}

/** testpc's answer as the NodePort path's figures, or a note saying what went wrong. */
export function testpcPath(result: NodeRunResult | undefined): PathResult {
  const base = { id: 'nodeport-testpc' as const, label: PERF_PATHS['nodeport-testpc'] };
  if (result?.stdoutTruncated) return { ...base, note: "perf-probe.sh's output was cut by SSM at 24,000 characters; use fewer --repeat" };
  if (!result || result.exitCode !== 0) return { ...base, note: `perf-probe.sh on testpc: ${result ? `${result.status}, exit ${result.exitCode}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').pop()}` : ''}` : 'no result'}` };
  try {
    const runs = taggedLines(result.stdout, IPERF_TAG).map((line) => parseIperf3(line));
    const latency = parseRr(result.stdout).map((r) => r.firstByteMs);
    if (runs.length === 0 || latency.length === 0) return { ...base, note: 'perf-probe.sh on testpc printed no figures' };
    return { ...base, throughputGbps: summarize(runs.map((r) => r.bitsPerSecond / 1e9)), latencyMs: summarize(latency), retransmits: runs.reduce((n, r) => n + (r.retransmits ?? 0), 0) };
  } catch (error) {
    if (error instanceof PerfToolError) return { ...base, note: error.message };
    throw error;
  }
}

class PerfInterrupted extends Error {}

/** cilium-config (and the client pod's MTU) as the settings beside the figures. */
async function perfSettings(env: PerfEnvironment, client: KubePod): Promise<PerfSettings> {
  const data = (await env.kube.getConfigMap('kube-system', 'cilium-config'))?.data ?? {};
  const mtuRead = await env.kube.exec({ namespace: PERF_NAMESPACE, pod: client.name, container: 'netshoot', command: ['cat', '/sys/class/net/eth0/mtu'], timeoutMs: 15_000 });
  const mtu = Number(mtuRead.stdout.trim());
  const kpr = data['kube-proxy-replacement'] === 'true' || data['kube-proxy-replacement'] === 'strict';
  const bpfMasq = data['enable-bpf-masquerade'] === 'true';
  const masq = data['enable-ipv4-masquerade'] !== 'false';
  return {
    profile: env.lab.profile,
    ciliumVersion: env.lab.ciliumVersion,
    instanceType: env.lab.instanceType,
    ...(Number.isInteger(mtu) && mtu > 0 ? { mtu } : {}),
    xdp: data['bpf-lb-acceleration'] ?? 'disabled',
    // As the agent decides it (lib/checks/datapath-settings.ts has the reasoning and its sources).
    hostRouting: data['enable-host-legacy-routing'] !== 'true' && kpr && (bpfMasq || !masq) ? 'BPF' : 'Legacy',
    deviceMode: data['datapath-mode'] ?? 'veth',
    kubeProxyReplacement: String(kpr),
    masquerading: masq ? (bpfMasq ? 'BPF' : 'iptables') : 'off',
  };
}

/** Runs the exercise; the namespace is deleted before (a leftover) and after, whatever happens. */
export async function runPerf(env: PerfEnvironment, options: PerfOptions): Promise<PerfResult> {
  const info = options.info ?? (() => undefined);
  const workers = env.nodes.filter((n) => n.role === 'worker');
  const server = workers[0] ?? env.nodes[0];
  const remote = env.nodes.find((n) => n.name !== server?.name);
  if (!server || !remote) throw new Error('lab perf needs two Kubernetes nodes (a server and another node to call it from)');
  const wait = { timeoutMs: options.podReadyTimeoutMs, pollIntervalMs: options.pollIntervalMs, ...(options.signal ? { signal: options.signal } : {}) };
  const check = () => {
    if (options.signal?.aborted) throw new PerfInterrupted('interrupted');
  };
  await env.kube.deleteNamespace(PERF_NAMESPACE, wait);
  try {
    await env.kube.createNamespace(PERF_NAMESPACE, LABELS);
    const manifests = perfPods(server.name, remote.name);
    for (const m of manifests) await env.kube.applyPod(PERF_NAMESPACE, m);
    const iperfService = await env.kube.applyService(PERF_NAMESPACE, { name: 'perf-iperf', type: 'NodePort', labels: LABELS, selector: { app: 'perf-iperf' }, ports: [{ port: IPERF_PORT, targetPort: IPERF_PORT }] });
    const webService = await env.kube.applyService(PERF_NAMESPACE, { name: 'perf-web', type: 'NodePort', labels: LABELS, selector: { app: 'perf-web' }, ports: [{ port: 80, targetPort: 80 }] });
    const pods: Record<string, KubePod> = {};
    for (const m of manifests) {
      check();
      pods[m.name] = await env.kube.waitForPodReady(PERF_NAMESPACE, m.name, wait);
    }
    info(`pods up: servers on ${server.name}, clients on ${server.name} and ${remote.name}`);
    const settings = await perfSettings(env, pods['perf-client-local'] as KubePod);

    const measure = async (id: PerfPathId, client: string, iperfTarget: string, iperfPort: number, url: string): Promise<PathResult> => {
      const throughput: number[] = [];
      let retransmits = 0;
      try {
        for (let run = 1; run <= options.repeat; run++) {
          check();
          const r = await env.kube.exec({ namespace: PERF_NAMESPACE, pod: client, container: 'netshoot', command: iperfCommand(iperfTarget, iperfPort, options.seconds), timeoutMs: (options.seconds + 30) * 1000 });
          const parsed = parseIperf3(r.stdout);
          throughput.push(parsed.bitsPerSecond / 1e9);
          retransmits += parsed.retransmits ?? 0;
        }
        const latency: number[] = [];
        for (let k = 1; k <= RR_REQUESTS; k++) {
          check();
          const r = await env.kube.exec({ namespace: PERF_NAMESPACE, pod: client, container: 'netshoot', command: rrCommand(url), timeoutMs: 15_000 });
          latency.push(...parseRr(r.stdout).map((x) => x.firstByteMs));
        }
        const result: PathResult = { id, label: PERF_PATHS[id], throughputGbps: summarize(throughput), latencyMs: summarize(latency), retransmits };
        info(`${PERF_PATHS[id]}: ${result.throughputGbps?.median.toFixed(2)} Gbit/s, ${result.latencyMs?.median.toFixed(3)} ms`);
        return result;
      } catch (error) {
        if (error instanceof PerfToolError) return { id, label: PERF_PATHS[id], note: error.message };
        throw error;
      }
    };
    const iperfPod = pods['perf-iperf'] as KubePod;
    const webPod = pods['perf-web'] as KubePod;
    const paths: PathResult[] = [
      await measure('pod-pod-same-node', 'perf-client-local', iperfPod.podIp ?? '', IPERF_PORT, `http://${webPod.podIp}/`),
      await measure('pod-pod-cross-node', 'perf-client-remote', iperfPod.podIp ?? '', IPERF_PORT, `http://${webPod.podIp}/`),
      await measure('pod-host', 'perf-client-local', server.privateIp, HOST_IPERF_PORT, `http://${server.privateIp}:${HOST_WEB_PORT}/`),
    ];
    check();
    const iperfNodePort = iperfService.ports[0]?.nodePort;
    const webNodePort = webService.ports[0]?.nodePort;
    if (!env.testpc || !env.runOnTestpc) {
      paths.push({ id: 'nodeport-testpc', label: PERF_PATHS['nodeport-testpc'], note: 'the lab has no testpc (testpc.enabled=false)' });
    } else if (iperfNodePort === undefined || webNodePort === undefined) {
      paths.push({ id: 'nodeport-testpc', label: PERF_PATHS['nodeport-testpc'], note: 'the NodePort services got no node ports' });
    } else {
      const script = perfProbeScript(server.privateIp, iperfNodePort, webNodePort, options);
      const result = await env.runOnTestpc(script, { timeoutMs: (options.repeat * (options.seconds + 10) + RR_REQUESTS * 6 + 60) * 1000, ...(options.signal ? { signal: options.signal } : {}) });
      check();
      paths.push(testpcPath(result));
    }
    return { kind: 'cilium-lab-perf', version: 1, lab: env.lab.name, at: (options.now ?? (() => new Date()))().toISOString().replace(/\.\d+Z$/, 'Z'), repeat: options.repeat, seconds: options.seconds, settings, paths };
  } finally {
    await env.kube.deleteNamespace(PERF_NAMESPACE, { timeoutMs: Math.max(options.podReadyTimeoutMs, 60_000), pollIntervalMs: options.pollIntervalMs });
  }
}
