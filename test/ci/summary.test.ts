/** The nightly job summary: result table, phases, checks and a Mermaid gantt from the JSON reports. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '../../lib/lab/reporter.js';
import { gantt, parseReport, renderSummary, type SummaryInput } from '../../scripts/ci/summary.js';

const deploy: RunReport = { command: 'cdk deploy', ok: true, phases: [{ name: 'cdk deploy', status: 'ok', durationMs: 612_400 }], totalMs: 612_400 };
const up: RunReport = {
  command: 'up',
  ok: true,
  phases: [
    { name: 'tune NICs', status: 'ok', durationMs: 21_000, detail: 'MTU 3498, 2 channels' },
    { name: 'install Cilium 1.16.3', status: 'ok', durationMs: 95_500 },
    { name: 'hubble', status: 'skipped', durationMs: 0, detail: 'not asked for' },
  ],
  totalMs: 117_000,
};
/** A failed `lab check --json`: its result is the ResultsDocument (lib/checks/report.ts) that ChecksFailedError carries. */
const check: RunReport = {
  command: 'check',
  ok: false,
  phases: [{ name: 'checks: XDP | native', status: 'failed', durationMs: 4_200, detail: 'XDP Acceleration: Disabled\non k8s-w1' }],
  totalMs: 4_300,
  result: {
    summary: { total: 2, passed: 1, failed: 1, skipped: 0 },
    results: [
      { check: 'cluster', scenario: 'nodes-ready', proves: 'p', status: 'passed', durationMs: 10, reason: '3 node(s) Ready', expectations: [], evidence: { events: [] } },
      { check: 'agent', scenario: 'agent-status', proves: 'p', status: 'failed', durationMs: 20, reason: 'XDP Disabled on k8s-w1', expectations: [], evidence: { events: [] } },
    ],
  },
  error: '1 check failed',
};
const input = (report: RunReport, file = `${report.command}.json`): SummaryInput => ({ file, report });

describe('renderSummary', () => {
  const markdown = renderSummary([input(deploy), input(up), input(check)], 'cilium-lab nightly nightly-42');

  it('heads with the overall result and a table of the steps', () => {
    expect(markdown.startsWith('## ❌ cilium-lab nightly nightly-42\n')).toBe(true);
    expect(markdown).toContain('| cdk deploy | ✅ ok | 1 | 10 min 12 s |');
    expect(markdown).toContain('| up | ✅ ok | 3 | 1 min 57 s |');
    expect(markdown).toContain('| check | ❌ failed | 1 | 4.3 s |');
  });

  it('lists each phase with its time and detail, escaped for a table cell', () => {
    expect(markdown).toContain('| tune NICs | ✅ ok | 21.0 s | MTU 3498, 2 channels |');
    expect(markdown).toContain('| hubble | ⏭️ skipped | 0.0 s | not asked for |');
    expect(markdown).toContain('| checks: XDP \\| native | ❌ failed | 4.2 s | XDP Acceleration: Disabled on k8s-w1 |');
    expect(markdown).toContain('**error:** 1 check failed');
  });

  it('shows one row per scenario a check report carries, with its reason', () => {
    expect(markdown).toContain('| cluster/nodes-ready | ✅ passed | 3 node(s) Ready |');
    expect(markdown).toContain('| agent/agent-status | ❌ failed | XDP Disabled on k8s-w1 |');
  });

  it('finds the scenarios in a lab create report, passed (results.check) or failed (check)', () => {
    const doc = check.result;
    const green: RunReport = { command: 'create', ok: true, phases: [], totalMs: 0, result: { labName: 'x', results: { deploy: {}, up: {}, check: doc } } };
    const red: RunReport = { command: 'create', ok: false, phases: [], totalMs: 0, result: { deploy: {}, up: {}, check: doc, failedAt: 'check' } };
    for (const report of [green, red]) expect(renderSummary([input(report)])).toContain('| agent/agent-status | ❌ failed | XDP Disabled on k8s-w1 |');
    expect(renderSummary([input(up)])).not.toContain('| scenario |');
  });

  it('is all green only when every report is there and ok', () => {
    expect(renderSummary([input(deploy), input(up)])).toMatch(/^## ✅ /);
    expect(renderSummary([input(deploy), { file: 'check.json', problem: 'no report' }])).toMatch(/^## ❌ /);
    expect(renderSummary([])).toMatch(/^## ❌ [\s\S]*\(no report\)/);
  });

  it('shows a missing report instead of failing', () => {
    const text = renderSummary([input(deploy), parseReport('up.json', undefined)]);
    expect(text).toContain('| up.json | ❔ missing | 0 | - |');
    expect(text).toContain('❔ no report (the step did not run or wrote nothing)');
  });
});

describe('gantt', () => {
  const chart = gantt([deploy, up, check]);

  it('is a Mermaid gantt in elapsed milliseconds, one section per command', () => {
    expect(chart.split('\n').slice(0, 5)).toEqual(['```mermaid', 'gantt', '  title Phase timings (elapsed mm:ss)', '  dateFormat x', '  axisFormat %M:%S']);
    expect(chart).toContain('  section cdk deploy');
    expect(chart).toContain('  section up');
    expect(chart.endsWith('```')).toBe(true);
  });

  it('lays the phases end to end, failed ones marked crit, skipped ones left out', () => {
    const tasks = chart.split('\n').filter((l) => l.includes(' :'));
    expect(tasks).toEqual([
      '  cdk deploy (10 min 12 s) :done, p0, 0, 612400',
      '  tune NICs (21.0 s) :done, p1, 612400, 633400',
      '  install Cilium 1.16.3 (1 min 36 s) :done, p2, 633400, 728900',
      '  checks XDP | native (4.2 s) :crit, p3, 728900, 733100',
    ]);
  });

  it('is empty without a timed phase', () => {
    expect(gantt([{ command: 'up', ok: false, phases: [], totalMs: 0 }])).toBe('');
  });
});

describe('parseReport', () => {
  it.each([
    ['', /empty report/],
    ['npm ERR! missing script: lab', /not JSON/],
    ['{"command":"up"}', /not a lab report/],
    ['[1,2]', /not a lab report/],
  ])('turns %j into a problem, not an exception', (text, problem) => {
    const parsed = parseReport('up.json', text);
    expect('problem' in parsed && parsed.problem).toMatch(problem);
  });

  it('reads a RunReport', () => {
    expect(parseReport('up.json', JSON.stringify(up))).toEqual({ file: 'up.json', report: up });
  });
});

describe('the script', () => {
  it('prints the summary of the files it is given and exits 0 even when one is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cilium-lab-summary-'));
    writeFileSync(join(dir, 'deploy.json'), JSON.stringify(deploy));
    const script = fileURLToPath(new URL('../../scripts/ci/summary.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', script, '--title', 'nightly', join(dir, 'deploy.json'), join(dir, 'up.json')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^## ❌ nightly\n/);
    expect(run.stdout).toContain('| cdk deploy | ✅ ok |');
    expect(run.stdout).toContain('| up.json | ❔ missing |');
  });
});
