/**
 * JUnit XML for CI: one <testsuite> per check, one <testcase> per scenario, <failure> for a failed
 * scenario (reason as message, unmet expectations and evidence as text), <skipped> with its reason.
 * Every attribute and text node is escaped, and characters XML 1.0 forbids are dropped.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { summarize } from './runner.js';
import type { ScenarioResult } from './types.js';

/** Characters outside XML 1.0's Char production (control characters, lone surrogates, U+FFFE/F). */
const INVALID_XML = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

export function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const time = (ms: number): string => (ms / 1000).toFixed(3);

function testcase(r: ScenarioResult): string {
  const open = `    <testcase name="${xmlEscape(r.scenario)}" classname="cilium-lab.${xmlEscape(r.check)}" time="${time(r.durationMs)}"`;
  const out = [
    `proves: ${r.proves}`,
    ...r.expectations.map((e) => `${e.met ? 'met' : 'NOT MET'} ${e.id}: ${e.detail}`),
  ].join('\n');
  const body: string[] = [];
  if (r.status === 'failed') {
    const text = [
      ...r.expectations.filter((e) => !e.met).map((e) => `${e.id}: ${e.detail}`),
      ...(r.evidence.output ? ['', r.evidence.output] : []),
      ...(r.evidence.events.length > 0 ? ['', 'events:', ...r.evidence.events] : []),
    ].join('\n');
    body.push(`      <failure message="${xmlEscape(r.reason)}" type="failed">${xmlEscape(text)}</failure>`);
  } else if (r.status === 'skipped') {
    body.push(`      <skipped message="${xmlEscape(r.reason)}"/>`);
  }
  body.push(`      <system-out>${xmlEscape(out)}</system-out>`);
  return `${open}>\n${body.join('\n')}\n    </testcase>`;
}

/** The JUnit document for a run; `name` names the top-level <testsuites>. */
export function junitXml(results: readonly ScenarioResult[], name = 'cilium-lab check', timestamp = new Date()): string {
  const checks = [...new Set(results.map((r) => r.check))];
  const total = summarize(results);
  const totalMs = results.reduce((sum, r) => sum + r.durationMs, 0);
  const suites = checks.map((check) => {
    const mine = results.filter((r) => r.check === check);
    const s = summarize(mine);
    const ms = mine.reduce((sum, r) => sum + r.durationMs, 0);
    return [
      `  <testsuite name="${xmlEscape(check)}" tests="${s.total}" failures="${s.failed}" errors="0" skipped="${s.skipped}" time="${time(ms)}" timestamp="${timestamp.toISOString()}">`,
      ...mine.map(testcase),
      '  </testsuite>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(name)}" tests="${total.total}" failures="${total.failed}" errors="0" skipped="${total.skipped}" time="${time(totalMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

export function writeJunit(path: string, results: readonly ScenarioResult[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, junitXml(results));
}

/**
 * The JUnit document of a run that failed before any scenario ran (no lab, no kubeconfig, no
 * API): one testcase with an <error>, so a CI that reads the file sees the reason, not an empty
 * report or no file at all.
 */
export function junitErrorXml(stage: string, reason: string, name = 'cilium-lab check', timestamp = new Date()): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(name)}" tests="1" failures="0" errors="1" skipped="0" time="0.000">`,
    `  <testsuite name="setup" tests="1" failures="0" errors="1" skipped="0" time="0.000" timestamp="${timestamp.toISOString()}">`,
    `    <testcase name="${xmlEscape(stage)}" classname="cilium-lab.setup" time="0.000">`,
    `      <error message="${xmlEscape(reason.split('\n')[0] ?? reason)}" type="setup">${xmlEscape(reason)}</error>`,
    '    </testcase>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function writeJunitError(path: string, stage: string, reason: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, junitErrorXml(stage, reason));
}
