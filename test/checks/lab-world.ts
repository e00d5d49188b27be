/**
 * A simulated study lab for the check tests: the loopback Kubernetes API (test/kube/fake-kube-api.ts)
 * filled like a healthy cluster after `lab up` (3 nodes Ready, no kube-proxy, Cilium, CoreDNS,
 * Hubble), an exec handler that plays the datapath (curl from netpod answered by whoami, the
 * agents' `cilium-dbg status` and `hubble observe`), and an in-memory RemoteRunner for the host
 * scripts. Every knob defaults to healthy; a test turns one to break what it is about.
 */
import { RemoteInterruptedError, type NodeRunResult, type RemoteRunner, type RemoteTarget, type RunOptions } from '../../lib/lab/remote-runner.js';
import { IPTABLES_TAG } from '../../lib/checks/scenarios/no-kube-svc-rules.js';
import { NIC_STATE_TAG } from '../../lib/checks/scenarios/nic-tuning.js';
import { NODEPORT_TAG } from '../../lib/checks/scenarios/nodeport.js';
import { DEVICES_TAG } from '../../lib/checks/scenarios/netkit-devices.js';
import { UPSTREAM_JUNIT_TAG, UPSTREAM_TAG } from '../../lib/checks/scenarios/upstream-connectivity.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { FakeKubeApi, type ExecCall, type ExecReply } from '../kube/fake-kube-api.js';
import { evaluate, type Target } from './policy-world.js';
import { BgpWorld, type BgpWorldSetup } from './bgp-world.js';
import { pluralOf } from '../../lib/bgp/resources.js';
import { validateAgainstCrd, type CrdDoc } from '../bgp/crd-schema.js';
import { parseAllDocuments } from 'yaml';

type Json = Record<string, unknown>;

export const LAB_NODES = [
  { name: 'k8s-s', ip: '192.168.10.10', podCidr: '172.16.0.0/24', controlPlane: true },
  { name: 'k8s-w1', ip: '192.168.10.101', podCidr: '172.16.1.0/24', controlPlane: false },
  { name: 'k8s-w2', ip: '192.168.10.102', podCidr: '172.16.2.0/24', controlPlane: false },
] as const;

export const PUBLIC_IP = '203.0.113.10';
export const TESTPC_IP = '192.168.20.100';
/** The namespace the datapath fixture uses (CheckOptions.namespace's default). */
const NS_CHECK = 'cilium-lab-check';
export const RELAY_IP = '10.10.200.50';

export interface AgentStatusKnobs {
  /** kube-proxy-replacement.features.hostPort.enabled (default true). */
  hostPort?: boolean;
  kpr: string;
  interHost: string;
  intraHost: string;
  masqMode: string;
  acceleration: string;
}

export interface NicState {
  mtu: number;
  wantMtu: number | null;
  channels: number;
  wantChannels: number | null;
  /** What `ip -details link show` reports on the default-route NIC (default: driver). */
  xdp?: string;
}

/** A `cilium-dbg status -o json` document shaped like the agent's (api/v1 StatusResponse). */
export function agentStatusJson(k: AgentStatusKnobs, node: string): Json {
  return {
    cilium: { state: 'Ok', msg: 'Ok' },
    'container-runtime': { state: 'Ok', msg: 'containerd' },
    kubernetes: { state: 'Ok', msg: '1.30 (v1.30.14) [linux/amd64]', 'k8s-api-versions': ['cilium/v2::CiliumNode', 'core/v1::Pods'] },
    'kube-proxy-replacement': {
      mode: k.kpr,
      devices: ['ens5'],
      deviceList: [{ name: 'ens5', ip: ['192.168.10.10'] }],
      directRoutingDevice: 'ens5',
      features: {
        nodePort: { enabled: true, mode: 'SNAT', algorithm: 'Random', acceleration: k.acceleration, portMin: 30000, portMax: 32767 },
        hostPort: { enabled: k.hostPort ?? true },
        externalIPs: { enabled: true },
        socketLB: { enabled: true },
        socketLBTracing: { enabled: true },
        sessionAffinity: { enabled: true },
        gracefulTermination: { enabled: true },
        nat46X64: {},
        bpfSocketLBHostnsOnly: false,
      },
    },
    routing: { 'inter-host-routing-mode': k.interHost, 'intra-host-routing-mode': k.intraHost, 'tunnel-protocol': 'VXLAN' },
    masquerading: { enabled: k.masqMode !== 'disabled', mode: k.masqMode === 'disabled' ? undefined : k.masqMode, enabledProtocols: { ipv4: true }, 'snat-exclusion-cidr-v4': '172.16.0.0/16' },
    hubble: { state: 'Ok', msg: `Current/Max Flows: 4095/4095 (100.00%), Flows/s: 12.3 on ${node}` },
    'ipam': { 'ipv4': ['172.16.0.10'] },
  };
}

/** One line of `hubble observe -o json`, as the relay prints it (a DROPPED flow carries drop_reason and drop_reason_desc). */
export function hubbleFlowLine(
  src: { ns: string; pod: string; ip: string; node: string },
  dst: { ns: string; pod: string; ip: string },
  drop?: { reason: number; desc: string; l7?: boolean },
): string {
  return JSON.stringify({
    flow: {
      time: new Date().toISOString(),
      uuid: 'f0000000-0000-4000-8000-000000000000',
      verdict: drop ? 'DROPPED' : 'FORWARDED',
      // An L7 denial (Envoy's access log) carries no datapath drop reason.
      ...(drop && !drop.l7 ? { drop_reason: drop.reason, drop_reason_desc: drop.desc } : {}),
      ...(drop?.l7 ? { l7: { type: 'REQUEST', http: { method: 'GET', url: `http://${dst.ip}/forbidden`, code: 403 } } } : {}),
      IP: { source: src.ip, destination: dst.ip, ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 41234, destination_port: 80, flags: { SYN: true } } },
      source: { ID: 1234, identity: 5678, cluster_name: 'default', namespace: src.ns, labels: [`k8s:app=${src.pod}`], pod_name: src.pod },
      destination: { ID: 2345, identity: 6789, cluster_name: 'default', namespace: dst.ns, labels: ['k8s:app=webpod'], pod_name: dst.pod },
      Type: drop?.l7 ? 'L7' : 'L3_L4',
      node_name: src.node,
      traffic_direction: 'EGRESS',
      trace_observation_point: 'TO_STACK',
      is_reply: false,
      Summary: 'TCP Flags: SYN',
    },
    node_name: src.node,
    time: new Date().toISOString(),
  });
}

export interface RemoteCall {
  readonly targets: readonly string[];
  readonly script: string;
  readonly options: RunOptions;
}

