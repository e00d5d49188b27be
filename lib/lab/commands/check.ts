/**
 * `lab check`: prove the kube-proxy-free Cilium datapath end to end. Runs the scenarios of
 * lib/checks (cluster, agent, hosts, datapath, and with --upstream `cilium connectivity test`)
 * against the deployed lab: Kubernetes through the kubeconfig `lab kubeconfig` wrote, the nodes
 * over SSM. Prints a table (or JSON), writes JUnit with --junit, keeps the last report in the
 * lab's state directory, and fails (exit 1) when any scenario failed.
 *
 * The test namespace is removed afterwards, also when a scenario fails and on Ctrl-C: the first
 * SIGINT stops the run (waits and execs are aborted) and lets the cleanup finish; a second one
 * exits at once.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatResultsTable, resultsDocument, type ResultsDocument } from '../../checks/report.js';
import { WordedError } from '../../errors.js';
import { profileOf } from '../../config/profiles.js';
import { writeJunit, writeJunitError } from '../../checks/junit.js';
import { runChecks, summarize } from '../../checks/runner.js';
import { labChecks } from '../../checks/suite.js';
import { DEFAULT_CHECK_OPTIONS, type CheckEnvironment, type CheckOptions, type LabFacts, type ScenarioResult } from '../../checks/types.js';
import type { KubeClient } from '../../kube/types.js';
import { UsageError, type CommandContext, type LabCommand } from '../cli.js';
import { policyChecks } from '../../checks/policy-suite.js';
import { fetchKubeconfig } from '../kubeconfig.js';
import { phaseDeps, type CommandSettings } from './shared.js';
import { kubeconfigPath, labStateDir } from '../state.js';
import type { LabTarget } from '../target.js';

/** The part of `process` the command uses for Ctrl-C and SIGTERM (tests hand in an EventEmitter). */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

/** The exit status of a run stopped by a signal: 128 + its number, as a shell reports it. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export interface CheckCommandSettings extends CommandSettings {
  /** Builds the Kubernetes client. @default createKubeClient (client-node) */
  readonly createKube?: (kubeconfigPath: string, context: string) => KubeClient;
  /** Deadlines and intervals (tests shorten them). @default DEFAULT_CHECK_OPTIONS */
  readonly checkOptions?: Partial<CheckOptions>;
  /** @default process */
  readonly signals?: SignalSource;
  /** Called on a second SIGINT. @default process.exit(130) */
  readonly exitNow?: () => void;
}

/**
 * Thrown when a scenario failed: runCli turns it into exit code 1, and its `result` (every
 * scenario's result, as `lab check --json` prints on success) into the failed report's result.
 */
export class ChecksFailedError extends WordedError {
  readonly result: ResultsDocument;

  constructor(
    message: string,
    readonly results: readonly ScenarioResult[],
    /** 1 for failed scenarios; 130 / 143 when SIGINT / SIGTERM stopped the run. */
    readonly exitCode = 1,
  ) {
    super(message);
    this.result = resultsDocument(results);
  }
}

export function labFacts(target: LabTarget): LabFacts {
  const testpc = target.nodes.find((n) => n.role === 'testpc');
  const router = target.nodes.find((n) => n.role === 'router');
  const { config } = target.plan;
  return {
    ...profileOf(config).checkFacts?.(config),
    ...(router ? { router: { name: router.name, privateIp: router.privateIp, instanceId: router.instanceId } } : {}),
    ...(testpc ? { testpc: { name: testpc.name, privateIp: testpc.privateIp, instanceId: testpc.instanceId } } : {}),
    nodes: target.kubeNodes.map((n) => ({
      name: n.name,
      role: n.role === 'control-plane' ? ('control-plane' as const) : ('worker' as const),
      privateIp: n.privateIp,
      instanceId: n.instanceId,
      subnet: n.subnet,
    })),
    controlPlanePublicIp: target.controlPlanePublicIp,
  };
}

function progressLine(r: ScenarioResult): string {
  const mark = r.status === 'passed' ? '✔' : r.status === 'failed' ? '✘' : '-';
  const detail = r.status === 'passed' ? '' : `: ${r.reason}`;
  return `  ${mark} ${r.check}/${r.scenario} (${(r.durationMs / 1000).toFixed(1)}s)${detail}`;
}

function upstreamJunitPath(ctx: CommandContext, labName: string): string {
  const junit = ctx.options['junit'];
  if (typeof junit === 'string' && junit !== '') return junit.replace(/(\.xml)?$/, '.cilium-connectivity.xml');
  return join(labStateDir(labName), 'cilium-connectivity-junit.xml');
}

