/**
 * What the deployed Cilium was configured to do, read from the cluster's own `cilium-config`
 * ConfigMap (what the chart rendered from the values, whatever overlay or --values the user
 * chose), and what each setting means for the checks: the agent status every agent must report,
 * and whether pod-to-pod traffic is masqueraded. Each expectation names the keys it came from,
 * so a red result says which setting it was held to.
 *
 * How Cilium decides (1.16; see the sources beside each rule):
 *   - The keys, as the chart renders them (cilium-1.16.3.tgz templates/cilium-configmap.yaml):
 *     kube-proxy-replacement "false" when unset; routing-mode "tunnel" when unset;
 *     enable-bpf-masquerade and enable-host-legacy-routing only when set; enable-ipv4-masquerade
 *     always (default true); enable-ip-masq-agent only when true.
 *   - BPF host routing needs kube-proxy replacement and, with IPv4 masquerading on, BPF
 *     masquerading; else the agent falls back to Legacy (daemon/cmd/kube_proxy_replacement.go
 *     finishKubeProxyReplacementInit: "BPF host routing requires enable-bpf-masquerade",
 *     "... requires kube-proxy-replacement=true", and a 5.10 kernel, which the lab's AMIs have);
 *     enable-host-legacy-routing=true asks for Legacy outright.
 *   - "By default, all packets from a pod destined to an IP address outside of the
 *     ipv4-native-routing-cidr range are masqueraded, except for packets destined to other cluster
 *     nodes" (Documentation/network/concepts/masquerading.rst): in native routing a pod on another
 *     node outside that range sees the node's IP (bpf/lib/nat.h snat_v4_needs_masquerade;
 *     cilium/cilium#32010, #11096; FACTS.md). In tunnel
 *     routing pod-to-pod traffic goes through the tunnel unmasqueraded. With ip-masq-agent its
 *     own nonMasqueradeCIDRs decide, which cilium-config does not show: the checks then accept either.
 */
import { cidrContainsAddress, parseCidr, parseIpv4 } from '../config/cidr.js';

export interface DatapathSettings {
  readonly kubeProxyReplacement: boolean;
  readonly routingMode: 'native' | 'tunnel';
  readonly hostLegacyRouting: boolean;
  readonly ipv4Masquerade: boolean;
  readonly bpfMasquerade: boolean;
  readonly nativeRoutingCidr?: string;
  readonly ipMasqAgent: boolean;
  /** bpf-lb-acceleration: native, best-effort, generic or disabled. */
  readonly acceleration: string;
  /** key=value of every cilium-config key read, for the evidence. */
  readonly source: Readonly<Record<string, string>>;
}

/** The cilium-config keys the checks read (the chart's cilium-configmap.yaml renders them). */
export const DATAPATH_KEYS = [
  'kube-proxy-replacement',
  'routing-mode',
  'enable-host-legacy-routing',
  'enable-ipv4-masquerade',
  'enable-bpf-masquerade',
  'ipv4-native-routing-cidr',
  'enable-ip-masq-agent',
  'bpf-lb-acceleration',
] as const;

const isTrue = (v: string | undefined): boolean => v === 'true';

/** Reads the settings from cilium-config's data (agent defaults where a key is absent). */
export function readDatapathSettings(data: Readonly<Record<string, string>>): DatapathSettings {
  const source = Object.fromEntries(DATAPATH_KEYS.map((k) => [k, data[k] ?? '(unset)']));
  const cidr = data['ipv4-native-routing-cidr'];
  return {
    // 1.16 charts render true/false; older "strict" meant the same.
    kubeProxyReplacement: data['kube-proxy-replacement'] === 'true' || data['kube-proxy-replacement'] === 'strict',
    // The agent's default routing mode is tunnel.
    routingMode: data['routing-mode'] === 'native' ? 'native' : 'tunnel',
    hostLegacyRouting: isTrue(data['enable-host-legacy-routing']),
    // enable-ipv4-masquerade defaults to true in the agent.
    ipv4Masquerade: data['enable-ipv4-masquerade'] !== 'false',
    bpfMasquerade: isTrue(data['enable-bpf-masquerade']),
    ...(cidr ? { nativeRoutingCidr: cidr } : {}),
    ipMasqAgent: isTrue(data['enable-ip-masq-agent']),
    acceleration: data['bpf-lb-acceleration'] || 'disabled',
    source,
  };
}

