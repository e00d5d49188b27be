/**
 * The lifecycle commands of the `lab` CLI: down, sweep, extend, stop, start, cost. Their logic
 * lives in lib/lifecycle behind LifecycleCloud; the real cloud is lib/aws/lifecycle-cloud.ts,
 * created on first use (so --help, usage errors and `lab cost` never reach AWS).
 */
import type { LifecycleCloud } from '../../lifecycle/cloud.js';
import { CostError, formatLabCost, labCost } from '../../lifecycle/cost.js';
import type { LifecycleDeps } from '../../lifecycle/deps.js';
import { findLab, formatDownReport, formatPlan, hasWork, runDown, type DownReport } from '../../lifecycle/down.js';
import { extendLab, formatExtendReport, type ExtendRequest } from '../../lifecycle/extend.js';
import { leftoverCount } from '../../lifecycle/leftovers.js';
import { formatPowerReport, startLab, stopLab } from '../../lifecycle/power.js';
import { findExpiredLabs, formatFindings } from '../../lifecycle/sweep.js';
import { DEFAULT_TIMING, parseDuration, type LifecycleTiming } from '../../lifecycle/timing.js';
import { UsageError, type CommandContext, type LabCommand, type OptionSpec } from '../cli.js';
import { labStateDir } from '../state.js';
import { runWait } from '../wait.js';
import { labRegion, lifecycleCloudFor, phaseDeps, type CloudFactory, type CommandSettings } from './shared.js';
import { formatWait } from './wait.js';

/** How the commands are built: production uses the defaults; tests hand in a cloud on loopback fakes and short timings. */
export interface LifecycleSettings extends CommandSettings {
  /** The cloud for a region (undefined: the SDK's default chain). @default the real AWS clients */
  readonly createCloud?: CloudFactory;
  readonly timing?: Partial<LifecycleTiming>;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Where the state directories are ($CILIUM_LAB_STATE_DIR). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The region when -c region is not given. @default the AWS SDK's (environment, then profile) */
  readonly defaultRegion?: () => Promise<string | undefined>;
}

const YES_OPTION: Readonly<Record<string, OptionSpec>> = {
  yes: { type: 'boolean', description: 'really delete; without it the command lists what it would delete and exits 2' },
};

function lifecycleDeps(ctx: CommandContext, settings: LifecycleSettings, cloud: LifecycleCloud): LifecycleDeps {
  return {
    cloud,
    timing: { ...DEFAULT_TIMING, ...settings.timing },
    phase: (name, run, describe) => ctx.reporter.phase(name, run, describe),
    skip: (name, why) => ctx.reporter.skip(name, why),
    info: (line) => ctx.out.info(line),
    now: settings.now ?? (() => new Date()),
  };
}

const cloudFor = (settings: LifecycleSettings, region: string | undefined): Promise<LifecycleCloud> => lifecycleCloudFor(settings.createCloud, region);

function downCommand(settings: LifecycleSettings): LabCommand {
  return {
    name: 'down',
    summary: 'delete the lab: leftovers outside CloudFormation (ENIs, then security groups), the stack, a check by tag that nothing is left, the local state',
    options: YES_OPTION,
    async run(ctx) {
      const labName = ctx.config.labName;
      const deps = lifecycleDeps(ctx, settings, await cloudFor(settings, ctx.config.region));
      const stateDir = labStateDir(labName, settings.env);
      const plan = await ctx.reporter.phase(
        'find lab',
        () => findLab(deps.cloud, labName, stateDir),
        (p) => `${p.stack ? `stack ${p.stack.status}` : 'no stack'}, ${leftoverCount(p.scan)} leftover(s) in ${p.scan.vpcIds.length} VPC(s)`,
      );
      if (ctx.options['yes'] !== true) {
        if (!hasWork(plan)) {
          return { text: `${formatPlan(plan)}\nnothing to delete`, data: { deleted: false, plan: planData(plan) } };
        }
        throw new UsageError(`${formatPlan(plan)}\n\nnothing was deleted: run again with --yes to delete all of the above`);
      }
      const report = await runDown(deps, plan);
      return { text: formatDownReport(report), data: report };
    },
  };
}