/** The kubeconfig option of the commands that talk to the cluster (check, hubble). */
export const KUBECONFIG_OPTION = {
  kubeconfig: { type: 'string' as const, description: 'the kubeconfig to use (default: the one `lab kubeconfig` wrote in the lab state directory)' },
};

/** A --kubeconfig that names no file is refused before any AWS call (and before lab create deploys). */
export function validateKubeconfigOption(ctx: CommandContext): void {
  const given = ctx.options['kubeconfig'];
  if (typeof given === 'string' && given !== '' && !existsSync(given)) {
    throw new UsageError(`--kubeconfig ${given}: no such file (leave the option out and lab ${ctx.reporter.command} fetches the lab's own)`);
  }
}

/**
 * The Kubernetes client of the deployed lab: the kubeconfig given, or the lab's own in the state
 * directory, fetched first when this machine has none (a fresh CI runner, a new laptop).
 */
export async function connectToCluster(
  ctx: CommandContext,
  settings: Pick<CheckCommandSettings, 'createKube' | 'timeouts'>,
  target: LabTarget,
  connecting: () => void = () => undefined,
): Promise<KubeClient> {
  const given = typeof ctx.options['kubeconfig'] === 'string' && ctx.options['kubeconfig'] !== '' ? ctx.options['kubeconfig'] : undefined;
  const path = given ?? kubeconfigPath(target.plan.config.labName);
  if (!existsSync(path)) {
    if (given !== undefined) throw new UsageError(`--kubeconfig ${given}: no such file (leave the option out and lab ${ctx.reporter.command} fetches the lab's own)`);
    await ctx.reporter.phase('kubeconfig', async () => fetchKubeconfig(await phaseDeps(ctx, settings), target, path), (r) => `fetched to ${r.path}`);
  }
  connecting();
  return settings.createKube
    ? settings.createKube(path, target.plan.kubeContext)
    : (await import('../../kube/kube-client.js')).createKubeClient(path, { context: target.plan.kubeContext });
}

export function checkCommand(settings: CheckCommandSettings = {}): LabCommand {
  return {
    name: 'check',
    summary: 'prove the kube-proxy-free Cilium datapath end to end (cluster, agents, hosts, pod traffic, Hubble); exit 1 on any failure',
    options: {
      junit: { type: 'string', description: 'also write the results as JUnit XML to this file' },
      'no-internet': { type: 'boolean', description: 'skip the scenarios that need internet egress (reported as skipped)' },
      'keep-namespace': { type: 'boolean', description: 'leave the test namespace cilium-lab-check in place for debugging' },
      upstream: { type: 'boolean', description: 'also run `cilium connectivity test` on the control plane (6-12 min) and fetch its JUnit' },
      suite: { type: 'string', description: 'lab (the lab\'s own checks) or policy (the network policy exercise: exercises/policy/ applied step by step)', default: 'lab' },
      ...KUBECONFIG_OPTION,
    },
    validate(ctx) {
      const suite = ctx.options['suite'] ?? 'lab';
      if (suite !== 'lab' && suite !== 'policy') throw new UsageError(`--suite ${String(suite)}: lab (the lab's own checks) or policy (the network policy exercise)`);
      if (suite === 'policy' && ctx.options['upstream'] === true) throw new UsageError('--upstream belongs to the lab suite; run it without --suite policy');
      validateKubeconfigOption(ctx);
    },
    async run(ctx) {
      // A run that fails before its scenarios still leaves a JUnit file with the reason, so CI
      // reports the failure instead of a missing file.
      const junitPath = typeof ctx.options['junit'] === 'string' && ctx.options['junit'] !== '' ? ctx.options['junit'] : undefined;
      const progress = { stage: 'find the lab', scenariosStarted: false };
      try {
        return await runCheckCommand(ctx, settings, progress);
      } catch (error) {
        if (junitPath !== undefined && !progress.scenariosStarted) writeJunitError(junitPath, progress.stage, (error as Error).message);
        throw error;
      }
    },
  };
}

