/**
 * `lab perf`'s results, pure: the tools' output read (iperf3 -J for throughput; curl's -w timings
 * against traefik/whoami for request/response latency), each path's runs summarised (median, min,
 * max), the datapath settings that produced them, and two results compared side by side as a
 * text table and as an SVG bar chart a browser opens.
 */

/** One iperf3 client run: what the receiver got (end.sum_received), and the sender's retransmits. */
export interface ThroughputRun {
  readonly bitsPerSecond: number;
  readonly retransmits?: number;
  readonly seconds: number;
}

export class PerfToolError extends Error {}

/** iperf3 -J output (iperf 3.x): end.sum_received.bits_per_second; its own "error" is thrown as is. */
export function parseIperf3(stdout: string): ThroughputRun {
  let doc: { error?: string; end?: { sum_received?: { bits_per_second?: number; seconds?: number }; sum_sent?: { retransmits?: number } } };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    throw new PerfToolError(`iperf3 printed no JSON: ${stdout.trim().split('\n').slice(-1)[0] ?? '(nothing)'}`);
  }
  if (doc.error) throw new PerfToolError(`iperf3: ${doc.error}`);
  const received = doc.end?.sum_received;
  if (typeof received?.bits_per_second !== 'number') throw new PerfToolError('iperf3: no end.sum_received.bits_per_second in its JSON');
  return {
    bitsPerSecond: received.bits_per_second,
    seconds: received.seconds ?? 0,
    ...(typeof doc.end?.sum_sent?.retransmits === 'number' ? { retransmits: doc.end.sum_sent.retransmits } : {}),
  };
}

export const RR_TAG = 'CILIUM_LAB_RR';
/** curl's -w line for one request/response: the times of connect, first byte and total, in seconds. */
export const CURL_RR_FORMAT = `${RR_TAG} {"connect":%{time_connect},"firstByte":%{time_starttransfer},"total":%{time_total},"code":%{http_code},"exit":0}\\n`;

export interface LatencyRun {
  readonly connectMs: number;
  readonly firstByteMs: number;
  readonly totalMs: number;
}

