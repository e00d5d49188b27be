/** The JUnit writer: escaping, counts, failure and skipped elements; and the test's XML reader itself. */
import { junitXml, xmlEscape } from '../../lib/checks/junit.js';
import type { ScenarioResult } from '../../lib/checks/types.js';
import { findAll, parseXml } from './mini-xml.js';

const result = (over: Partial<ScenarioResult>): ScenarioResult => ({
  check: 'datapath',
  scenario: 'pod-to-pod',
  proves: 'pods talk',
  status: 'passed',
  durationMs: 1234,
  reason: 'fine',
  expectations: [],
  evidence: { command: '', output: '', events: [] },
  ...over,
});

describe('xmlEscape', () => {
  it('escapes the five special characters and drops characters XML forbids', () => {
    expect(xmlEscape(`<a href="x">Tom & 'Jerry'</a>\u0000\u0007\u001b[0m\ufffe`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;[0m');
  });

  it('keeps tabs, newlines and non-ASCII text', () => {
    expect(xmlEscape('a\tb\nc ✔ 한글 😀')).toBe('a\tb\nc ✔ 한글 😀');
  });
});

describe('junitXml', () => {
  const results = [
    result({ check: 'cluster', scenario: 'nodes-ready' }),
    result({
      scenario: 'pod-to-clusterip',
      status: 'failed',
      reason: 'clusterip-both-backends: never answered: webpod2 <k8s-w2>',
      expectations: [{ id: 'clusterip-both-backends', met: false, detail: 'never answered: webpod2 <k8s-w2>' }],
      evidence: { command: 'exec', output: '$ curl\n]]> & <html>', events: ['Warning BackOff Pod/webpod2: Back-off "x"'] },
    }),
    result({ scenario: 'pod-to-internet', status: 'skipped', reason: '--no-internet: "skipped" & <why>' }),
  ];

  it('parses, counts per suite and overall, and marks failures and skips', () => {
    // when
    const root = parseXml(junitXml(results, 'cilium-lab check', new Date('2026-01-02T03:04:05Z')));
    // then
    expect(root.attributes).toMatchObject({ name: 'cilium-lab check', tests: '3', failures: '1', skipped: '1', errors: '0' });
    const suites = findAll(root, 'testsuite');
    expect(suites.map((s) => [s.attributes.name, s.attributes.tests, s.attributes.failures, s.attributes.skipped])).toEqual([
      ['cluster', '1', '0', '0'],
      ['datapath', '2', '1', '1'],
    ]);
    const cases = findAll(root, 'testcase');
    expect(cases.map((c) => c.attributes.time)).toEqual(['1.234', '1.234', '1.234']);
    const failure = findAll(root, 'failure')[0];
    expect(failure?.attributes.message).toBe('clusterip-both-backends: never answered: webpod2 <k8s-w2>');
    expect(failure?.text).toContain(']]> & <html>');
    expect(failure?.text).toContain('Warning BackOff Pod/webpod2: Back-off "x"');
    expect(findAll(root, 'skipped')[0]?.attributes.message).toBe('--no-internet: "skipped" & <why>');
  });
});

describe('the test XML reader', () => {
  it.each([
    ['<a>x & y</a>', /bare "&"/],
    ['<a><b></a></b>', /<\/a> closes <b>/],
    ['<a x="1" x="2"/>', /attribute x twice/],
    ['<a>', /not closed/],
    ['<a/><b/>', /content after the root/],
    ['<a>\u0001</a>', /forbids/],
  ])('refuses %j', (text, error) => {
    expect(() => parseXml(text)).toThrow(error);
  });
});