function planData(plan: Awaited<ReturnType<typeof findLab>>): unknown {
  return {
    labName: plan.labName,
    region: plan.region,
    stack: plan.stack ? { stackName: plan.stack.stackName, status: plan.stack.status } : undefined,
    leftovers: plan.scan,
    stateDir: plan.stateDirExists ? plan.stateDir : undefined,
  };
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

function sweepCommand(settings: LifecycleSettings): LabCommand {
  return {
    name: 'sweep',
    summary: 'find expired cilium-lab labs of a region by tag (expiry past, or no expiry and older than --older-than) and delete each as lab down does',
    options: {
      'older-than': { type: 'string', description: 'sweep labs without an expiry created longer ago than this (30m, 3h, 1d)', default: '3h' },
      region: { type: 'string', description: 'the region to sweep (default: -c region, or the SDK default region)' },
      owner: { type: 'string', description: 'only labs with this cilium-lab:owner tag (the nightly passes its own, github:<owner>/<repo>)' },
      ...YES_OPTION,
    },
    async run(ctx) {
      const olderThanText = String(ctx.options['older-than'] ?? '3h');
      const olderThanMs = parseDuration(olderThanText);
      if (olderThanMs === undefined) throw new UsageError(`--older-than: "${olderThanText}" is not a duration; write it like 3h, 90m or 1d`);
      const regionOption = ctx.options['region'];
      if (typeof regionOption === 'string' && !REGION_PATTERN.test(regionOption)) {
        throw new UsageError(`--region: "${regionOption}" is not an AWS region name such as ap-northeast-2`);
      }
      const region = typeof regionOption === 'string' ? regionOption : ctx.config.region;
      const ownerOption = ctx.options['owner'];
      if (ownerOption === '') throw new UsageError('--owner: give the cilium-lab:owner tag value of the labs to sweep (e.g. github:owner/repo)');
      const owner = typeof ownerOption === 'string' ? ownerOption : undefined;
      const deps = lifecycleDeps(ctx, settings, await cloudFor(settings, region));
      const findings = await ctx.reporter.phase(
        'find labs',
        () => findExpiredLabs(deps.cloud, { olderThanMs, ...(owner !== undefined ? { owner } : {}) }, deps.now()),
        (f) => `${f.expired.length} to sweep, ${f.kept.length} kept`,
      );
      const listing = formatFindings(findings, region);
      if (findings.expired.length === 0) return { text: `${listing}\nnothing to sweep`, data: { findings, swept: [] } };
      if (ctx.options['yes'] !== true) {
        throw new UsageError(`${listing}\n\nnothing was deleted: run again with --yes to delete the ${findings.expired.length} lab(s) marked sweep`);
      }
      const results = await Promise.allSettled(
        findings.expired.map(async (candidate) => {
          const prefix = `${candidate.labName}: `;
          const plan = await ctx.reporter.phase(`${prefix}find lab`, () => findLab(deps.cloud, candidate.labName, labStateDir(candidate.labName, settings.env)));
          return runDown(deps, plan, prefix);
        }),
      );
      const swept: DownReport[] = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${findings.expired[i]?.labName}: ${(r.reason as Error).message}`] : []));
      const text = [listing, '', ...swept.map(formatDownReport)].join('\n');
      if (failed.length > 0) throw new Error(`${text}\n\nswept ${swept.length} of ${findings.expired.length} lab(s); failed:\n${failed.join('\n')}`);
      return { text: `${text}\nswept ${swept.length} lab(s)`, data: { findings, swept } };
    },
  };
}

function extendCommand(settings: LifecycleSettings): LabCommand {
  return {
    name: 'extend',
    summary: "move the lab's expiry (its EventBridge Scheduler schedule) later: --by 2h, or --until 2026-11-23T22:00:00Z",
    options: {
      by: { type: 'string', description: 'add this to the current expiry (2h, 90m, 1h30m)' },
      until: { type: 'string', description: 'the new expiry, ISO 8601 UTC (2026-11-23T22:00:00Z)' },
    },
    async run(ctx) {
      const by = ctx.options['by'];
      const until = ctx.options['until'];
      if ((typeof by === 'string') === (typeof until === 'string')) throw new UsageError('give exactly one of --by DURATION or --until ISO-TIME');
      if (typeof by === 'string' && parseDuration(by) === undefined) throw new UsageError(`--by: "${by}" is not a duration; write it like 2h, 90m or 1h30m`);
      if (typeof until === 'string' && (!/Z$/.test(until) || Number.isNaN(new Date(until).getTime()))) {
        throw new UsageError(`--until: "${until}" is not an ISO 8601 UTC time such as 2026-11-23T22:00:00Z`);
      }
      const request: ExtendRequest = typeof by === 'string' ? { by } : { until: until as string };
      const deps = lifecycleDeps(ctx, settings, await cloudFor(settings, ctx.config.region));
      const report = await ctx.reporter.phase('move expiry schedule', () => extendLab(deps.cloud, ctx.config.labName, request, deps.now()), (r) => `${r.from} -> ${r.to}`);
      return { text: formatExtendReport(report), data: report };
    },
  };
}

function stopCommand(settings: LifecycleSettings): LabCommand {
  return {
    name: 'stop',
    summary: "stop the lab's instances (pause between sessions; volumes and the Elastic IP stay and still cost)",
    async run(ctx) {
      const target = await ctx.reporter.phase('find lab', () => ctx.target(), (t) => `${t.nodes.length} instances`);
      const deps = lifecycleDeps(ctx, settings, await cloudFor(settings, ctx.config.region));
      const report = await stopLab(deps, target);
      return { text: formatPowerReport(report, target), data: report };
    },
  };
}

function startCommand(settings: LifecycleSettings): LabCommand {
  return {
    name: 'start',
    summary: "start the lab's instances again and wait until they run, their SSM agents are Online, and the cluster is back (every node Ready, Cilium up)",
    options: {
      'no-cluster-wait': { type: 'boolean', description: 'stop waiting once the SSM agents are Online (a lab without Cilium yet)' },
    },
    async run(ctx) {
      const target = await ctx.reporter.phase('find lab', () => ctx.target(), (t) => `${t.nodes.length} instances`);
      const deps = lifecycleDeps(ctx, settings, await cloudFor(settings, ctx.config.region));
      const report = await startLab(deps, target);
      if (ctx.options['no-cluster-wait'] === true) {
        ctx.reporter.skip('cluster back', '--no-cluster-wait');
        return { text: formatPowerReport(report, target), data: report };
      }
      // The agents Online is not the lab back: kubelet, the API server and the Cilium agents come
      // up after them. The same wait as `lab wait` (cilium status --wait, every node Ready).
      const cluster = await ctx.reporter.phase(
        'cluster back',
        async () => {
          try {
            return await runWait(await phaseDeps(ctx, settings), target);
          } catch (error) {
            throw new Error(`${(error as Error).message}\nthe instances run again, but the cluster is not back; a lab without Cilium yet: lab up (or lab start --no-cluster-wait)`);
          }
        },
        (w) => `${w.nodes.length} node(s) Ready`,
      );
      return { text: `${formatPowerReport(report, target)}\n${formatWait(cluster)}`, data: { ...report, cluster } };
    },
  };
}

function costCommand(settings: LifecycleSettings): LabCommand {
  return {
    name: 'cost',
    summary: "what the configured lab costs per hour, for --hours N and until its expiry (price table in the repo, no AWS call; the region as every command finds it)",
    options: { hours: { type: 'string', description: 'also show the cost of running the lab this many hours' } },
    async run(ctx) {
      const hoursText = ctx.options['hours'];
      let hours: number | undefined;
      if (typeof hoursText === 'string') {
        hours = Number(hoursText);
        if (!/^\d+(\.\d+)?$/.test(hoursText.trim()) || !(hours > 0)) throw new UsageError(`--hours: "${hoursText}" is not a positive number of hours`);
      }
      const now = (settings.now ?? (() => new Date()))();
      const region = await labRegion(ctx, settings.defaultRegion);
      const config = region === undefined ? ctx.config : { ...ctx.config, region };
      const cost = await ctx.reporter.phase('price the lab', async () => {
        try {
          return labCost(config, { now, ...(hours !== undefined ? { hours } : {}) });
        } catch (error) {
          if (error instanceof CostError) throw new UsageError(error.message);
          throw error;
        }
      }, (c) => `$${c.perHour.toFixed(4)}/h`);
      return { text: formatLabCost(cost), data: cost };
    },
  };
}

/** The lifecycle commands with the given settings (tests hand in fakes and short timings). */
export function lifecycleCommands(settings: LifecycleSettings = {}): LabCommand[] {
  return [downCommand(settings), sweepCommand(settings), extendCommand(settings), stopCommand(settings), startCommand(settings), costCommand(settings)];
}

export const LIFECYCLE_COMMANDS: LabCommand[] = lifecycleCommands();