/** An in-memory RemoteRunner: each node answers by what the script is. */
export class FakeRemoteRunner implements RemoteRunner {
  readonly calls: RemoteCall[] = [];

  constructor(private readonly answer: (node: string, script: string) => { exitCode: number; stdout: string; stderr?: string }) {}

  /** Commands cancelled by an interrupt (as SsmRunner sends CancelCommand). */
  readonly cancelled: string[][] = [];
  /** Called on every run (tests use it to interrupt one). */
  onRun: ((targets: readonly string[]) => void) | undefined;

  async runOnNodes(targets: readonly RemoteTarget[], script: string, options: RunOptions): Promise<NodeRunResult[]> {
    this.calls.push({ targets: targets.map((t) => t.name), script, options });
    this.onRun?.(targets.map((t) => t.name));
    if (options.signal?.aborted) {
      this.cancelled.push(targets.map((t) => t.name));
      throw new RemoteInterruptedError(`cilium-lab: interrupted (${String(options.signal.reason)}): SSM command(s) cmd-0001 cancelled`, ['cmd-0001']);
    }
    return targets.map((t) => {
      const a = this.answer(t.name, script);
      return {
        name: t.name,
        instanceId: t.instanceId,
        commandId: 'cmd-0001',
        status: a.exitCode === 0 ? 'Success' : 'Failed',
        exitCode: a.exitCode,
        stdout: a.stdout,
        stderr: a.stderr ?? '',
        stdoutTruncated: false,
        stderrTruncated: false,
        durationMs: 5,
        deadlineExceeded: false,
        note: '',
      };
    });
  }
}

export class LabWorld {
  // ---- knobs (healthy by default) ----
  /** The control plane's /etc/kubernetes/admin.conf (kubeadm's, server = the node address), for `lab kubeconfig`. */
  adminConf = '';
  /** How often the control plane exported its kubeconfig. */
  kubeconfigExports = 0;
  /** Pods whose port 80 never answers (curl times out). */
  readonly unreachablePods = new Set<string>();
  /** Backends the ClusterIP load-balances to; default both webpods. */
  serviceBackends: string[] = ['webpod1', 'webpod2'];
  /** A broken datapath that SNATs pod traffic to the node IP whatever cilium-config says (what the backend sees as RemoteAddr). */
  snat = false;
  /** A broken datapath that never SNATs pod-to-pod traffic, whatever cilium-config says. */
  neverSnat = false;
  internet = true;
  /** What the internet sees as the caller's address. */
  egressIp = PUBLIC_IP;
  readonly agent: AgentStatusKnobs = { kpr: 'True', interHost: 'Native', intraHost: 'BPF', masqMode: 'BPF', acceleration: 'Native' };
  /** Per node: an override of `cilium-dbg status` (exit code and stderr). */
  readonly agentExecFailure = new Map<string, { exitCode: number; stderr: string }>();
  hubbleSeesTraffic = true;
  /** The hubble-ui Service answers with its page. */
  hubbleUiServes = true;
  /** Per node: packets its XDP program forwarded (ethtool -S *_xdp_tx/_redirect): NodePort requests sent to another node. */
  readonly xdpForwarded = new Map<string, number>();
  /** The driver exposes XDP counters (ENA does). */
  xdpCountersExposed = true;
  /** NodePort requests are not load-balanced in XDP (attached, but the stack does it). */
  xdpBypassed = false;
  /** A datapath that treats externalTrafficPolicy Local like Cluster (every node answers, SNAT). */
  nodePortIgnoresLocal = false;
  /** The agents keep veth pairs although cilium-config asks for netkit (an old kernel, say). */
  endpointsStayVeth = false;
  /** Nodes whose NodePort answers nothing (from testpc). */
  readonly nodePortDown = new Set<string>();
  /** Flows Hubble shows as DROPPED (pod names in the test namespace), with Hubble's drop reason. */
  /** The VPC routes pod addresses (ENI IPAM): testpc reaches pods at their own IPs. */
  vpcRoutesPods = false;
  readonly hubbleDrops: { from: string; to: string; reason: string; at?: number; l7?: boolean }[] = [];
  /** Flows the relay returns whatever the filter (other pods' traffic). */
  readonly hubbleExtraFlows: string[] = [];
  readonly kubeSvcRules = new Map<string, number>();
  readonly nic = new Map<string, NicState>(LAB_NODES.map((n) => [n.name, { mtu: 3498, wantMtu: 3498, channels: 2, wantChannels: 2 }]));
  /** Per pod: how many of its next curls time out before it answers (a network blink). */
  readonly blinks = new Map<string, number>();
  /** Per client pod: how many of its next execs lose their connection (no exit status). */
  readonly execTransportFailures = new Map<string, number>();
  /** The agents' service tables leave out the HostPort frontends (HostPort not handled in eBPF). */
  hostPortMissingFromServiceTable = false;
  /** Pod -> its own node's IP:hostPort fails (no hairpin, the portmap era). */
  hostPortSameNodeBroken = false;
  /** Per node: CNI-HOSTPORT iptables rules (the portmap plugin's). */
  readonly cniHostportRules = new Map<string, number>();
  /** Called on every exec (tests use it to interrupt a run). */
  onExec: ((call: ExecCall) => void) | undefined;
  /** Files the nodes PUT to presigned URLs (the upstream sysdump), by URL. */
  readonly uploads = new Map<string, Buffer>();
  upstream: { exitCode: number; junit?: string; timedOut?: boolean; sysdump?: boolean } = {
    exitCode: 0,
    junit: '<?xml version="1.0"?><testsuites tests="3" failures="0"><testsuite name="connectivity test" tests="3" failures="0"></testsuite></testsuites>',
  };

  // ---- what happened ----
  readonly traffic: { from: string; to: string }[] = [];
  private roundRobin = 0;
  private lbPick = 0;

  private constructor(
    readonly api: FakeKubeApi,
    readonly remote: FakeRemoteRunner,
  ) {}

  static async start(): Promise<LabWorld> {
    const api = await FakeKubeApi.start();
    let world: LabWorld | undefined;
    const remote = new FakeRemoteRunner((node, script) => (world as LabWorld).hostAnswer(node, script));
    world = new LabWorld(api, remote);
    world.populate();
    api.onExec((call) => (world as LabWorld).exec(call));
    return world;
  }

  close(): Promise<void> {
    return this.api.close();
  }

