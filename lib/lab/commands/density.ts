/**
 * The pod density exercise (issue 14 #3), in two commands:
 *   - `lab max-pods N`: the kubelet's pod limit on every Kubernetes node of a running lab
 *     (scripts/node/kubelet-max-pods.sh over SSM), then every node's status.capacity.pods read
 *     back until it says N (bounded). At boot the same limit comes from `-c kubernetes.maxPods`.
 *   - `lab density`: pause pods pinned to one node until a limit holds them, the limit named with
 *     its figures (lib/exercises/density.ts); nothing is left behind.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DENSITY_NAMESPACE, runDensityExercise, type DensityReport } from '../../exercises/density.js';
import { profileOf } from '../../config/profiles.js';
import { RefusalError } from '../../errors.js';
import { UsageError, type CommandContext, type LabCommand } from '../cli.js';
import { assertStepSucceeded, renderLabScript, runStep, taggedJson } from '../remote.js';
import { KUBECONFIG_OPTION, connectToCluster, validateKubeconfigOption, type CheckCommandSettings, type SignalSource } from './check.js';
import { interruptible } from './interruptible.js';
import { phaseDeps } from './shared.js';

export const MAX_PODS_TAG = 'CILIUM_LAB_MAX_PODS';
const MAX_PODS_RANGE = { min: 10, max: 1000 } as const;

export interface DensityCommandSettings extends Pick<CheckCommandSettings, 'createKube' | 'timeouts'> {
  /** @default process */
  readonly signals?: SignalSource;
  /** How long `lab max-pods` waits for the nodes to report the new limit, and polls. */
  readonly maxPodsWaitMs?: number;
  readonly pollIntervalMs?: number;
}

export function parseMaxPods(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < MAX_PODS_RANGE.min || n > MAX_PODS_RANGE.max) {
    throw new UsageError(`max-pods ${text}: give the kubelet's pod limit as a whole number from ${MAX_PODS_RANGE.min} to ${MAX_PODS_RANGE.max} (its default is 110)`);
  }
  return n;
}

/** A profile that sizes each node's pods itself (eni) keeps its figure: a larger one would only strand pods without an address. */
function refuseWhereProfileSetsMaxPods(config: CommandContext['config']): void {
  const profile = profileOf(config);
  if (profile.maxPods) throw new RefusalError(`max-pods: profile=${profile.name} sets each node's maxPods from what its network interfaces hold (lab check's eni-ipam checks it); lab density shows that limit as it is`);
}

export function maxPodsScript(maxPods: number): string {
  return renderLabScript('kubelet-max-pods.sh', {}, { LAB_MAX_PODS: String(maxPods) });
}

export function maxPodsCommand(settings: DensityCommandSettings = {}): LabCommand {
  return {
    name: 'max-pods',
    summary: "set the kubelet's pod limit (maxPods) on every Kubernetes node of a running lab and wait until the nodes report it (at deploy: -c kubernetes.maxPods)",
    options: { ...KUBECONFIG_OPTION },
    validate(ctx) {
      const [text] = ctx.positionals;
      if (text === undefined) throw new UsageError('max-pods: give the limit, e.g. `npm run lab -- max-pods 300`');
      parseMaxPods(text);
      refuseWhereProfileSetsMaxPods(ctx.config);
      validateKubeconfigOption(ctx);
    },
    async run(ctx) {
      const maxPods = parseMaxPods(String(ctx.positionals[0]));
      const target = await ctx.reporter.phase('find the lab', () => ctx.target(), (t) => t.stackName);
      // The deployed lab's profile, not only what -c says here.
      refuseWhereProfileSetsMaxPods(target.plan.config);
      const deps = await phaseDeps(ctx, settings);
      const results = await ctx.reporter.phase(
        'set maxPods',
        () => runStep(deps, target.kubeNodes, maxPodsScript(maxPods), 'kubelet-max-pods.sh', deps.timeouts.quickMs),
        (r) => `${r.length} node(s)`,
      );
      assertStepSucceeded(results, 'kubelet-max-pods.sh', `cilium-lab: the kubelet's maxPods could not be set to ${maxPods} on every node:`);
      const changes = results.map((r) => ({ node: r.name, ...((taggedJson(r.stdout, MAX_PODS_TAG) ?? {}) as { before?: string; after?: string; changed?: boolean }) }));
      const kube = await connectToCluster(ctx, settings, target);
      const deadline = Date.now() + (settings.maxPodsWaitMs ?? 120_000);
      const wanted = new Set(target.kubeNodes.map((n) => n.name));
      const reported = await ctx.reporter.phase(
        'nodes report it',
        async () => {
          for (;;) {
            const nodes = (await kube.listNodes()).filter((n) => wanted.has(n.name));
            const behind = nodes.filter((n) => n.podCapacity !== maxPods);
            if (behind.length === 0 && nodes.length === wanted.size) return nodes;
            if (Date.now() >= deadline) {
              throw new Error(`cilium-lab: after ${Math.round((settings.maxPodsWaitMs ?? 120_000) / 1000)} s these nodes still report another pod capacity: ${behind.map((n) => `${n.name} ${n.podCapacity ?? '?'}`).join(', ')} (kubelet restarted? see lab logs)`);
            }
            await sleep(settings.pollIntervalMs ?? 2_000);
          }
        },
        (nodes) => `${nodes.length} node(s) at ${maxPods}`,
      );
      return {
        text: [`maxPods ${maxPods} on ${reported.length} node(s):`, ...changes.map((c) => `  ${c.node}: ${c.before ?? '?'} -> ${c.after ?? '?'}${c.changed ? '' : ' (unchanged)'}`)].join('\n'),
        data: { maxPods, nodes: changes },
      };
    },
  };
}

