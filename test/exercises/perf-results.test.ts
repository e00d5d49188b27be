/**
 * `lab perf`'s parsing, statistics and rendering (lib/exercises/perf-results.ts) from recorded real
 * tool output: iperf3 3.12 -J between two network namespaces over a veth pair on this machine
 * (fixtures/iperf3-tcp.json; fixtures/iperf3-refused.json with no server listening), and curl's -w
 * timings against a local HTTP server in a namespace (fixtures/curl-rr.txt).
 */
import { readFileSync } from 'node:fs';
import {
  PerfToolError,
  compareSvg,
  compareTable,
  parseIperf3,
  parseRr,
  readPerfResult,
  summarize,
  type PerfResult,
} from '../../lib/exercises/perf-results.js';
import { findAll, parseXml } from '../checks/mini-xml.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('the tools\' output', () => {
  it("reads iperf3's receiver throughput and the sender's retransmits", () => {
    const run = parseIperf3(fixture('iperf3-tcp.json'));
    expect(run.bitsPerSecond).toBeCloseTo(16_149_056_108, -3);
    expect(run.retransmits).toBe(7870);
    expect(run.seconds).toBeCloseTo(2, 1);
  });

  it("says iperf3's own error, and output that is no JSON", () => {
    expect(() => parseIperf3(fixture('iperf3-refused.json'))).toThrow(new PerfToolError('iperf3: unable to connect to server: Connection refused'));
    expect(() => parseIperf3('iperf3: error - unable to connect to server\n')).toThrow('iperf3 printed no JSON: iperf3: error - unable to connect to server');
  });

  it("reads curl's timings in milliseconds, and refuses a request that got no HTTP answer", () => {
    const runs = parseRr(fixture('curl-rr.txt'));
    expect(runs).toHaveLength(5);
    expect(runs[0]).toEqual({ connectMs: expect.closeTo(1.213, 6), firstByteMs: expect.closeTo(2.987, 6), totalMs: expect.closeTo(3.05, 6) });
    // as curl writes a request that timed out: %{http_code} is 000
    expect(() => parseRr('CILIUM_LAB_RR {"connect":0.000000,"firstByte":0.000000,"total":3.001234,"code":000,"exit":0}')).toThrow('curl got no HTTP answer');
  });
});

describe('statistics', () => {
  it('gives median, min and max (the middle two averaged for an even count)', () => {
    expect(summarize([3, 1, 2])).toEqual({ n: 3, median: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 3, 2])).toEqual({ n: 4, median: 2.5, min: 1, max: 4 });
    expect(summarize(parseRr(fixture('curl-rr.txt')).map((r) => r.firstByteMs)).median).toBeCloseTo(1.33, 6);
    expect(() => summarize([])).toThrow('no values');
  });
});

const result = (over: Partial<PerfResult['settings']>, gbps: number[], ms: number[]): PerfResult => ({
  kind: 'cilium-lab-perf',
  version: 1,
  lab: 'kans',
  at: '2026-12-02T18:00:00Z',
  repeat: 3,
  seconds: 5,
  settings: { profile: 'study', ciliumVersion: '1.16.3', instanceType: 't3.xlarge', mtu: 3498, xdp: 'native', hostRouting: 'BPF', deviceMode: 'veth', kubeProxyReplacement: 'true', masquerading: 'BPF', ...over },
  paths: [
    { id: 'pod-pod-same-node', label: 'pod to pod, same node', throughputGbps: summarize(gbps), latencyMs: summarize(ms) },
    { id: 'pod-pod-cross-node', label: 'pod to pod, across nodes', throughputGbps: summarize(gbps.map((g) => g / 3)), latencyMs: summarize(ms.map((m) => m * 2)) },
    { id: 'nodeport-testpc', label: 'testpc to a NodePort', note: 'no testpc' },
  ],
});

