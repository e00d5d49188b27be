/**
 * Pure readers of what the scenarios' commands print: traefik/whoami's answer, `cilium-dbg
 * status -o json`, `hubble observe -o json`, and the tagged JSON lines of the host scripts.
 */

/** traefik/whoami's plain-text answer: "Hostname: webpod1", "IP: ...", "RemoteAddr: 172.16.0.5:41234". */
export interface WhoamiAnswer {
  readonly hostname: string;
  readonly ips: readonly string[];
  /** The peer address the server saw, without the port. */
  readonly remoteIp: string;
}

export function parseWhoami(text: string): WhoamiAnswer | undefined {
  let hostname = '';
  let remoteIp = '';
  const ips: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'Hostname') hostname = value;
    else if (key === 'IP') ips.push(value);
    else if (key === 'RemoteAddr') remoteIp = stripPort(value);
  }
  return hostname ? { hostname, ips, remoteIp } : undefined;
}

/** "172.16.0.5:41234" -> "172.16.0.5"; "[fd00::1]:80" -> "fd00::1". */
export function stripPort(address: string): string {
  if (address.startsWith('[')) return address.slice(1, address.indexOf(']'));
  const colon = address.lastIndexOf(':');
  return colon > 0 && address.indexOf(':') === colon ? address.slice(0, colon) : address;
}

/** The fields of `cilium-dbg status -o json` (api/v1 StatusResponse) the agent scenario reads. */
export interface AgentFacts {
  readonly kubeProxyReplacement?: string;
  readonly interHostRouting?: string;
  readonly intraHostRouting?: string;
  readonly masqueradingEnabled?: boolean;
  readonly masqueradingMode?: string;
  readonly nodePortAcceleration?: string;
  readonly socketLb?: boolean;
  /** kube-proxy-replacement.features.hostPort.enabled: the agent serves HostPort in eBPF. */
  readonly hostPort?: boolean;
}

/** One frontend of `cilium-dbg service list -o json` (api/v1 Service: spec.frontend-address, spec.flags.type). */
export interface ServiceEntry {
  readonly type: string;
  readonly ip: string;
  readonly port: number;
  readonly backends: number;
}

/** The agent's service table; entries it cannot read are skipped. */
export function parseServiceList(text: string): ServiceEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`cilium-dbg service list printed no JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(doc)) throw new Error('cilium-dbg service list printed JSON that is not a list');
  return doc.flatMap((item) => {
    const spec = obj(obj(item)?.spec);
    const frontend = obj(spec?.['frontend-address']);
    const type = str(obj(spec?.flags)?.type);
    if (!frontend || !type) return [];
    const backends = Array.isArray(spec?.['backend-addresses']) ? (spec?.['backend-addresses'] as unknown[]).length : 0;
    return [{ type, ip: str(frontend.ip) ?? '', port: typeof frontend.port === 'number' ? frontend.port : Number(frontend.port), backends }];
  });
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json | undefined => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Throws when the text is not a StatusResponse document. */
export function parseCiliumStatus(text: string): AgentFacts {
  let doc: Json | undefined;
  try {
    doc = obj(JSON.parse(text));
  } catch (error) {
    throw new Error(`cilium-dbg status printed no JSON (${(error as Error).message})`);
  }
  if (!doc) throw new Error('cilium-dbg status printed JSON that is not an object');
  const kpr = obj(doc['kube-proxy-replacement']);
  const features = obj(kpr?.features);
  const routing = obj(doc.routing);
  const masq = obj(doc.masquerading);
  return {
    kubeProxyReplacement: str(kpr?.mode),
    interHostRouting: str(routing?.['inter-host-routing-mode']),
    intraHostRouting: str(routing?.['intra-host-routing-mode']),
    masqueradingEnabled: masq ? masq.enabled === true : undefined,
    masqueradingMode: str(masq?.mode),
    nodePortAcceleration: str(obj(features?.nodePort)?.acceleration),
    socketLb: obj(features?.socketLB) ? obj(features?.socketLB)?.enabled === true : undefined,
    hostPort: obj(features?.hostPort) ? obj(features?.hostPort)?.enabled === true : undefined,
  };
}

/** One Hubble flow, reduced to who talked to whom. */
export interface FlowSummary {
  readonly source: string;
  readonly destination: string;
  readonly verdict: string;
  readonly summary: string;
  /** DROPPED flows: Hubble's drop_reason_desc (e.g. POLICY_DENIED). */
  readonly dropReason?: string;
}

function endpointName(endpoint: Json | undefined, ip: string | undefined): string {
  const ns = str(endpoint?.namespace);
  const pod = str(endpoint?.pod_name);
  if (ns && pod) return `${ns}/${pod}`;
  const labels = Array.isArray(endpoint?.labels) ? (endpoint?.labels as unknown[]).filter((l): l is string => typeof l === 'string') : [];
  const reserved = labels.find((l) => l.startsWith('reserved:'));
  return reserved ?? ip ?? '?';
}

/** `hubble observe -o json`: one JSON object per line, `{"flow":{...},"node_name":...}`. Other lines are ignored. */
export function parseHubbleFlows(text: string): FlowSummary[] {
  const flows: FlowSummary[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    let doc: Json | undefined;
    try {
      doc = obj(JSON.parse(trimmed));
    } catch {
      continue;
    }
    const flow = obj(doc?.flow);
    if (!flow) continue;
    const ip = obj(flow.IP);
    flows.push({
      source: endpointName(obj(flow.source), str(ip?.source)),
      destination: endpointName(obj(flow.destination), str(ip?.destination)),
      verdict: str(flow.verdict) ?? '?',
      summary: str(flow.Summary) ?? str(flow.summary) ?? '',
      ...(str(flow.drop_reason_desc) ? { dropReason: str(flow.drop_reason_desc) as string } : {}),
    });
  }
  return flows;
}

/** The JSON after the last line that starts with `tag ` (the host scripts' machine-readable line). */
export function taggedJson(text: string, tag: string): Json | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith(`${tag} `));
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  try {
    return obj(JSON.parse(last.slice(tag.length + 1)));
  } catch {
    return undefined;
  }
}

export const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