function formatDensity(report: DensityReport): string {
  return [
    report.verdict + '.',
    `  asked ${report.asked}: ${report.running} running, ${report.held.tooManyPods} Pending (Too many pods), ${report.held.addressesExhausted} without an address (range is full), ${report.held.waiting} still starting`,
    `  node: maxPods ${report.limits.maxPods ?? '?'}, ${report.limits.podsBefore} pod(s) there before${report.limits.podCidr ? `, pod CIDR ${report.limits.podCidr} (${report.limits.podAddresses} pod addresses)` : ''}`,
    ...report.evidence.map((e) => `  ${e}`),
    `  namespace ${DENSITY_NAMESPACE} deleted`,
  ].join('\n');
}

export function densityCommand(settings: DensityCommandSettings = {}): LabCommand {
  return {
    name: 'density',
    summary: "pod density: pause pods pinned to one node until a limit holds them, naming it (the kubelet's maxPods, or the node's pod addresses); nothing is left behind",
    options: {
      node: { type: 'string', description: 'the node to fill (default: the first worker)' },
      pods: { type: 'string', description: 'how many pods to ask for', default: '300' },
      timeout: { type: 'string', description: 'seconds to wait for the pods to settle', default: '600' },
      ...KUBECONFIG_OPTION,
    },
    validate(ctx) {
      const pods = String(ctx.options['pods'] ?? '300');
      if (!/^\d+$/.test(pods) || Number(pods) < 1 || Number(pods) > 2000) throw new UsageError(`--pods ${pods}: give a whole number from 1 to 2000`);
      const timeout = String(ctx.options['timeout'] ?? '600');
      if (!/^\d+$/.test(timeout) || Number(timeout) < 30 || Number(timeout) > 3600) throw new UsageError(`--timeout ${timeout}: give seconds from 30 to 3600`);
      validateKubeconfigOption(ctx);
    },
    async run(ctx) {
      const target = await ctx.reporter.phase('find the lab', () => ctx.target(), (t) => t.stackName);
      const workers = target.kubeNodes.filter((n) => n.role === 'worker');
      const node = typeof ctx.options['node'] === 'string' ? ctx.options['node'] : (workers[0] ?? target.controlPlane).name;
      if (!target.kubeNodes.some((n) => n.name === node)) throw new UsageError(`--node ${node}: not a Kubernetes node of lab ${target.plan.config.labName} (${target.kubeNodes.map((n) => n.name).join(', ')})`);
      const kube = await connectToCluster(ctx, settings, target);
      const report = await interruptible(
        settings.signals ?? process,
        (signal) =>
          ctx.reporter.phase(
            'density',
            () =>
              runDensityExercise(kube, {
                node,
                pods: Number(ctx.options['pods'] ?? 300),
                timeoutMs: Number(ctx.options['timeout'] ?? 600) * 1000,
                pollIntervalMs: settings.pollIntervalMs ?? 2_000,
                concurrency: 10,
                signal,
                info: (line) => ctx.out.info(`  ${line}`),
              }),
            (r) => `${r.running} of ${r.asked} running, stopped by ${r.stoppedBy}`,
          ),
        (name) => `lab density stopped by ${name}; namespace ${DENSITY_NAMESPACE} deleted`,
      );
      return { text: formatDensity(report), data: report };
    },
  };
}
