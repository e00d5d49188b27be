/** The results as a readable table (evidence printed under it for failures) and as JSON. */
import { summarize, type ResultSummary } from './runner.js';
import type { ScenarioResult } from './types.js';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const MARK: Record<ScenarioResult['status'], string> = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' };

function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

/** One line per scenario, then the evidence of each failure, then the totals. */
export function formatResultsTable(results: readonly ScenarioResult[]): string {
  const name = (r: ScenarioResult) => `${r.check}/${r.scenario}`;
  const width = Math.max(8, ...results.map((r) => name(r).length));
  const lines = [`${'scenario'.padEnd(width)}  result  ${'time'.padStart(7)}  detail`];
  for (const r of results) {
    const detail = r.status === 'passed' ? '' : r.reason;
    lines.push(`${name(r).padEnd(width)}  ${MARK[r.status].padEnd(6)}  ${seconds(r.durationMs).padStart(7)}  ${detail}`.trimEnd());
  }
  const failed = results.filter((r) => r.status === 'failed');
  for (const r of failed) {
    lines.push('', `--- ${name(r)} failed: ${r.reason}`, `    proves: ${r.proves}`);
    for (const e of r.expectations.filter((x) => !x.met)) lines.push(`    expected ${e.id}: ${e.detail}`);
    if (r.evidence.output) lines.push('    evidence:', indent(r.evidence.output, '      '));
    if (r.evidence.events.length > 0) lines.push('    events:', ...r.evidence.events.map((e) => `      ${e}`));
  }
  const s = summarize(results);
  lines.push('', `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped of ${s.total}`);
  return lines.join('\n');
}

export interface ResultsDocument {
  readonly summary: ResultSummary;
  readonly results: readonly ScenarioResult[];
}

export function resultsDocument(results: readonly ScenarioResult[]): ResultsDocument {
  return { summary: summarize(results), results };
}
