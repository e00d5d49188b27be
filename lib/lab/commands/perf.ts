/**
 * `lab perf`: the datapath measured (lib/exercises/perf.ts), the result written to
 * ~/.cilium-lab/<lab>/perf/<time>.json; `lab perf --compare A.json B.json` prints the two side by
 * side and writes the bar chart as SVG beside them (or to --svg), without touching any lab.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PERF_NAMESPACE, runPerf } from '../../exercises/perf.js';
import { compareSvg, compareTable, readPerfResult, type PerfResult } from '../../exercises/perf-results.js';
import { UsageError, type CommandContext, type LabCommand } from '../cli.js';
import { labStateDir } from '../state.js';
import { interruptible } from './interruptible.js';
import { KUBECONFIG_OPTION, connectToCluster, validateKubeconfigOption, type CheckCommandSettings, type SignalSource } from './check.js';

export interface PerfCommandSettings extends Pick<CheckCommandSettings, 'createKube' | 'timeouts'> {
  /** @default process */
  readonly signals?: SignalSource;
  readonly podReadyTimeoutMs?: number;
  readonly pollIntervalMs?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

const wholeNumber = (option: string, text: string, min: number, max: number): number => {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${option} ${text}: give a whole number from ${min} to ${max}`);
  return Number(text);
};

function compare(ctx: CommandContext, files: readonly string[]): { text: string; data: unknown } {
  if (files.length !== 2) throw new UsageError(`--compare takes two result files (lab perf --compare A.json B.json); got ${files.length}`);
  const [fa, fb] = files as [string, string];
  const read = (file: string): PerfResult => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new UsageError(`${file}: no such file; give a result lab perf wrote (~/.cilium-lab/<lab>/perf/*.json)`);
    }
    try {
      return readPerfResult(text, file);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const a = read(fa);
  const b = read(fb);
  const names = [fa.split('/').pop() as string, fb.split('/').pop() as string] as const;
  const svgPath = typeof ctx.options['svg'] === 'string' ? ctx.options['svg'] : join(dirname(fb), `compare-${names[0].replace(/\.json$/, '')}-${names[1].replace(/\.json$/, '')}.svg`);
  writeFileSync(svgPath, compareSvg(a, b, names));
  return { text: `${compareTable(a, b, names)}\nbar chart: ${svgPath} (open it in a browser)`, data: { a: fa, b: fb, svg: svgPath } };
}

export function perfCommand(settings: PerfCommandSettings = {}): LabCommand {
  return {
    name: 'perf',
    summary: 'throughput and request/response latency pod to pod (same node, across nodes), pod to host and testpc to a NodePort, with the datapath settings; --compare A.json B.json puts two results side by side (table and SVG)',
    options: {
      repeat: { type: 'string', description: 'iperf3 runs per path (their median, min and max)', default: '3' },
      seconds: { type: 'string', description: 'seconds per iperf3 run', default: '5' },
      compare: { type: 'boolean', description: 'compare the two result files given after the options instead of measuring' },
      svg: { type: 'string', description: 'with --compare: where to write the bar chart (default: beside the second file)' },
      ...KUBECONFIG_OPTION,
    },
    validate(ctx) {
      if (ctx.options['compare'] === true) return;
      wholeNumber('repeat', String(ctx.options['repeat'] ?? '3'), 1, 20);
      wholeNumber('seconds', String(ctx.options['seconds'] ?? '5'), 1, 60);
      validateKubeconfigOption(ctx);
    },
    async run(ctx) {
      if (ctx.options['compare'] === true) return compare(ctx, ctx.positionals);
      const repeat = wholeNumber('repeat', String(ctx.options['repeat'] ?? '3'), 1, 20);
      const seconds = wholeNumber('seconds', String(ctx.options['seconds'] ?? '5'), 1, 60);
      const target = await ctx.reporter.phase('find the lab', () => ctx.target(), (t) => t.stackName);
      const kube = await connectToCluster(ctx, settings, target);
      const services = await ctx.services();
      const testpc = target.nodes.find((n) => n.role === 'testpc');
      const config = target.plan.config;
      const result = await interruptible(
        settings.signals ?? process,
        (signal) =>
          ctx.reporter.phase(
            'perf',
            () =>
              runPerf(
                {
                  kube,
                  nodes: target.kubeNodes.map((n) => ({ name: n.name, role: n.role === 'control-plane' ? ('control-plane' as const) : ('worker' as const), privateIp: n.privateIp })),
                  ...(testpc
                    ? {
                        testpc: { name: testpc.name, instanceId: testpc.instanceId },
                        runOnTestpc: async (script, options) => (await services.remote.runOnNodes([{ name: testpc.name, instanceId: testpc.instanceId }], script, options))[0],
                      }
                    : {}),
                  lab: { name: config.labName, profile: config.profile, ciliumVersion: config.cilium.version, instanceType: config.nodes.instanceType },
                },
                {
                  repeat,
                  seconds,
                  podReadyTimeoutMs: settings.podReadyTimeoutMs ?? 180_000,
                  pollIntervalMs: settings.pollIntervalMs ?? 2_000,
                  signal,
                  info: (line) => ctx.out.info(`  ${line}`),
                  ...(settings.now ? { now: settings.now } : {}),
                },
              ),
            (r) => `${r.paths.filter((p) => p.throughputGbps).length} of ${r.paths.length} path(s) measured`,
          ),
        (name) => `lab perf stopped by ${name}; namespace ${PERF_NAMESPACE} deleted`,
      );
      const file = join(labStateDir(config.labName), 'perf', `${result.at.replace(/:/g, '-')}.json`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      const lines = result.paths.map((p) =>
        p.throughputGbps && p.latencyMs
          ? `  ${p.label}: ${p.throughputGbps.median.toFixed(2)} Gbit/s (${p.throughputGbps.min.toFixed(2)}-${p.throughputGbps.max.toFixed(2)}), ${p.latencyMs.median.toFixed(3)} ms to first byte`
          : `  ${p.label}: not measured: ${p.note ?? 'no figures'}`,
      );
      const s = result.settings;
      return {
        text: [`lab perf of ${config.labName} (profile ${s.profile}, Cilium ${s.ciliumVersion}, MTU ${s.mtu ?? '?'}, XDP ${s.xdp}, host routing ${s.hostRouting}, devices ${s.deviceMode}):`, ...lines, `result: ${file}`, `compare two: npm run lab -- perf --compare A.json B.json`].join('\n'),
        data: { file, result },
      };
    },
  };
}