describe('comparing two results', () => {
  const a = result({}, [14, 15, 16], [0.2, 0.25, 0.3]);
  const b = result({ deviceMode: 'netkit', profile: 'netkit' }, [18, 19, 20], [0.15, 0.18, 0.2]);

  it('prints the settings (marking those that differ) and each path side by side', () => {
    const table = compareTable(a, b, ['veth.json', 'netkit.json']);
    expect(table).toMatch(/^profile \* +study +netkit$/m);
    expect(table).toMatch(/^deviceMode \* +veth +netkit$/m);
    expect(table).toMatch(/^xdp +native +native$/m);
    expect(table).toMatch(/^pod to pod, same node: Gbit\/s +15\.00 \(14\.00-16\.00\) +19\.00 \(18\.00-20\.00\)$/m);
    expect(table).toMatch(/^testpc to a NodePort: Gbit\/s +- +-$/m);
  });

  it('draws an SVG a browser opens: a bar per result and path at the median, a min-max whisker, the same bytes every time', () => {
    const svg = compareSvg(a, b);
    const root = parseXml(svg);
    expect([root.name, root.attributes['xmlns']]).toEqual(['svg', 'http://www.w3.org/2000/svg']);
    const bars = findAll(root, 'rect').filter((r) => r.attributes['height'] === '16');
    // 2 panels x 2 paths with figures x 2 results
    expect(bars).toHaveLength(8);
    // the largest median of the throughput panel is B's same-node 19 of a 20 maximum: 95 % of the bar area
    expect(Number(bars[1]?.attributes['width'])).toBeCloseTo(530 * 0.95, 0);
    expect(findAll(root, 'text').map((t) => t.text)).toContain('no figure');
    expect(compareSvg(a, b)).toBe(svg);
  });

  it('reads back only what lab perf wrote, naming the file otherwise', () => {
    expect(readPerfResult(JSON.stringify(a), 'a.json')).toEqual(a);
    expect(() => readPerfResult('{"kind":"other"}', 'b.json')).toThrow('b.json: not a lab perf result (kind cilium-lab-perf, version 1); give a file lab perf wrote');
    expect(() => readPerfResult('nope', 'c.json')).toThrow('c.json: not JSON');
  });
});

describe('scripts/node/perf-probe.sh on testpc (stand-ins for iperf3 and curl on PATH)', () => {
  it("prints one iperf3 line per run and one timing line per request, which lab perf reads as the NodePort path's figures", async () => {
    const { mkdtempSync, writeFileSync, chmodSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { spawnSync } = await import('node:child_process');
    const { perfProbeScript, testpcPath } = await import('../../lib/exercises/perf.js');
    const bin = mkdtempSync(join(tmpdir(), 'perf-probe-'));
    const tcp = new URL('./fixtures/iperf3-tcp.json', import.meta.url).pathname;
    writeFileSync(join(bin, 'iperf3'), `#!/bin/sh\necho "$*" >> "${bin}/iperf3.calls"\ncat "${tcp}"\n`);
    writeFileSync(join(bin, 'curl'), `#!/bin/sh\nprintf 'CILIUM_LAB_RR {"connect":0.000300,"firstByte":0.000900,"total":0.001000,"code":200,"exit":0}\\n'\n`);
    for (const tool of ['iperf3', 'curl']) chmodSync(join(bin, tool), 0o755);
    const script = perfProbeScript('192.168.10.101', 30123, 30124, { repeat: 2, seconds: 1 });
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(readFileSync(join(bin, 'iperf3.calls'), 'utf8').trim().split('\n')).toEqual(['-c 192.168.10.101 -p 30123 -t 1 --connect-timeout 3000 -J', '-c 192.168.10.101 -p 30123 -t 1 --connect-timeout 3000 -J']);
    const path = testpcPath({ name: 'testpc', instanceId: 'i-1', commandId: 'c', status: 'Success', exitCode: 0, stdout: run.stdout, stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 1, deadlineExceeded: false } as never);
    expect(path.throughputGbps).toMatchObject({ n: 2, median: expect.closeTo(16.149, 2) });
    expect(path.latencyMs).toMatchObject({ n: 10, median: 0.9 });
    // SSM cut the answer: said so, not taken for a tool's error
    expect(testpcPath({ ...({ name: 'testpc', status: 'Success', exitCode: 0, stderr: '' } as object), stdout: run.stdout.slice(0, 100), stdoutTruncated: true } as never).note).toBe("perf-probe.sh's output was cut by SSM at 24,000 characters; use fewer --repeat");
    // a parameter that is not a number is refused
    const bad = spawnSync('bash', ['-c', perfProbeScript('192.168.10.101', 30123, 30124, { repeat: 2, seconds: 1 }).replace("LAB_PERF_SECONDS='1'", "LAB_PERF_SECONDS='x'")], { encoding: 'utf8' });
    expect([bad.status, bad.stderr.trim()]).toEqual([2, 'perf-probe: LAB_PERF_SECONDS must be a whole number (got "x")']);
  });
});
