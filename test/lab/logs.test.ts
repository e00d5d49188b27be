/**
 * lab logs, the parts that need no cloud: run ids, the nodes' report lines, which node is asked
 * for what, the --since option, the deadline, and how a result with problems is told.
 */
import { journalSince } from '../../lib/lab/commands/logs.js';
import { UsageError } from '../../lib/lab/cli.js';
import {
  DEFAULT_LOGS_BUDGET,
  NODE_LOGS_FILE,
  SYSDUMP_FILE,
  collectionTimeoutMs,
  filesFor,
  formatLogsResult,
  logsProblems,
  newRunId,
  parseArtifactLines,
  type LogsResult,
} from '../../lib/lab/logs.js';
import type { DeployedNode } from '../../lib/lab/target.js';

const node = (name: string, role: DeployedNode['role']): DeployedNode => ({ name, role, instanceId: `i-${name}`, privateIp: '192.168.10.10', instanceType: 't3.xlarge', subnet: 'nodes' }) as DeployedNode;

describe('run ids', () => {
  it('sort by time and carry a random suffix', () => {
    expect(newRunId(new Date('2026-11-23T10:15:00.123Z'), () => 'a1b2')).toBe('20261123T101500Z-a1b2');
    const a = newRunId(new Date('2026-11-23T10:15:00Z'));
    const b = newRunId(new Date('2026-11-23T10:15:00Z'));
    expect(a).toMatch(/^20261123T101500Z-[0-9a-f]{4}$/);
    expect(a === b && a === newRunId(new Date('2026-11-23T10:15:00Z'))).toBe(false);
  });
});

describe('what each node is asked for', () => {
  it('gives the control plane the sysdump too, unless it is turned off', () => {
    expect(filesFor(node('k8s-s', 'control-plane'), { sysdump: true })).toEqual([NODE_LOGS_FILE, SYSDUMP_FILE]);
    expect(filesFor(node('k8s-s', 'control-plane'), { sysdump: false })).toEqual([NODE_LOGS_FILE]);
    expect(filesFor(node('k8s-w1', 'worker'), { sysdump: true })).toEqual([NODE_LOGS_FILE]);
    expect(filesFor(node('testpc', 'testpc'), { sysdump: true })).toEqual([NODE_LOGS_FILE]);
  });
});

describe('CILIUM_LAB_ARTIFACT lines', () => {
  it('are read with their error, ignoring chatter and malformed lines', () => {
    const stdout = [
      'collecting journald since 6 hours ago',
      'CILIUM_LAB_ARTIFACT {"name":"node-logs.tar.gz","bytes":1234,"sha256":"ab12","uploaded":true}',
      'CILIUM_LAB_ARTIFACT {not json',
      'CILIUM_LAB_ARTIFACT {"bytes":1}',
      'CILIUM_LAB_ARTIFACT {"name":"cilium-sysdump.zip","bytes":0,"sha256":"","uploaded":false,"error":"cilium sysdump failed (exit 124: timed out after 480 s)"}',
    ].join('\n');
    expect(parseArtifactLines(stdout)).toEqual([
      { name: 'node-logs.tar.gz', bytes: 1234, sha256: 'ab12', uploaded: true },
      { name: 'cilium-sysdump.zip', bytes: 0, sha256: '', uploaded: false, error: 'cilium sysdump failed (exit 124: timed out after 480 s)' },
    ]);
  });
});

describe('--since', () => {
  it.each([
    ['6h', '6 hours ago'],
    ['90m', '90 minutes ago'],
    ['2d', '2 days ago'],
  ])('turns %s into journalctl --since "%s"', (value, since) => {
    expect(journalSince(value)).toBe(since);
  });

  it.each(['6', '0h', 'yesterday', '6 hours', '-6h', '6h; rm -rf /'])('refuses %j, naming the option and the form', (value) => {
    expect(() => journalSince(value)).toThrow(UsageError);
    expect(() => journalSince(value)).toThrow(/--since .*<number><m\|h\|d>, e\.g\. --since 6h/);
  });
});

describe('the deadline of the remote step', () => {
  it('covers the sysdump and the uploads with their retries', () => {
    const ms = collectionTimeoutMs(DEFAULT_LOGS_BUDGET);
    expect(ms).toBeGreaterThan((DEFAULT_LOGS_BUDGET.sysdumpSeconds + 2 * DEFAULT_LOGS_BUDGET.uploadSeconds) * 1000);
    // It fits the nightly step's 25 minutes.
    expect(ms).toBeLessThan(25 * 60_000);
  });
});

describe('a result with problems', () => {
  const result: LogsResult = {
    runId: '20261123T101500Z-a1b2',
    bucket: 'cilium-lab-kans-111122223333-ap-northeast-2',
    outDir: 'out',
    files: [
      { node: 'k8s-s', name: NODE_LOGS_FILE, path: 'out/k8s-s/node-logs.tar.gz', bytes: 2048, sha256: 'ab' },
      { node: 'k8s-s', name: SYSDUMP_FILE, problem: 'cilium sysdump failed (exit 124: timed out after 480 s)' },
      { node: 'k8s-w1', name: NODE_LOGS_FILE, problem: 'the node did not report it' },
    ],
    nodeFailures: [{ node: 'k8s-w1', reason: 'TimedOut' }],
    deleted: 1,
    problems: [],
  };

  it('lists every missing file and failed node', () => {
    expect(logsProblems(result)).toEqual([
      'k8s-w1: the collection failed: TimedOut',
      'k8s-s/cilium-sysdump.zip: cilium sysdump failed (exit 124: timed out after 480 s)',
      'k8s-w1/node-logs.tar.gz: the node did not report it',
    ]);
  });

  it('prints a table with where each file went', () => {
    const text = formatLogsResult(result);
    expect(text.split('\n')[1]?.split(/\s{2,}/)).toEqual(['k8s-s', 'node-logs.tar.gz', '2.0 KiB', 'out/k8s-s/node-logs.tar.gz']);
    expect(text.split('\n')[3]).toMatch(/^k8s-w1\s+node-logs\.tar\.gz\s+-\s+missing: the node did not report it$/);
    expect(text).toContain('1 of 3 file(s) in out');
    expect(text).toContain('1 object(s) removed from s3://cilium-lab-kans-111122223333-ap-northeast-2');
  });

  it('has no problems when everything arrived', () => {
    expect(logsProblems({ ...result, files: [result.files[0]!], nodeFailures: [] })).toEqual([]);
  });
});