/** Every CILIUM_LAB_RR line of curl's output; a request that got no HTTP answer is an error. */
export function parseRr(stdout: string): LatencyRun[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`${RR_TAG} `))
    .map((l) => {
      // curl writes a failed request's %{http_code} as 000, which JSON does not take as a number.
      const r = JSON.parse(l.slice(RR_TAG.length + 1).replace(/"code":0+(?=[,}])/, '"code":0')) as { connect: number; firstByte: number; total: number; code: number };
      if (r.code === 0) throw new PerfToolError('curl got no HTTP answer');
      return { connectMs: r.connect * 1000, firstByteMs: r.firstByte * 1000, totalMs: r.total * 1000 };
    });
}

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('summarize: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { n: sorted.length, median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

export const PERF_PATHS = {
  'pod-pod-same-node': 'pod to pod, same node',
  'pod-pod-cross-node': 'pod to pod, across nodes',
  'pod-host': 'pod to host (the node itself)',
  'nodeport-testpc': 'testpc to a NodePort',
} as const;
export type PerfPathId = keyof typeof PERF_PATHS;

export interface PathResult {
  readonly id: PerfPathId;
  readonly label: string;
  /** Gbit/s, what the receiver got. */
  readonly throughputGbps?: Summary;
  /** ms to the first byte of whoami's answer (curl time_starttransfer). */
  readonly latencyMs?: Summary;
  readonly retransmits?: number;
  /** Why a path has no figures (no testpc, a tool's error). */
  readonly note?: string;
}

/** The settings that produced the figures: from cilium-config and the lab's config. */
export interface PerfSettings {
  readonly profile: string;
  readonly ciliumVersion: string;
  readonly instanceType: string;
  readonly mtu?: number;
  readonly xdp: string;
  readonly hostRouting: string;
  readonly deviceMode: string;
  readonly kubeProxyReplacement: string;
  readonly masquerading: string;
}

export interface PerfResult {
  readonly kind: 'cilium-lab-perf';
  readonly version: 1;
  readonly lab: string;
  readonly at: string;
  readonly repeat: number;
  readonly seconds: number;
  readonly settings: PerfSettings;
  readonly paths: readonly PathResult[];
}

/** A results file read back, or a clear error naming the file. */
export function readPerfResult(text: string, source: string): PerfResult {
  let doc: Partial<PerfResult>;
  try {
    doc = JSON.parse(text) as Partial<PerfResult>;
  } catch {
    throw new PerfToolError(`${source}: not JSON; give a file lab perf wrote (~/.cilium-lab/<lab>/perf/*.json)`);
  }
  if (doc.kind !== 'cilium-lab-perf' || doc.version !== 1 || !Array.isArray(doc.paths) || !doc.settings) {
    throw new PerfToolError(`${source}: not a lab perf result (kind cilium-lab-perf, version 1); give a file lab perf wrote`);
  }
  return doc as PerfResult;
}

const fmt = (s: Summary | undefined, digits: number): string => (s ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})` : '-');

/** The settings that differ between the two, then every path's median (min-max) of A and B. */
export function compareTable(a: PerfResult, b: PerfResult, names: readonly [string, string] = ['A', 'B']): string {
  const keys = Object.keys(a.settings) as (keyof PerfSettings)[];
  const rows: string[][] = [['', names[0], names[1]]];
  for (const key of keys) {
    const va = String(a.settings[key] ?? '-');
    const vb = String(b.settings[key] ?? '-');
    rows.push([`${key}${va === vb ? '' : ' *'}`, va, vb]);
  }
  for (const id of Object.keys(PERF_PATHS) as PerfPathId[]) {
    const pa = a.paths.find((p) => p.id === id);
    const pb = b.paths.find((p) => p.id === id);
    rows.push([`${PERF_PATHS[id]}: Gbit/s`, fmt(pa?.throughputGbps, 2), fmt(pb?.throughputGbps, 2)]);
    rows.push([`${PERF_PATHS[id]}: ms to first byte`, fmt(pa?.latencyMs, 3), fmt(pb?.latencyMs, 3)]);
  }
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return [
    ...rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd()),
    '',
    'median (min-max) of each path; * marks a setting that differs',
  ].join('\n');
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A grouped bar chart, one panel per measure (throughput, latency), a pair of bars per path (A,
 * B) at the median with a whisker from min to max; self-contained SVG (no script, no external
 * font), the same input always giving the same bytes.
 */
export function compareSvg(a: PerfResult, b: PerfResult, names: readonly [string, string] = ['A', 'B']): string {
  const ids = Object.keys(PERF_PATHS) as PerfPathId[];
  const colours = ['#2b6cb0', '#dd6b20'] as const;
  const width = 760;
  const panelHeight = 240;
  const left = 190;
  const barArea = width - left - 40;
  const panels: { title: string; unit: string; pick: (p: PathResult | undefined) => Summary | undefined; digits: number }[] = [
    { title: 'Throughput (iperf3, receiver)', unit: 'Gbit/s', pick: (p) => p?.throughputGbps, digits: 2 },
    { title: 'Request/response (curl, first byte)', unit: 'ms', pick: (p) => p?.latencyMs, digits: 3 },
  ];
  const parts: string[] = [];
  const height = 70 + panels.length * panelHeight;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<title>${escapeXml(`lab perf: ${names[0]} (${a.lab}, ${a.at}) vs ${names[1]} (${b.lab}, ${b.at})`)}</title>`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  names.forEach((name, i) => {
    const r = i === 0 ? a : b;
    parts.push(`<rect x="${20 + i * 370}" y="14" width="12" height="12" fill="${colours[i]}"/>`);
    parts.push(`<text x="${38 + i * 370}" y="25">${escapeXml(`${name}: ${r.settings.profile}, XDP ${r.settings.xdp}, host routing ${r.settings.hostRouting}, MTU ${r.settings.mtu ?? '?'}`)}</text>`);
  });
  panels.forEach((panel, k) => {
    const top = 50 + k * panelHeight;
    const values = ids.flatMap((id) => [panel.pick(a.paths.find((p) => p.id === id)), panel.pick(b.paths.find((p) => p.id === id))]).filter((s): s is Summary => s !== undefined);
    const scaleMax = Math.max(1e-9, ...values.map((s) => s.max));
    const x = (v: number) => left + (v / scaleMax) * barArea;
    parts.push(`<text x="20" y="${top + 12}" font-weight="bold">${escapeXml(`${panel.title}, ${panel.unit}`)}</text>`);
    ids.forEach((id, row) => {
      const y = top + 26 + row * 50;
      parts.push(`<text x="20" y="${y + 20}">${escapeXml(PERF_PATHS[id])}</text>`);
      [a, b].forEach((result, i) => {
        const s = panel.pick(result.paths.find((p) => p.id === id));
        const by = y + i * 20;
        if (!s) {
          parts.push(`<text x="${left + 4}" y="${by + 13}" fill="#718096">no figure</text>`);
          return;
        }
        parts.push(`<rect x="${left}" y="${by}" width="${(x(s.median) - left).toFixed(1)}" height="16" fill="${colours[i]}"/>`);
        parts.push(`<line x1="${x(s.min).toFixed(1)}" y1="${by + 8}" x2="${x(s.max).toFixed(1)}" y2="${by + 8}" stroke="#1a202c" stroke-width="1.5"/>`);
        parts.push(`<text x="${(x(s.max) + 6).toFixed(1)}" y="${by + 13}">${s.median.toFixed(panel.digits)}</text>`);
      });
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
