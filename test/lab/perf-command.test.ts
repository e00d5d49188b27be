/**
 * `lab perf` through the real CLI against the loopback API server and the lab world: the pods it
 * makes, iperf3 and curl run in them (the world answers with recorded real iperf3 3.12 output,
 * scaled per path), testpc's probe over SSM, the result file with the datapath settings beside the
 * figures, the namespace gone afterwards; and `--compare` of two results (table and SVG).
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import { runCli } from '../../lib/lab/cli.js';
import { perfCommand } from '../../lib/lab/commands/perf.js';
import type { PerfResult } from '../../lib/exercises/perf-results.js';
import { LabWorld } from '../checks/lab-world.js';
import { useLabWorld, worldServices } from '../helpers/lab-services.js';

const plan = planLab(loadLabConfig({ context: {} }));
const lab0 = useLabWorld(plan);
let world: LabWorld;
let dir: string;
beforeEach(() => {
  world = lab0.world();
  dir = lab0.dir();
});

async function lab(argv: string[]) {
  const lines: string[] = [];
  const services = worldServices(plan, world.remote);
  const code = await runCli(['perf', ...argv], {
    commands: [perfCommand({ podReadyTimeoutMs: 2_000, pollIntervalMs: 10, signals: new EventEmitter(), now: () => new Date('2026-12-02T18:30:00Z') })],
    createServices: () => services,
    out: () => ({ info: (l) => lines.push(l), result: (l) => lines.push(l) }),
  });
  return { code, text: lines.join('\n') };
}

describe('lab perf', () => {
  it('measures every path, repeated, with the datapath settings, writes the result and leaves nothing behind', async () => {
    const run = await lab(['--repeat', '3', '--seconds', '1']);
    expect(run.code).toBe(0);
    const file = join(dir, 'state', 'cilium-lab', 'perf', '2026-12-02T18-30-00Z.json');
    const result = JSON.parse(readFileSync(file, 'utf8')) as PerfResult;
    expect(result.settings).toEqual({ profile: 'study', ciliumVersion: plan.config.cilium.version, instanceType: 't3.xlarge', mtu: 3498, xdp: 'native', hostRouting: 'BPF', deviceMode: 'veth', kubeProxyReplacement: 'true', masquerading: 'BPF' });
    const byId = Object.fromEntries(result.paths.map((p) => [p.id, p]));
    expect(Object.keys(byId)).toEqual(['pod-pod-same-node', 'pod-pod-cross-node', 'pod-host', 'nodeport-testpc']);
    // the world's datapath: 31.2 Gbit/s on one node, 9.4 across, 27.5 to the host, 8.7 from testpc (each run within 3 %)
    expect(byId['pod-pod-same-node']?.throughputGbps).toMatchObject({ n: 3, median: expect.closeTo(31.2, 0) });
    expect(byId['pod-pod-cross-node']?.throughputGbps?.median).toBeGreaterThan(9.0);
    expect(byId['pod-pod-cross-node']?.throughputGbps?.median).toBeLessThan(9.8);
    expect(byId['pod-host']?.throughputGbps?.median).toBeCloseTo(27.5, 0);
    expect(byId['nodeport-testpc']?.throughputGbps).toMatchObject({ n: 3, median: expect.closeTo(8.7, 0) });
    expect(byId['pod-pod-cross-node']?.latencyMs).toMatchObject({ n: 10, median: expect.closeTo(0.41, 1) });
    expect(run.text).toMatch(/^ {2}pod to pod, same node: 3\d\.\d\d Gbit\/s \(\d+\.\d\d-\d+\.\d\d\), 0\.1\d\d ms to first byte$/m);
    expect(run.text).toContain(`result: ${file}`);
    expect(world.api.hasNamespace('cilium-lab-perf')).toBe(false);
    // the host path really ran against the node's own address, the NodePort one on testpc
    const iperfCalls = world.remote.calls.filter((c) => c.script.includes('CILIUM_LAB_IPERF'));
    expect(iperfCalls.map((c) => c.targets)).toEqual([['testpc']]);
  });

  it('says why a path has no figures (testpc cannot reach the NodePort) and still measures the others', async () => {
    world.nodePortDown.add('k8s-w1');
    const run = await lab(['--repeat', '1', '--seconds', '1']);
    expect(run.code).toBe(0);
    expect(run.text).toMatch(/^ {2}testpc to a NodePort: not measured: iperf3: unable to connect to server: Connection refused$/m);
    expect(run.text).toMatch(/^ {2}pod to pod, across nodes: \d/m);
  });

  it('compares two results: the table with the differing settings marked, and an SVG beside them', async () => {
    await lab(['--repeat', '1', '--seconds', '1']);
    const perfDir = join(dir, 'state', 'cilium-lab', 'perf');
    const [first] = readdirSync(perfDir);
    const a = JSON.parse(readFileSync(join(perfDir, first as string), 'utf8')) as PerfResult;
    const b: PerfResult = { ...a, settings: { ...a.settings, xdp: 'disabled' }, paths: a.paths.map((p) => (p.throughputGbps ? { ...p, throughputGbps: { ...p.throughputGbps, median: p.throughputGbps.median * 0.8 } } : p)) };
    writeFileSync(join(dir, 'xdp.json'), JSON.stringify(a));
    writeFileSync(join(dir, 'no-xdp.json'), JSON.stringify(b));
    const run = await lab(['--compare', join(dir, 'xdp.json'), join(dir, 'no-xdp.json')]);
    expect(run.code).toBe(0);
    expect(run.text).toMatch(/^xdp \* +native +disabled$/m);
    expect(run.text).toContain(`bar chart: ${join(dir, 'compare-xdp-no-xdp.svg')}`);
    expect(readFileSync(join(dir, 'compare-xdp-no-xdp.svg'), 'utf8')).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('refuses a bad --repeat, and --compare without two readable results, before any call', async () => {
    expect(await lab(['--repeat', '0'])).toEqual({ code: 2, text: expect.stringContaining('--repeat 0: give a whole number from 1 to 20') });
    expect(await lab(['--compare', join(dir, 'a.json')])).toEqual({ code: 2, text: expect.stringContaining('--compare takes two result files') });
    expect(await lab(['--compare', join(dir, 'a.json'), join(dir, 'b.json')])).toEqual({ code: 2, text: expect.stringMatching(/a\.json: no such file/) });
    expect(existsSync(join(dir, 'state', 'cilium-lab', 'perf'))).toBe(false);
  });
});
