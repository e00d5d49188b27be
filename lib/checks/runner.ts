/**
 * Runs checks one after the other and their scenarios in order, and turns each into a
 * ScenarioResult. The verdict rules:
 *   - passed: the scenario asserted at least one expectation and all of them held;
 *   - failed: an expectation did not hold, the scenario threw, or it asserted nothing;
 *   - skipped: the scenario said it cannot run (`run.skip(reason)`), its check's fixture failed to
 *     set up, or the run was interrupted (SIGINT) before or while it ran. A skip always carries
 *     its reason.
 * A fixture that fails to set up is reported as its own failed result ("<check>/setup"), and one
 * that fails to clean up as "<check>/cleanup"; teardown runs whatever happened before it.
 */
import { PodNotReadyError, formatEvent } from '../kube/types.js';
import { AbortedError } from '../kube/wait.js';
import {
  SkipScenario,
  type Check,
  type CheckEnvironment,
  type Evidence,
  type Expectation,
  type ExpectationResult,
  type ScenarioResult,
  type ScenarioRun,
} from './types.js';

/** Each recorded output is cut to this many characters (head and tail kept). */
export const EVIDENCE_OUTPUT_LIMIT = 4_000;

export interface RunChecksOptions {
  /** Called as each result is known (progress output). */
  readonly onResult?: (result: ScenarioResult) => void;
  /** Called before each scenario starts. */
  readonly onStart?: (check: string, scenario: string) => void;
}

export function clip(text: string, limit = EVIDENCE_OUTPUT_LIMIT): string {
  if (text.length <= limit) return text;
  const half = Math.floor(limit / 2);
  return `${text.slice(0, half)}\n[... ${text.length - limit} characters cut ...]\n${text.slice(-half)}`;
}

class EvidenceLog {
  readonly commands: string[] = [];
  readonly outputs: string[] = [];
  readonly eventLines: string[] = [];

  record = (command: string, output: string): void => {
    this.commands.push(command);
    this.outputs.push(`$ ${command}\n${clip(output.trimEnd())}`);
  };

  events = (lines: readonly string[]): void => {
    for (const line of lines) if (!this.eventLines.includes(line)) this.eventLines.push(line);
  };

  evidence(): Evidence {
    return { command: this.commands.join('\n'), output: this.outputs.join('\n'), events: [...this.eventLines] };
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function addErrorEvidence(log: EvidenceLog, error: unknown): void {
  if (error instanceof PodNotReadyError) log.events(error.events.map(formatEvent));
}

async function runScenario<F>(
  check: Check<F>,
  scenario: Check<F>['scenarios'][number],
  env: CheckEnvironment,
  fixture: F,
): Promise<ScenarioResult> {
  const started = Date.now();
  const log = new EvidenceLog();
  const expectations: ExpectationResult[] = [];
  const run: ScenarioRun<F> = {
    env,
    fixture,
    record: log.record,
    events: log.events,
    expect(expectation: Expectation, met: boolean, detail: string): boolean {
      expectations.push({ id: expectation.id, met, detail });
      return met;
    },
    skip(reason: string): never {
      throw new SkipScenario(reason);
    },
  };
  const result = (status: ScenarioResult['status'], reason: string): ScenarioResult => ({
    check: check.name,
    scenario: scenario.name,
    proves: scenario.proves,
    status,
    durationMs: Date.now() - started,
    reason,
    expectations: [...expectations],
    evidence: log.evidence(),
  });
  try {
    await scenario.run(run);
  } catch (error) {
    if (error instanceof SkipScenario) return result('skipped', error.message);
    if (error instanceof AbortedError || env.signal.aborted) return result('skipped', `interrupted: ${errorMessage(error)}`);
    addErrorEvidence(log, error);
    return result('failed', errorMessage(error));
  }
  const unmet = expectations.filter((e) => !e.met);
  // An exec or wait cut short by Ctrl-C is not evidence against the lab.
  if (unmet.length > 0 && env.signal.aborted) return result('skipped', `interrupted while running (${unmet.map((e) => e.id).join(', ')} not proven)`);
  if (unmet.length > 0) return result('failed', unmet.map((e) => `${e.id}: ${e.detail}`).join('; '));
  if (expectations.length === 0) return result('failed', 'the scenario asserted nothing');
  return result('passed', expectations.map((e) => e.detail).join('; '));
}

function skipped(check: string, scenario: { readonly name: string; readonly proves: string }, reason: string): ScenarioResult {
  return {
    check,
    scenario: scenario.name,
    proves: scenario.proves,
    status: 'skipped',
    durationMs: 0,
    reason,
    expectations: [],
    evidence: { command: '', output: '', events: [] },
  };
}

async function runCheck<F>(check: Check<F>, env: CheckEnvironment, options: RunChecksOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const emit = (r: ScenarioResult): void => {
    results.push(r);
    options.onResult?.(r);
  };
  const pseudo = (name: string, proves: string, started: number, log: EvidenceLog, error: unknown): ScenarioResult => ({
    check: check.name,
    scenario: name,
    proves,
    status: 'failed',
    durationMs: Date.now() - started,
    reason: errorMessage(error),
    expectations: [],
    evidence: log.evidence(),
  });

  if (env.signal.aborted) {
    for (const scenario of check.scenarios) emit(skipped(check.name, scenario, 'not run: interrupted'));
    return results;
  }
  const fixture = check.fixture;
  let value: F = undefined as F;
  let setupFailed: string | undefined;
  if (fixture) {
    const started = Date.now();
    const log = new EvidenceLog();
    options.onStart?.(check.name, 'setup');
    try {
      value = await fixture.setup(env, log.record);
    } catch (error) {
      addErrorEvidence(log, error);
      setupFailed = errorMessage(error);
      if (env.signal.aborted || error instanceof AbortedError) setupFailed = `interrupted: ${setupFailed}`;
      else emit(pseudo('setup', `the ${fixture.name} can be created`, started, log, error));
    }
  }
  try {
    for (const scenario of check.scenarios) {
      if (setupFailed !== undefined) {
        emit(skipped(check.name, scenario, `not run: the ${fixture?.name ?? 'setup'} failed (${setupFailed})`));
        continue;
      }
      if (env.signal.aborted) {
        emit(skipped(check.name, scenario, 'not run: interrupted'));
        continue;
      }
      options.onStart?.(check.name, scenario.name);
      emit(await runScenario(check, scenario, env, value));
    }
  } finally {
    if (fixture) {
      const started = Date.now();
      const log = new EvidenceLog();
      options.onStart?.(check.name, 'cleanup');
      try {
        await fixture.teardown(env, log.record);
      } catch (error) {
        emit(pseudo('cleanup', `the ${fixture.name} is removed after the run`, started, log, error));
      }
    }
  }
  return results;
}

/** Runs every check; never throws for a scenario's failure. */
export async function runChecks(checks: readonly Check<unknown>[], env: CheckEnvironment, options: RunChecksOptions = {}): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const check of checks) results.push(...(await runCheck(check, env, options)));
  return results;
}

export interface ResultSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
}

export function summarize(results: readonly ScenarioResult[]): ResultSummary {
  const count = (status: ScenarioResult['status']) => results.filter((r) => r.status === status).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), total: results.length };
}