const from = (s: DatapathSettings, ...keys: (typeof DATAPATH_KEYS)[number][]): string => `cilium-config ${keys.map((k) => `${k}=${s.source[k]}`).join(', ')}`;

/** What every agent's `cilium-dbg status` must report, and the keys each value comes from. */
export interface AgentExpectation {
  readonly want: string;
  readonly because: string;
}

export function expectedAgentStatus(s: DatapathSettings): {
  kubeProxyReplacement: AgentExpectation;
  routing: AgentExpectation;
  hostRouting: AgentExpectation;
  masquerading: AgentExpectation;
  acceleration?: AgentExpectation;
} {
  const bpfHostRouting = !s.hostLegacyRouting && s.kubeProxyReplacement && (s.bpfMasquerade || !s.ipv4Masquerade);
  return {
    kubeProxyReplacement: { want: s.kubeProxyReplacement ? 'True' : 'False', because: from(s, 'kube-proxy-replacement') },
    routing: { want: s.routingMode === 'native' ? 'Native' : 'Tunnel', because: from(s, 'routing-mode') },
    hostRouting: {
      want: bpfHostRouting ? 'BPF' : 'Legacy',
      because: `${from(s, 'enable-host-legacy-routing', 'kube-proxy-replacement', 'enable-bpf-masquerade', 'enable-ipv4-masquerade')} (BPF host routing needs kube-proxy replacement and BPF masquerading)`,
    },
    masquerading: {
      want: !s.ipv4Masquerade ? 'disabled' : s.bpfMasquerade ? 'BPF' : 'IPTables',
      because: from(s, 'enable-ipv4-masquerade', 'enable-bpf-masquerade'),
    },
    // XDP is asserted only where the config asks for it.
    // The agent's API spells them Native and Best-Effort (api/v1 KubeProxyReplacement features.nodePort.acceleration enum: None, Native, Generic, Best-Effort).
    ...(s.acceleration === 'native' || s.acceleration === 'best-effort'
      ? { acceleration: { want: s.acceleration === 'native' ? 'Native' : 'Best-Effort', because: from(s, 'bpf-lb-acceleration') } }
      : {}),
  };
}

/**
 * Whether a pod's traffic to `destinationIp` (a pod on another node) leaves SNATed to its node's
 * IP: true, false, or undefined where cilium-config cannot tell (ip-masq-agent decides).
 */
export function podToRemotePodMasqueraded(s: DatapathSettings, destinationIp: string): { masqueraded: boolean | undefined; because: string } {
  const keys = from(s, 'enable-ipv4-masquerade', 'routing-mode', 'ipv4-native-routing-cidr', 'enable-ip-masq-agent');
  if (!s.ipv4Masquerade) return { masqueraded: false, because: `${keys}: no masquerading` };
  if (s.routingMode === 'tunnel') return { masqueraded: false, because: `${keys}: tunnelled, not masqueraded` };
  if (s.ipMasqAgent) return { masqueraded: undefined, because: `${keys}: ip-masq-agent's nonMasqueradeCIDRs decide` };
  const inside = s.nativeRoutingCidr !== undefined && cidrContains(s.nativeRoutingCidr, destinationIp);
  return {
    masqueraded: !inside,
    because: inside ? `${keys}: ${destinationIp} is inside the native routing CIDR, not masqueraded` : `${keys}: ${destinationIp} is outside the native routing CIDR, SNATed to the node`,
  };
}

function cidrContains(cidr: string, ip: string): boolean {
  const range = parseCidr(cidr);
  const address = parseIpv4(ip);
  return typeof range !== 'string' && address !== undefined && cidrContainsAddress(range, address);
}

/**
 * What a backend should see as the source of netpod's request: netpod's pod IP, or its node's IP
 * where Cilium masquerades the traffic (undefined where cilium-config cannot tell: either passes).
 */
export function expectedSource(s: DatapathSettings, client: { readonly podIp?: string; readonly hostIp?: string }, backendIp: string): { want: readonly string[]; because: string } {
  const { masqueraded, because } = podToRemotePodMasqueraded(s, backendIp);
  const pod = client.podIp ?? '?';
  const node = client.hostIp ?? '?';
  if (masqueraded === undefined) return { want: [pod, node], because };
  return { want: [masqueraded ? node : pod], because };
}