  private populate(): void {
    const api = this.api;
    for (const n of LAB_NODES) api.addNode({ name: n.name, internalIp: n.ip, podCidr: n.podCidr, controlPlane: n.controlPlane });
    api.addDaemonSet('kube-system', 'cilium', { desired: 3, ready: 3 }, { 'k8s-app': 'cilium' });
    LAB_NODES.forEach((n, i) => api.addRunningPod('kube-system', `cilium-${['x7k2p', 'b9q4m', 'h3v8d'][i]}`, n.name, { 'k8s-app': 'cilium', 'app.kubernetes.io/part-of': 'cilium' }, ['cilium-agent'], true));
    api.addDeployment('kube-system', 'coredns', { replicas: 2, ready: 2 });
    api.addDeployment('kube-system', 'cilium-operator', { replicas: 1, ready: 1 });
    api.addDeployment('kube-system', 'hubble-relay', { replicas: 1, ready: 1 });
    api.addDeployment('kube-system', 'hubble-ui', { replicas: 1, ready: 1 });
    // What the chart renders for the lab's default values (helm-values/cilium.yaml + xdp.yaml + the lab's ipv4NativeRoutingCIDR).
    api.addConfigMap('kube-system', 'cilium-config', {
      'kube-proxy-replacement': 'true',
      'bpf-lb-acceleration': 'native',
      'routing-mode': 'native',
      'enable-bpf-masquerade': 'true',
      'enable-ipv4-masquerade': 'true',
      'enable-host-legacy-routing': 'false',
      'ipv4-native-routing-cidr': '172.16.0.0/16',
    });
    api.addConfigMap('kube-system', 'coredns', { Corefile: '.:53 {\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n}\n' });
    api.addService('kube-system', 'hubble-relay', RELAY_IP, 80, { 'k8s-app': 'hubble-relay' });
    // As the chart makes it: Service port 80 -> the frontend container's 8081.
    api.addService('kube-system', 'hubble-ui', '10.10.200.60', 80, { 'k8s-app': 'hubble-ui' }, 8081);
    api.addRunningPod('kube-system', 'hubble-ui-6b468cff75-q2w8z', 'k8s-w1', { 'k8s-app': 'hubble-ui' }, ['frontend', 'backend']);
  }

  /** Puts kube-proxy back as kubeadm would have installed it. */
  addKubeProxy(): void {
    this.api.addDaemonSet('kube-system', 'kube-proxy', { desired: 3, ready: 3 }, { 'k8s-app': 'kube-proxy' });
    this.api.addConfigMap('kube-system', 'kube-proxy', { 'config.conf': 'mode: ""\n' });
  }

  // ---- the datapath ----

  private podsOf(ns: string): Json[] {
    return this.api.podsIn(ns);
  }

  private podName(p: Json): string {
    return (p.metadata as Json).name as string;
  }

  private podIp(p: Json): string {
    return (p.status as Json).podIP as string;
  }

  private hostIp(p: Json): string {
    return (p.status as Json).hostIP as string;
  }