async function runCheckCommand(ctx: CommandContext, settings: CheckCommandSettings, progress: { stage: string; scenariosStarted: boolean }): Promise<{ text: string; data?: unknown }> {
  const target = await ctx.reporter.phase('find the lab', () => ctx.target(), (t) => `${t.kubeNodes.length} Kubernetes node(s)`);
  progress.stage = 'kubeconfig';
  const labName = target.plan.config.labName;
  const kube = await connectToCluster(ctx, settings, target, () => (progress.stage = 'connect to the cluster'));
  const options: CheckOptions = {
    ...DEFAULT_CHECK_OPTIONS,
    ...settings.checkOptions,
    internet: ctx.options['no-internet'] !== true && (settings.checkOptions?.internet ?? true),
    keepNamespace: ctx.options['keep-namespace'] === true,
  };

  // Ctrl-C or SIGTERM (a CI job's timeout, `kill`): abort the waits, execs and SSM commands (which
  // are cancelled), skip what is left, remove the namespace, exit 130 / 143. The same signal twice
  // (Ctrl-C pressed again) exits at once; a different one does not: a cancelled GitHub job sends
  // SIGINT, then SIGTERM a few seconds later, and the clean-up should use that time.
  const controller = new AbortController();
  const signals = settings.signals ?? process;
  const seen = new Set<string>();
  const onSignal = (name: 'SIGINT' | 'SIGTERM'): void => {
    const again = seen.has(name);
    seen.add(name);
    if (seen.size > 1 && !again) {
      ctx.out.info(`${name} during the clean-up: still removing the test namespace (${name} again to exit at once)`);
      return;
    }
    if (!again) {
      ctx.out.info(`interrupted (${name}): stopping the checks, cancelling remote commands and removing the test namespace (Ctrl-C again to exit at once)`);
      controller.abort(name);
    } else {
      (settings.exitNow ?? (() => process.exit(SIGNAL_EXIT_CODES[name])))();
    }
  };
  const onSigint = (): void => onSignal('SIGINT');
  const onSigterm = (): void => onSignal('SIGTERM');
  signals.on('SIGINT', onSigint);
  signals.on('SIGTERM', onSigterm);

  const services = await ctx.services();
  const env: CheckEnvironment = {
    kube,
    remote: services.remote,
    lab: labFacts(target),
    options,
    signal: controller.signal,
    ...(target.artifactsBucket ? { artifacts: { store: services.artifacts, bucket: target.artifactsBucket } } : {}),
  };
  const profile = profileOf(target.plan.config);
  const checks =
    ctx.options['suite'] === 'policy'
      ? policyChecks()
      : labChecks({
          profileChecks: profile.checks,
          ...(profile.replacesChecks ? { replaceChecks: profile.replacesChecks } : {}),
          ...(ctx.options['upstream'] === true ? { upstream: { junitPath: upstreamJunitPath(ctx, labName) } } : {}),
        });
  let results: ScenarioResult[];
  progress.scenariosStarted = true;
  try {
    results = await ctx.reporter.phase(
      'checks',
      () => runChecks(checks, env, { onResult: (r) => ctx.out.info(progressLine(r)) }),
      (rs) => {
        const s = summarize(rs);
        return `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
      },
    );
  } finally {
    signals.off('SIGINT', onSigint);
    signals.off('SIGTERM', onSigterm);
  }

  const document = resultsDocument(results);
  const reportPath = join(labStateDir(labName), 'check-report.json');
  mkdirSync(labStateDir(labName), { recursive: true });
  writeFileSync(reportPath, `${JSON.stringify(document, null, 2)}\n`);
  const junit = ctx.options['junit'];
  if (typeof junit === 'string' && junit !== '') {
    writeJunit(junit, results);
    // The full report beside the JUnit file, so what CI uploads has the evidence too.
    writeFileSync(join(dirname(junit), 'check-report.json'), `${JSON.stringify(document, null, 2)}\n`);
  }

  const table = formatResultsTable(results);
  const summary = summarize(results);
  const failed = results.filter((r) => r.status === 'failed');
  if (controller.signal.aborted) {
    ctx.out.info(table);
    const name = controller.signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
    throw new ChecksFailedError(`interrupted by ${name} after ${summary.passed + summary.failed} scenario(s); report: ${reportPath}`, results, SIGNAL_EXIT_CODES[name]);
  }
  if (failed.length > 0) {
    // runCli prints a thrown error instead of the result: show the table first (stderr in JSON mode).
    ctx.out.info(table);
    const names = failed.map((r) => `${r.check}/${r.scenario}`).join(', ');
    throw new ChecksFailedError(`${failed.length} of ${summary.total} scenario(s) failed (${names}); report: ${reportPath}`, results);
  }
  return { text: table, data: { ...document, reportPath, ...(typeof junit === 'string' && junit !== '' ? { junit } : {}) } };
}

export const CHECK_COMMANDS: LabCommand[] = [checkCommand()];
