/**
 * Turns the JSON reports of a nightly run (`lab <command> --json`, and the workflow's own
 * `cdk deploy` timing in the same shape) into the Markdown of the job summary: a result table,
 * the phases of each command, the checks when a report carries them, and a Mermaid gantt of the
 * phase timings (time to a green lab).
 *
 *   npx tsx scripts/ci/summary.ts [--title TEXT] report.json... >> "$GITHUB_STEP_SUMMARY"
 *
 * A missing, empty or unreadable report (a step that never ran) is shown as such: the summary
 * is written for failed runs too, and this script never fails the job by itself.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PhaseRecord, RunReport } from '../../lib/lab/reporter.js';

/** One report file, read or not. */
export type SummaryInput = { readonly file: string; readonly report: RunReport } | { readonly file: string; readonly problem: string };

interface CheckRow {
  readonly name: string;
  readonly status: string;
  readonly detail?: string;
}

const seconds = (ms: number): string => {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
};

const ICON: Record<string, string> = { ok: '✅', passed: '✅', pass: '✅', failed: '❌', fail: '❌', error: '❌', skipped: '⏭️', skip: '⏭️' };
const icon = (status: string): string => `${ICON[status.toLowerCase()] ?? '❔'} ${status}`;

/** Table cells: one line, no pipe. */
const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').slice(0, 300);

/** Mermaid task names may not hold ":" "#" or ";". */
const taskName = (text: string): string => text.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim() || 'phase';

function isRunReport(value: unknown): value is RunReport {
  const v = value as Partial<RunReport> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.command === 'string' &&
    typeof v.ok === 'boolean' &&
    Array.isArray(v.phases) &&
    v.phases.every((p) => typeof p?.name === 'string' && typeof p.status === 'string' && typeof p.durationMs === 'number')
  );
}

/** Parses one report's text; anything but a RunReport is a problem, not an exception. */
export function parseReport(file: string, text: string | undefined): SummaryInput {
  if (text === undefined) return { file, problem: 'no report (the step did not run or wrote nothing)' };
  if (text.trim() === '') return { file, problem: 'empty report (the step wrote nothing)' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { file, problem: `not JSON: ${(error as Error).message}` };
  }
  return isRunReport(value) ? { file, report: value } : { file, problem: 'not a lab report (no command/ok/phases)' };
}

export function readReport(path: string): SummaryInput {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  return parseReport(basename(path), text);
}

interface ScenarioLike {
  readonly check: string;
  readonly scenario: string;
  readonly status: string;
  readonly reason?: string;
}

const isScenario = (v: unknown): v is ScenarioLike => {
  const s = v as Partial<ScenarioLike> | null;
  return typeof s === 'object' && s !== null && typeof s.check === 'string' && typeof s.scenario === 'string' && typeof s.status === 'string';
};

/**
 * The scenario results a report carries (lib/checks/report.ts ResultsDocument): `lab check`'s
 * result, or `lab create`'s under results.check, or under check when the check phase failed.
 */
function checksOf(report: RunReport): CheckRow[] {
  const result = report.result as Record<string, unknown> | undefined;
  const nested = (result?.['results'] as Record<string, unknown> | undefined)?.['check'];
  for (const doc of [result, nested, result?.['check']]) {
    const list = (doc as { results?: unknown } | undefined)?.results;
    if (Array.isArray(list) && list.length > 0 && list.every(isScenario)) {
      return list.map((s) => ({ name: `${s.check}/${s.scenario}`, status: s.status, ...(s.reason ? { detail: s.reason } : {}) }));
    }
  }
  return [];
}

/** A Mermaid gantt of every phase, commands one after the other, from the durations. */
export function gantt(reports: readonly RunReport[]): string {
  const lines = ['```mermaid', 'gantt', '  title Phase timings (elapsed mm:ss)', '  dateFormat x', '  axisFormat %M:%S'];
  let clock = 0;
  let id = 0;
  for (const report of reports) {
    const timed = report.phases.filter((p) => p.status !== 'skipped' && p.durationMs > 0);
    if (timed.length === 0) continue;
    lines.push(`  section ${taskName(report.command)}`);
    for (const phase of timed) {
      const tag = phase.status === 'failed' ? 'crit, ' : 'done, ';
      lines.push(`  ${taskName(phase.name)} (${seconds(phase.durationMs)}) :${tag}p${id++}, ${clock}, ${clock + Math.round(phase.durationMs)}`);
      clock += Math.round(phase.durationMs);
    }
  }
  lines.push('```');
  return id === 0 ? '' : lines.join('\n');
}

function phaseTable(phases: readonly PhaseRecord[]): string[] {
  if (phases.length === 0) return ['_no phase recorded_'];
  return ['| phase | result | time | detail |', '|---|---|---:|---|', ...phases.map((p) => `| ${cell(p.name)} | ${icon(p.status)} | ${seconds(p.durationMs)} | ${cell(p.detail ?? '')} |`)];
}

/** The whole job summary. */
export function renderSummary(inputs: readonly SummaryInput[], title = 'cilium-lab nightly'): string {
  const reports = inputs.flatMap((i) => ('report' in i ? [i.report] : []));
  const ok = inputs.length > 0 && inputs.every((i) => 'report' in i && i.report.ok);
  const out: string[] = [`## ${ok ? '✅' : '❌'} ${cell(title)}`, ''];
  out.push('| step | result | phases | time |', '|---|---|---:|---:|');
  for (const input of inputs) {
    if ('report' in input) {
      const r = input.report;
      const total = r.totalMs ?? r.phases.reduce((sum, p) => sum + p.durationMs, 0);
      out.push(`| ${cell(r.command)} | ${icon(r.ok ? 'ok' : 'failed')} | ${r.phases.length} | ${seconds(total)} |`);
    } else {
      out.push(`| ${cell(input.file)} | ❔ missing | 0 | - |`);
    }
  }
  if (inputs.length === 0) out.push('| (no report) | ❔ missing | 0 | - |');
  const chart = gantt(reports);
  if (chart) out.push('', chart);
  for (const input of inputs) {
    out.push('');
    if (!('report' in input)) {
      out.push(`### ${cell(input.file)}`, '', `❔ ${cell(input.problem)}`);
      continue;
    }
    const r = input.report;
    out.push(`### ${cell(r.command)}`, '', ...phaseTable(r.phases));
    if (r.error) out.push('', `**error:** ${cell(r.error)}`);
    const checks = checksOf(r);
    if (checks.length > 0) {
      out.push('', '| scenario | result | detail |', '|---|---|---|', ...checks.map((c) => `| ${cell(c.name)} | ${icon(c.status)} | ${cell(c.detail ?? '')} |`));
    }
  }
  return `${out.join('\n')}\n`;
}

function main(argv: readonly string[]): void {
  const args = [...argv];
  let title: string | undefined;
  const files: string[] = [];
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '--title') title = args.shift();
    else files.push(arg);
  }
  process.stdout.write(renderSummary(files.map(readReport), title));
}

// Run as a script (also through a symlinked path: compare the real files, not the spellings).
if (process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(resolve(process.argv[1]))) {
  main(process.argv.slice(2));
}