  /**
   * Whether Cilium masquerades a pod's packet to another node's pod, modelled on its own rule (not
   * on the code under test): IPv4 masquerading on, native routing, the destination outside
   * ipv4-native-routing-cidr (bpf/lib/nat.h snat_v4_needs_masquerade; cilium/cilium#32010).
   */
  private masquerades(destinationIp: string): boolean {
    const data = ((this.api.configMap('kube-system', 'cilium-config')?.data ?? {}) as Record<string, string>);
    if (data['enable-ipv4-masquerade'] === 'false' || data['routing-mode'] !== 'native' || data['enable-ip-masq-agent'] === 'true') return false;
    const [network, bits] = (data['ipv4-native-routing-cidr'] ?? '0.0.0.0/32').split('/') as [string, string];
    const toInt = (ip: string): number => ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(bits));
    const start = toInt(network);
    const address = toInt(destinationIp);
    return !(address >= start && address < start + size);
  }

  /**
   * Installs Cilium with these Helm values: cilium-config as the 1.16.3 chart renders the keys the
   * checks read (cilium/charts cilium-1.16.3.tgz, templates/cilium-configmap.yaml: KPR "false"
   * when unset; routing-mode "tunnel" when unset; enable-bpf-masquerade and
   * enable-host-legacy-routing only when set; enable-ipv4-masquerade always; bpf-lb-acceleration
   * when loadBalancer.acceleration is; ipv4-native-routing-cidr when not empty; enable-ip-masq-agent
   * only when true), and the agents reporting what they run with it (host routing falls back to
   * Legacy without KPR or with iptables masquerading: daemon/cmd/kube_proxy_replacement.go).
   */
  /**
   * A lab of profile eni: kubeadm gave the nodes no pod CIDRs, each kubelet the given maxPods, and
   * Cilium's operator attached ENIs in the node subnet whose secondary addresses the pods get.
   */
  useEniIpam(podCapacity: Readonly<Record<string, number>>, subnetCidr = '192.168.10.0/24', vpcCidr = '192.168.0.0/16'): void {
    this.vpcRoutesPods = true;
    const base = subnetCidr.split('/')[0]?.split('.').slice(0, 3).join('.') as string;
    LAB_NODES.forEach((n, i) => {
      this.api.addNode({ name: n.name, internalIp: n.ip, controlPlane: n.controlPlane, ...(podCapacity[n.name] !== undefined ? { podCapacity: podCapacity[n.name] } : {}) });
      const first = 20 + i * 40;
      this.api.ciliumNodeEnis.set(n.name, [
        { id: `eni-0${i}a`, ip: n.ip, subnetCidr, vpcPrimaryCidr: vpcCidr, addresses: Array.from({ length: 9 }, (_, k) => `${base}.${first + k}`) },
        { id: `eni-0${i}b`, ip: `${base}.${first + 10}`, subnetCidr, vpcPrimaryCidr: vpcCidr, addresses: Array.from({ length: 9 }, (_, k) => `${base}.${first + 11 + k}`) },
      ]);
    });
  }

  /** Profile bgp: the router and the agents' BGP speakers (bgp-world.ts). */
  bgp: BgpWorld | undefined;

  /** A lab of profile bgp: the nodes where the plan puts them (some behind the router), LB IPAM with the lab's pool. */
  useBgp(setup: BgpWorldSetup): BgpWorld {
    for (const n of setup.nodes) this.api.addNode({ name: n.name, internalIp: n.ip, podCidr: n.podCidr, controlPlane: LAB_NODES.find((l) => l.name === n.name)?.controlPlane ?? false });
    const bgp = new BgpWorld(setup);
    bgp.localBackends = (node) => this.podsOf(NS_CHECK).some((p) => ((p.metadata as Json).labels as Json | undefined)?.app === 'webpod' && (p.spec as Json).nodeName === node);
    this.api.loadBalancerIpam = (svc) => bgp.assign(svc);
    this.bgp = bgp;
    return bgp;
  }

  installValues(values: Record<string, unknown>): void {
    const at = (path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
    const set = (v: unknown): boolean => v !== undefined && v !== null;
    const data: Record<string, string> = {
      'kube-proxy-replacement': String(at('kubeProxyReplacement') ?? 'false'),
      'routing-mode': String(at('routingMode') || 'tunnel'),
      ...(set(at('bpf.masquerade')) ? { 'enable-bpf-masquerade': String(at('bpf.masquerade')) } : {}),
      'enable-ipv4-masquerade': String(at('enableIPv4Masquerade') ?? true),
      ...(set(at('bpf.hostLegacyRouting')) ? { 'enable-host-legacy-routing': String(at('bpf.hostLegacyRouting')) } : {}),
      ...(set(at('loadBalancer.acceleration')) ? { 'bpf-lb-acceleration': String(at('loadBalancer.acceleration')) } : {}),
      ...(at('ipv4NativeRoutingCIDR') ? { 'ipv4-native-routing-cidr': String(at('ipv4NativeRoutingCIDR')) } : {}),
      ...(at('ipMasqAgent.enabled') === true ? { 'enable-ip-masq-agent': 'true' } : {}),
      ...(set(at('bpf.datapathMode')) ? { 'datapath-mode': String(at('bpf.datapathMode')) } : {}),
    };
    this.api.addConfigMap('kube-system', 'cilium-config', data);
    const kpr = data['kube-proxy-replacement'] === 'true';
    const bpfMasq = data['enable-bpf-masquerade'] === 'true';
    const masq = data['enable-ipv4-masquerade'] === 'true';
    Object.assign(this.agent, {
      kpr: kpr ? 'True' : 'False',
      interHost: data['routing-mode'] === 'native' ? 'Native' : 'Tunnel',
      intraHost: data['enable-host-legacy-routing'] !== 'true' && kpr && (bpfMasq || !masq) ? 'BPF' : 'Legacy',
      masqMode: masq ? (bpfMasq ? 'BPF' : 'IPTables') : 'disabled',
      acceleration: data['bpf-lb-acceleration'] === 'native' ? 'Native' : 'Disabled',
    });
  }

  private whoami(server: Json, client: Json, host: string): string {
    const remote = this.snat || (!this.neverSnat && this.masquerades(this.podIp(server))) ? this.hostIp(client) : this.podIp(client);
    return [
      `Hostname: ${this.podName(server)}`,
      'IP: 127.0.0.1',
      'IP: ::1',
      `IP: ${this.podIp(server)}`,
      `RemoteAddr: ${remote}:${40000 + this.traffic.length}`,
      'GET / HTTP/1.1',
      `Host: ${host}`,
      'User-Agent: curl/8.7.1',
      'Accept: */*',
      '',
      '',
    ].join('\n');
  }

  /** One curl from `client` to `url`, as the datapath would answer it. */
  private curl(client: Json, ns: string, url: string, maxTime: string): ExecReply {
    const parsed = new URL(url);
    const host = parsed.hostname;
    const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
    const timeout = (): ExecReply => ({
      stderr: `curl: (28) Connection timed out after ${Number(maxTime) * 1000} milliseconds\n`,
      exitCode: 28,
    });
    if (host === 'checkip.amazonaws.com') return this.internet ? { stdout: `${this.egressIp}\n` } : timeout();
    if (host === 'hubble-ui.kube-system.svc.cluster.local') {
      if (!this.hubbleUiServes) return { stderr: `curl: (7) Failed to connect to ${host} port ${port} after 2 ms: Couldn't connect to server\n`, exitCode: 7 };
      return { stdout: '<!doctype html><html><head><meta charset="utf-8"/><title>Hubble UI</title><link href="/bundle.main.css" rel="stylesheet"></head><body><div id="app"></div><script src="/bundle.main.js"></script></body></html>' };
    }
    const pods = this.podsOf(ns);
    const service = this.api.serviceIn(ns, 'webpod');
    const serviceIp = (service?.spec as Json | undefined)?.clusterIP as string | undefined;
    let server: Json | undefined;
    if ((host === serviceIp || host === `webpod.${ns}.svc.cluster.local`) && port === 80) {
      const backends = pods.filter((p) => this.serviceBackends.includes(this.podName(p)));
      server = backends[this.roundRobin++ % Math.max(1, backends.length)];
    } else if (port === 80) {
      server = pods.find((p) => this.podIp(p) === host);
    } else if (port === 8080) {
      server = pods.find((p) => this.podName(p) === 'hostport' && this.hostIp(p) === host);
      if (server && this.hostPortSameNodeBroken && this.hostIp(client) === host) return timeout();
    }
    if (host.endsWith('.svc.cluster.local') && !serviceIp) {
      return { stderr: `curl: (6) Could not resolve host: ${host}\n`, exitCode: 6 };
    }
    if (!server) return { stderr: `curl: (7) Failed to connect to ${host} port ${port} after 3 ms: Couldn't connect to server\n`, exitCode: 7 };
    if (this.unreachablePods.has(this.podName(server))) return timeout();
    // Profile bgp: between the subnets only through the router (bgp-world.ts podPathWorks).
    if (this.bgp && !this.bgp.podPathWorks((client.spec as Json).nodeName as string, (server.spec as Json).nodeName as string)) return timeout();
    const blinks = this.blinks.get(this.podName(server)) ?? 0;
    if (blinks > 0) {
      this.blinks.set(this.podName(server), blinks - 1);
      return timeout();
    }
    this.traffic.push({ from: this.podName(client), to: this.podName(server) });
    return { stdout: this.whoami(server, client, parsed.host) };
  }

  private exec(call: ExecCall): ExecReply {
    this.onExec?.(call);
    const broken = this.execTransportFailures.get(call.pod) ?? 0;
    if (broken > 0) {
      this.execTransportFailures.set(call.pod, broken - 1);
      return { closeWithoutStatus: true };
    }
    const [program, ...args] = call.command;
    if (call.container === 'cilium-agent') {
      const pod = this.api.pod(call.namespace, call.pod) as Json;
      const node = (pod.spec as Json).nodeName as string;
      if (program === 'cilium-dbg') {
        const failure = this.agentExecFailure.get(node);
        if (failure) return failure;
        if (args[0] === 'service') return { stdout: `${JSON.stringify(this.serviceTable(node), null, 2)}\n` };
        // `cilium-dbg bgp peers -o json` (cilium-dbg/cmd/bgp_peer_get.go prints this when the control plane is off).
        if (args[0] === 'bgp') return this.bgp ? { stdout: this.bgp.agentPeers(node) } : { stdout: 'BGP Control Plane is disabled\n' };
        return { stdout: `${JSON.stringify(agentStatusJson(this.agent, node), null, 2)}\n` };
      }
      if (program === 'hubble') {
        const server = args[args.indexOf('--server') + 1];
        if (server !== `${RELAY_IP}:80`) return { stderr: `failed to connect to '${server}': context deadline exceeded\n`, exitCode: 1 };
        // The filters as hubble applies them: --pod (either end), --from-pod, --to-pod, --verdict.
        const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
        const either = flag('--pod');
        const from = flag('--from-pod') ?? either;
        const to = flag('--to-pod');
        const verdict = flag('--verdict');
        const l7Only = flag('--type') === 'l7';
        // --since: flows from before it (an earlier run's) are not returned.
        const since = flag('--since');
        if (since !== undefined && Number.isNaN(Date.parse(since))) return { stderr: `invalid --since value: ${since}\n`, exitCode: 1 };
        const [ns, name] = (from ?? '').split('/') as [string, string];
        const client = this.api.pod(ns, name);
        if (!this.hubbleSeesTraffic || !client) return { stdout: this.hubbleExtraFlows.map((l) => `${l}\n`).join('') };
        const flows = [
          ...(l7Only ? [] : this.traffic.filter((t) => t.from === name).map((t) => ({ to: t.to, drop: undefined }))),
          ...this.hubbleDrops
            .filter((d) => d.from === name && (!l7Only || d.l7) && (since === undefined || (d.at ?? Date.now() + this.api.clockOffsetMs) >= Date.parse(since)))
            .map((d) => ({ to: d.to, drop: { reason: 133, desc: d.reason, ...(d.l7 ? { l7: true } : {}) } })),
        ];
        const lines = flows
          .filter((f) => (to === undefined || to === `${ns}/${f.to}`) && (verdict === undefined || verdict === (f.drop ? 'DROPPED' : 'FORWARDED')))
          .map((f) => {
            const dst = this.api.pod(ns, f.to) as Json;
            return hubbleFlowLine({ ns, pod: name, ip: this.podIp(client), node: (client.spec as Json).nodeName as string }, { ns, pod: f.to, ip: this.podIp(dst) }, f.drop);
          });
        return { stdout: lines.length > 0 ? `${lines.join('\n')}\n` : '' };
      }
      return { stderr: `exec: "${program}": executable file not found in $PATH\n`, exitCode: 127 };
    }
    if (call.container === 'netshoot') {
      const client = this.api.pod(call.namespace, call.pod) as Json;
      const perf = this.perfExec(client, call.namespace, program as string, args);
      if (perf) return perf;
      if (call.namespace === 'cilium-lab-policy' && program === 'curl') return this.policyCurl(client, call.namespace, args[args.length - 1] as string);
      if (program === 'curl') {
        const maxTime = args[args.indexOf('--max-time') + 1] ?? '5';
        return this.curl(client, call.namespace, args[args.length - 1] as string, maxTime);
      }
      if (program === 'sh' && args[0] === '-c') {
        const script = args[1] ?? '';
        const count = Number(/seq 1 (\d+)/.exec(script)?.[1] ?? '0');
        const url = /(http:\/\/\S+)/.exec(script)?.[1] ?? '';
        const out: string[] = [];
        for (let i = 1; i <= count; i++) {
          const r = this.curl(client, call.namespace, url, '3');
          const kept = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').filter((l) => /^(Hostname|RemoteAddr|curl)/.test(l));
          out.push(`=== request ${i}`, ...kept, `=== exit ${r.exitCode ?? 0}`);
        }
        return { stdout: `${out.join('\n')}\n` };
      }
    }
    return { stderr: `exec: "${program}": executable file not found in $PATH\n`, exitCode: 127 };
  }

  // ---- the policy exercise: CiliumNetworkPolicies enforced as Cilium does (policy-world.ts) ----

  /** Policies the world ignores (a datapath that does not enforce them: the exercise must notice). */
  policiesIgnored = false;
  /** Requests a changed set of policies takes to be in force (agents learn them with a lag). */
  policyLagRequests = 0;
  private policiesInForce: Json[] = [];
  private policiesPending: { policies: Json[]; key: string; requestsLeft: number } | undefined;

  /** The policies the datapath enforces now: a new set only after policyLagRequests requests. */
  private enforcedPolicies(ns: string): Json[] {
    const current = [...this.api.ciliumNetworkPolicies].filter(([k]) => k.startsWith(`${ns}/`)).map(([, v]) => v);
    const key = JSON.stringify(current);
    if (key !== JSON.stringify(this.policiesInForce) && this.policiesPending?.key !== key) this.policiesPending = { policies: current, key, requestsLeft: this.policyLagRequests };
    if (this.policiesPending && this.policiesPending.requestsLeft-- <= 0) {
      this.policiesInForce = this.policiesPending.policies;
      this.policiesPending = undefined;
    }
    return this.policiesInForce;
  }

  private policyCurl(client: Json, ns: string, url: string): ExecReply {
    const parsed = new URL(url);
    const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
    const clientLabels = ((client.metadata as Json).labels ?? {}) as Record<string, string>;
    const server = this.podsOf(ns).find((p) => this.podIp(p) === parsed.hostname);
    const target: Target = server ? { kind: 'pod', labels: ((server.metadata as Json).labels ?? {}) as Record<string, string>, port } : { kind: 'fqdn', name: parsed.hostname, port };
    const policies = this.policiesIgnored ? [] : this.enforcedPolicies(ns);
    // An answer given under policies older than the API's: marked, so a test sees a step judged too early.
    const stale = !this.policiesIgnored && this.policiesPending !== undefined ? ' (stale policy)' : '';
    const verdict = evaluate(policies, clientLabels, target, { method: 'GET', path: parsed.pathname }, ns);
    const from = this.podName(client);
    const to = server ? this.podName(server) : parsed.hostname;
    const timedOut = (): ExecReply => ({ stdout: '\nHTTP 000', stderr: '', exitCode: 28 });
    if (verdict === 'no-dns') return { stdout: '\nHTTP 000', exitCode: 6 };
    if (verdict === 'drop') {
      if (server) this.hubbleDrops.push({ from, to, reason: 'POLICY_DENIED' });
      return timedOut();
    }
    if (verdict === 'l7-deny') {
      this.hubbleDrops.push({ from, to, reason: '', l7: true });
      return { stdout: 'Access denied\n\nHTTP 403' };
    }
    if (!server) {
      if (!this.internet) return timedOut();
      return { stdout: `${parsed.hostname.replace(/\.$/, '') === 'checkip.amazonaws.com' ? this.egressIp : '<!doctype html><html><head><title>Example Domain</title>'}${stale}\nHTTP 200` };
    }
    if (port !== 80 && port !== 8080) return { stdout: '\nHTTP 000', exitCode: 7 };
    this.traffic.push({ from, to });
    return { stdout: `${this.whoami(server, client, parsed.host).split('\n')[0]}${stale}\nHTTP 200` };
  }

  // ---- lab perf: iperf3 and curl's timings, from recorded real output (test/exercises/fixtures) ----

  /** Gbit/s and ms the world's datapath gives each path (same node, across nodes, to the host, testpc's NodePort). */
  private perfRuns = 0;
  readonly perfModel = { sameNode: { gbps: 31.2, ms: 0.12 }, crossNode: { gbps: 9.4, ms: 0.41 }, host: { gbps: 27.5, ms: 0.1 }, nodePort: { gbps: 8.7, ms: 0.52 } };

  private iperfJson(gbps: number | undefined): { stdout: string; exitCode: number } {
    const dir = new URL('../exercises/fixtures/', import.meta.url);
    if (gbps === undefined) return { stdout: readFileSync(new URL('iperf3-refused.json', dir), 'utf8'), exitCode: 1 };
    const doc = JSON.parse(readFileSync(new URL('iperf3-tcp.json', dir), 'utf8')) as Json;
    // runs differ a little, as real ones do
    ((doc.end as Json).sum_received as Json).bits_per_second = gbps * 1e9 * (0.97 + 0.06 * ((this.perfRuns++ % 5) / 4));
    return { stdout: JSON.stringify(doc), exitCode: 0 };
  }

  private rrLine(ms: number | undefined): string {
    if (ms === undefined) return 'CILIUM_LAB_RR {"connect":0.000000,"firstByte":0.000000,"total":5.001000,"code":000,"exit":0}\n';
    const s = (ms * (0.9 + 0.2 * ((this.roundRobin++ % 5) / 4))) / 1000;
    return `CILIUM_LAB_RR {"connect":${(s / 3).toFixed(6)},"firstByte":${s.toFixed(6)},"total":${(s * 1.05).toFixed(6)},"code":200,"exit":0}\n`;
  }

  /** Where a perf client reaches, by the address it calls: the iperf3 or whoami pod (same node or not), or the server node's own address. */
  private perfTarget(client: Json, ns: string, ip: string): 'sameNode' | 'crossNode' | 'host' | undefined {
    const server = this.podsOf(ns).find((p) => this.podIp(p) === ip && !(p.spec as Json).hostNetwork);
    if (server) return (server.spec as Json).nodeName === (client.spec as Json).nodeName ? 'sameNode' : 'crossNode';
    return LAB_NODES.some((n) => n.ip === ip) && this.podsOf(ns).some((p) => (p.spec as Json).hostNetwork && this.podIp(p) === ip) ? 'host' : undefined;
  }

  private perfExec(client: Json, ns: string, program: string, args: readonly string[]): ExecReply | undefined {
    if (ns !== 'cilium-lab-perf') return undefined;
    if (program === 'cat' && args[0] === '/sys/class/net/eth0/mtu') return { stdout: '3498\n' };
    if (program === 'iperf3' && args[0] === '-c') {
      const where = this.perfTarget(client, ns, args[1] as string);
      const r = this.iperfJson(where ? this.perfModel[where].gbps : undefined);
      return { stdout: r.stdout, exitCode: r.exitCode };
    }
    if (program === 'curl' && args.includes('-w')) {
      const host = /^http:\/\/([^/:]+)/.exec(args[args.length - 1] as string)?.[1] ?? '';
      const where = this.perfTarget(client, ns, host);
      return { stdout: this.rrLine(where ? this.perfModel[where].ms : undefined), exitCode: where ? 0 : 28 };
    }
    return undefined;
  }

  /** testpc running scripts/node/perf-probe.sh against a node's NodePorts. */
  private perfProbe(node: string, script: string): { exitCode: number; stdout: string; stderr?: string } {
    if (node !== 'testpc') return { exitCode: 99, stdout: '', stderr: `fake node: ${node} is not testpc\n` };
    const env = (name: string): string => /^(\w+)=(.*)$/m.exec(script.split('\n').find((l) => l.startsWith(`${name}=`)) ?? '')?.[2]?.replace(/^'|'$/g, '') ?? '';
    const reachable = !this.nodePortDown.has(LAB_NODES.find((n) => n.ip === env('LAB_PERF_TARGET'))?.name ?? '');
    const lines: string[] = [];
    for (let i = 0; i < Number(env('LAB_PERF_REPEAT')); i++) lines.push(`CILIUM_LAB_IPERF ${this.iperfJson(reachable ? this.perfModel.nodePort.gbps : undefined).stdout.replace(/\s+/g, ' ')}`);
    let rr = '';
    for (let i = 0; i < Number(env('LAB_PERF_REQUESTS')); i++) rr += this.rrLine(reachable ? this.perfModel.nodePort.ms : undefined);
    return { exitCode: 0, stdout: `${lines.join('\n')}\n${rr}` };
  }

  // ---- the hosts ----

  /** `cilium-dbg service list -o json` on a node's agent (api/v1 Service): the ClusterIPs, and the HostPort frontend on the hostport pod's node. */
  private serviceTable(node: string): Json[] {
    const entry = (id: number, type: string, ip: string, port: number, backends: string[]): Json => ({
      spec: {
        id,
        'frontend-address': { ip, port, protocol: 'TCP', scope: 'external' },
        'backend-addresses': backends.map((b) => ({ ip: b, port: 80, protocol: 'TCP', state: 'active', zone: '' })),
        flags: { type, trafficPolicy: 'Cluster', natPolicy: 'None', name: type === 'HostPort' ? 'hostport' : 'webpod', namespace: NS_CHECK },
      },
      status: { realized: { id } },
    });
    const table: Json[] = [entry(1, 'ClusterIP', '10.10.0.1', 443, ['192.168.10.10'])];
    const hostport = this.podsOf(NS_CHECK).find((p) => this.podName(p) === 'hostport' && (p.spec as Json).nodeName === node);
    if (hostport && !this.hostPortMissingFromServiceTable) {
      table.push(entry(20, 'HostPort', this.hostIp(hostport), 8080, [this.podIp(hostport)]), entry(21, 'HostPort', '0.0.0.0', 8080, [this.podIp(hostport)]));
    }
    return table;
  }

  /**
   * testpc running scripts/node/nodeport-probe.sh: each node IP on each nodePort, as Cilium's
   * NodePort answers it. Cluster: any node, the backends in turn (the backend sees the node's IP:
   * SNAT). Local: only a node running a backend answers, with that backend, and the backend sees
   * testpc's own address; a node without one drops the request (curl times out).
   */
  private nodePortProbe(node: string, script: string): { exitCode: number; stdout: string; stderr?: string } {
    if (node !== 'testpc') return { exitCode: 99, stdout: '', stderr: `fake node: ${node} is not testpc\n` };
    const env = (name: string): string => /^(\w+)=(.*)$/m.exec(script.split('\n').find((l) => l.startsWith(`${name}=`)) ?? '')?.[2]?.replace(/^'|'$/g, '') ?? '';
    const requests = Number(env('LAB_PROBE_REQUESTS'));
    const targets = env('LAB_PROBE_TARGETS').split(' ').map((t) => t.split('=') as [string, string]);
    const ports = env('LAB_PROBE_PORTS').split(' ').map((p) => p.split('=') as [string, string]);
    const lines: string[] = [];
    for (const [service, port] of ports) {
      if (service === 'loadbalancer') {
        // testpc -> LoadBalancer IPs: the router's ECMP next hops, then that node's Cilium (Local: its own backends only).
        for (const [target, ip] of targets) {
          const svc = [...this.api.servicesIn(NS_CHECK)].find((x) => (((x.status as Json).loadBalancer as Json).ingress as Json[] | undefined)?.[0]?.ip === ip);
          const local = (svc?.spec as Json | undefined)?.externalTrafficPolicy === 'Local';
          const hops = this.bgp?.lbNextHops(ip) ?? [];
          const backends = this.podsOf(NS_CHECK).filter((p) => ((p.metadata as Json).labels as Json)?.app === 'webpod');
          const counts: Record<string, number> = {};
          let failed = 0;
          for (let attempt = 1; attempt <= requests; attempt++) {
            // The router hashes each connection onto a next hop (L4: a new source port each time); the node's Cilium picks a backend.
            const hop = hops[attempt % Math.max(1, hops.length)];
            const nodeName = this.api.nodeNameByIp(hop ?? '');
            const candidates = local ? backends.filter((p) => (p.spec as Json).nodeName === nodeName) : backends;
            const server = svc && hop && candidates.length > 0 ? candidates[this.lbPick++ % candidates.length] : undefined;
            if (!server) failed += 1;
            else counts[this.podName(server)] = (counts[this.podName(server)] ?? 0) + 1;
          }
          const fields = failed > 0 ? { failed, lastExit: 28, error: 'curl: (28) Connection timed out after 3002 milliseconds' } : { failed: 0, lastExit: 0, error: '' };
          lines.push(`${NODEPORT_TAG} ${JSON.stringify({ service, node: target, ip, port: Number(port), requests, answers: counts, ...fields })}`);
        }
        continue;
      }
      if (service === 'pod-direct') {
        // Pod addresses called directly: only the VPC's routing gets there (ENI IPAM); else curl times out.
        for (const [target, ip] of targets) {
          const pod = this.podsOf(NS_CHECK).find((p) => this.podIp(p) === ip);
          const answers = this.vpcRoutesPods && pod ? { [this.podName(pod)]: requests } : {};
          const fields = this.vpcRoutesPods && pod ? { failed: 0, lastExit: 0, error: '' } : { failed: requests, lastExit: 28, error: 'curl: (28) Connection timed out after 3002 milliseconds' };
          lines.push(`${NODEPORT_TAG} ${JSON.stringify({ service, node: target, ip, port: Number(port), requests, answers, ...fields })}`);
        }
        continue;
      }
      const svc = this.api.serviceIn(NS_CHECK, service);
      const spec = (svc?.spec ?? {}) as Json;
      const matches = ((spec.ports ?? []) as Json[]).some((p) => String(p.nodePort) === port);
      const backends = this.podsOf(NS_CHECK).filter((p) => ((p.metadata as Json).labels as Json)?.app === 'webpod');
      for (const [target, ip] of targets) {
        const counts: Record<string, number> = {};
        let failed = 0;
        for (let attempt = 1; attempt <= requests; attempt++) {
          const local = spec.externalTrafficPolicy === 'Local' && !this.nodePortIgnoresLocal;
          const candidates = local ? backends.filter((p) => (p.spec as Json).nodeName === target) : backends;
          const answers = svc && matches && candidates.length > 0 && !this.nodePortDown.has(target);
          const server = answers ? candidates[this.roundRobin++ % candidates.length] : undefined;
          if (!server) {
            failed += 1;
            continue;
          }
          counts[this.podName(server)] = (counts[this.podName(server)] ?? 0) + 1;
          // Sent on to a backend on another node: Cilium's XDP program forwards it (XDP_TX).
          if ((server.spec as Json).nodeName !== target && (this.nic.get(target)?.xdp ?? 'driver') === 'driver' && !this.xdpBypassed) {
            this.xdpForwarded.set(target, (this.xdpForwarded.get(target) ?? 17) + 5);
          }
        }
        const fields = failed > 0 ? { failed, lastExit: 28, error: 'curl: (28) Connection timed out after 3002 milliseconds' } : { failed: 0, lastExit: 0, error: '' };
        lines.push(`${NODEPORT_TAG} ${JSON.stringify({ service, node: target, ip, port: Number(port), requests, answers: counts, ...fields })}`);
      }
    }
    return { exitCode: 0, stdout: `${lines.join('\n')}\n` };
  }

  /**
   * apply-manifests.sh on the control plane, as the API server answers it: each object's kind must
   * have its definition (Cilium's CRDs of the installed minor, test/bgp/fixtures/crds) serving the
   * object's version, and the object must fit its schema (strict field validation); then the agents
   * and the operator act on what was applied (BgpWorld.applyResources).
   */
  private applyManifests(node: string, script: string): { exitCode: number; stdout: string; stderr?: string } {
    if (node !== LAB_NODES[0]?.name) return { exitCode: 2, stdout: '', stderr: `fake node: ${node} is not the control plane\n` };
    if (!this.bgp) return { exitCode: 4, stdout: '', stderr: 'ciliumbgpclusterconfigs.cilium.io did not appear Established within 180s: is Cilium\'s operator running, with the feature on?\n' };
    const b64 = /^readonly LAB_MANIFEST_B64='([^']*)'$/m.exec(script)?.[1] ?? '';
    // Read as kubectl reads it: YAML 1.1 (sigs.k8s.io/yaml, go-yaml v2), where a bare No is false.
    const objects = parseAllDocuments(Buffer.from(b64, 'base64').toString('utf8'), { version: '1.1' }).map((d) => d.toJS() as Json);
    // Cilium's definitions of the installed minor, by plural name (the fixtures' file names).
    const crds = new Map<string, CrdDoc>();
    const crd = (plural: string): CrdDoc => {
      if (!crds.has(plural)) crds.set(plural, parseAllDocuments(readFileSync(new URL(`../bgp/fixtures/crds/${this.bgp?.setup.crds}/${plural}.yaml`, import.meta.url), 'utf8'))[0]?.toJS() as CrdDoc);
      return crds.get(plural) as CrdDoc;
    };
    const lines: string[] = [];
    const wanted = (/^readonly LAB_CRDS='([^']*)'$/m.exec(script)?.[1] ?? '').split(' ').filter(Boolean);
    for (const entry of wanted) {
      const [name, version] = entry.split('=') as [string, string];
      const served = crd(name.split('.')[0] as string).spec.versions.filter((v) => v.served).map((v) => v.name);
      lines.push(`CILIUM_LAB_CRD ${name} ${served.join(',')}`);
      if (!served.includes(version)) return { exitCode: 3, stdout: `${lines.join('\n')}\nCILIUM_LAB_CRD_VERSION_MISSING ${name} ${version}\n`, stderr: `${name} serves ${served.join(',')}, not ${version}\n` };
    }
    for (const o of objects) {
      const errors = validateAgainstCrd(o, crd(pluralOf(String(o.kind))));
      if (errors.length > 0) return { exitCode: 1, stdout: `${lines.join('\n')}\n`, stderr: `Error from server (BadRequest): ${String(o.kind)} ${String((o.metadata as Json).name)}: ${errors.join('; ')}\n` };
    }
    this.bgp.applyResources(objects);
    for (const o of objects) lines.push(`CILIUM_LAB_APPLIED ${String(o.kind).toLowerCase()}.cilium.io/${String((o.metadata as Json).name)} serverside-applied`);
    return { exitCode: 0, stdout: `${lines.join('\n')}\n` };
  }

  hostAnswer(node: string, script: string): { exitCode: number; stdout: string; stderr?: string } {
    if (script.includes(IPTABLES_TAG)) {
      const rules = this.kubeSvcRules.get(node) ?? 0;
      const sample = rules > 0 ? 'iptables-save: :KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\niptables-save: -A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https" -j KUBE-SEP-ABC\n' : '';
      const hostport = this.cniHostportRules.get(node) ?? 0;
      return { exitCode: 0, stdout: `${sample}${IPTABLES_TAG} {"kubeSvcRules":${rules},"kubeSvcChains":${rules > 0 ? 1 : 0},"cniHostportRules":${hostport},"backends":"iptables-save"}\n` };
    }
    if (script.includes(NIC_STATE_TAG)) {
      const s = this.nic.get(node) as NicState;
      return {
        exitCode: 0,
        stdout: `interface ens5: mtu ${s.mtu}\n${NIC_STATE_TAG} ${JSON.stringify({ interface: 'ens5', mtu: s.mtu, wantMtu: s.wantMtu, channels: s.channels, wantChannels: s.wantChannels, xdp: s.xdp ?? 'driver', xdpProgId: s.xdp === 'none' ? null : 1234, xdpForwarded: this.xdpCountersExposed ? (this.xdpForwarded.get(node) ?? 17) : null })}\n`,
      };
    }
    if (script.includes(UPSTREAM_TAG)) {
      // As scripts/node/cilium-connectivity.sh reports: on failure the sysdump goes to the upload URL when there is one.
      const url = /^LAB_SYSDUMP_UPLOAD_URL='([^']*)'$/m.exec(script)?.[1];
      let sysdump = 'none';
      if (this.upstream.exitCode !== 0 && this.upstream.sysdump) {
        if (url) {
          this.uploads.set(url, Buffer.from('PK\u0003\u0004 a cilium sysdump'));
          sysdump = 'uploaded';
        } else sysdump = 'kept at /var/tmp/cilium-lab-connectivity/cilium-sysdump-20261202-101500.zip';
      }
      const junit = this.upstream.junit ? `${UPSTREAM_JUNIT_TAG} ${gzipSync(Buffer.from(this.upstream.junit)).toString('base64')}\n` : '';
      const facts = { exitCode: this.upstream.exitCode, timedOut: this.upstream.timedOut ?? false, junit: this.upstream.junit !== undefined, sysdump };
      return { exitCode: 0, stdout: `${UPSTREAM_TAG} ${JSON.stringify(facts)}\n${junit}✅ [cilium-lab-upstream-1] All 3 tests (30 actions) successful, 0 tests skipped, 0 scenarios skipped.\n` };
    }
    if (script.includes(NODEPORT_TAG)) return this.nodePortProbe(node, script);
    if (/^\s*manifests::main "\$@"/m.test(script)) return this.applyManifests(node, script);
    if (script.includes('CILIUM_LAB_BGP_SUMMARY')) {
      if (!this.bgp || node !== 'router') return { exitCode: 2, stdout: '', stderr: `bgp-router-state: vtysh is not installed on ${node}; is this the lab's router?\n` };
      return this.bgp.routerState();
    }
    if (script.includes('CILIUM_LAB_IPERF')) return this.perfProbe(node, script);
    if (script.includes(DEVICES_TAG)) {
      // Each pod of the node has its endpoint device, of the kind the agents create.
      const pods = this.podsOf(NS_CHECK).filter((p) => (p.spec as Json).nodeName === node).length + 1;
      const data = ((this.api.configMap('kube-system', 'cilium-config')?.data ?? {}) as Record<string, string>);
      const netkit = data['datapath-mode'] === 'netkit' && !this.endpointsStayVeth;
      return { exitCode: 0, stdout: `${DEVICES_TAG} ${JSON.stringify({ netkit: netkit ? pods : 0, veth: netkit ? 0 : pods, other: 0, sample: `lxc8e2f1a: ${netkit ? 'netkit' : 'veth'}` })}\n` };
    }
    if (/^\s*kubeconfig::main "\$@"/m.test(script)) {
      // The control plane runs the real export script (real openssl) on its admin.conf.
      if (node !== LAB_NODES[0]?.name) return { exitCode: 1, stdout: '', stderr: `fake node: ${node} has no admin.conf\n` };
      this.kubeconfigExports += 1;
      const ran = spawnSync('bash', ['-c', script, 'cilium-lab-remote'], { encoding: 'utf8', env: { ...process.env, LAB_KUBECONFIG: this.adminConf } });
      return { exitCode: ran.status ?? -1, stdout: ran.stdout, stderr: ran.stderr };
    }
    return { exitCode: 99, stdout: '', stderr: 'fake node: unknown script\n' };
  }
}
