/**
 * `lab logs` end to end, offline: the real CLI and AWS services against loopback fakes of
 * CloudFormation, SSM and S3, where each node RUNS the collection script it is sent, for real, on
 * this machine (FakeSsmServer `execute`, as the agent would), and uploads with real curl to the
 * URL the real presigner made. Stand-ins play only the cluster tools (cilium, kubectl, crictl).
 * Then the CLI lists, downloads, checks sha256 and empties the bucket.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logsCommand } from '../../lib/lab/commands/logs.js';
import type { LogsResult } from '../../lib/lab/logs.js';
import { QUICK_TIMEOUTS, FakeLab, type LabScenario } from './harness.js';
import { collectStandInBin } from '../helpers/collect-stand-ins.js';

const commands = [logsCommand({ timeouts: QUICK_TIMEOUTS, budget: { sysdumpSeconds: 20, uploadSeconds: 5 } })];
const NODES = ['k8s-s', 'k8s-w1', 'k8s-w2', 'testpc'];

let work = '';
let stubLog = '';
/** What the nodes' scripts run with: the stand-ins first on PATH, the planted files. */
let nodeEnv: Record<string, string> = {};
const labs: FakeLab[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lab-logs-'));
  const bin = collectStandInBin(work);
  const root = join(work, 'root');
  mkdirSync(join(root, 'var/log/cilium-lab'), { recursive: true });
  mkdirSync(join(root, 'etc/kubernetes'), { recursive: true });
  writeFileSync(join(root, 'var/log/cilium-lab/bootstrap.log'), 'kubeadm init: done\n');
  writeFileSync(join(root, 'etc/kubernetes/admin.conf'), 'apiVersion: v1\nclient-key-data: NEVER-IN-A-TARBALL\n');
  mkdirSync(join(work, 'tmp'));
  stubLog = join(work, 'stub.log');
  nodeEnv = {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    LAB_COLLECT_ROOT: root,
    LAB_COLLECT_TMPDIR: join(work, 'tmp'),
    LAB_KUBECONFIG: join(root, 'etc/kubernetes/admin.conf'),
    STUB_LOG: stubLog,
  };
});

afterAll(async () => {
  await Promise.all(labs.map((lab) => lab.close()));
  rmSync(work, { recursive: true, force: true });
});

async function startLab(scenario: LabScenario = {}): Promise<FakeLab> {
  const lab = await FakeLab.start({ executeScripts: true, executeEnv: nodeEnv, ...scenario });
  labs.push(lab);
  writeFileSync(stubLog, '');
  return lab;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const collection = (out: string): LogsResult => JSON.parse(readFileSync(join(out, 'collection.json'), 'utf8')) as LogsResult;
const outDir = (name: string): string => join(work, 'out', name);
const putsOf = (lab: FakeLab) => lab.s3.callsTo('PutObject');

describe('lab logs on a lab whose nodes answer', () => {
  let lab: FakeLab;
  let out: string;
  let run: Awaited<ReturnType<FakeLab['run']>>;

  beforeAll(async () => {
    lab = await startLab();
    out = outDir('healthy');
    run = await lab.run(['logs', '--out', out, '--since', '2h'], commands);
  }, 60_000);

  it('collects every node and the sysdump, and exits 0', () => {
    expect([run.code, run.all]).toEqual([0, expect.stringContaining('5 of 5 file(s)')]);
    for (const node of NODES) expect(existsSync(join(out, node, 'node-logs.tar.gz'))).toBe(true);
    expect(existsSync(join(out, 'k8s-s', 'cilium-sysdump.zip'))).toBe(true);
    expect(existsSync(join(out, 'k8s-w1', 'cilium-sysdump.zip'))).toBe(false);
  });

  it('sends each node its own script (one Run Command per node), all in one go', () => {
    const sends = lab.ssm.calls.filter((c) => c.operation === 'SendCommand');
    expect(sends.map((c) => (c.body['InstanceIds'] as string[]).length)).toEqual([1, 1, 1, 1]);
    expect(new Set(sends.map((c) => (c.body['InstanceIds'] as string[])[0])).size).toBe(4);
    const sent = lab.ssm.scriptsSent();
    expect(new Set(sent).size).toBe(4);
    expect(sent.filter((s) => /LAB_SYSDUMP_URL='http/.test(s))).toHaveLength(1);
    expect(sent.every((s) => s.includes("LAB_LOGS_SINCE='2 hours ago'"))).toBe(true);
  });

  it('downloads exactly what the nodes uploaded (sha256 of the bytes S3 received)', () => {
    const puts = putsOf(lab);
    expect(puts.map((p) => p.key.split('/').slice(2).join('/')).sort()).toEqual(
      [...NODES.map((n) => `${n}/node-logs.tar.gz`), 'k8s-s/cilium-sysdump.zip'].sort(),
    );
    const result = collection(out);
    for (const file of result.files) {
      expect(file.problem).toBeUndefined();
      expect(sha256(readFileSync(file.path as string))).toBe(file.sha256);
    }
    expect(new Set(puts.map((p) => p.key.split('/')[1]))).toEqual(new Set([result.runId]));
  });

  it('uploads through presigned URLs (curl, no credentials on the node) and leaves the bucket empty', () => {
    for (const put of putsOf(lab)) expect(put.presigned).toBe(true);
    expect(lab.s3.keys(lab.bucket)).toEqual([]);
    expect(collection(out).deleted).toBe(5);
  });

  it('brings real node logs: the tarball holds collect.log and the bootstrap log, no kubeconfig', () => {
    const listing = execFileSync('tar', ['-tzf', join(out, 'k8s-w1', 'node-logs.tar.gz')], { encoding: 'utf8' });
    expect(listing).toContain('node-logs/collect.log');
    expect(listing).toContain('node-logs/files/var/log/cilium-lab/bootstrap.log');
    expect(execFileSync('tar', ['-xzOf', join(out, 'k8s-w1', 'node-logs.tar.gz')]).toString('utf8')).not.toContain('NEVER-IN-A-TARBALL');
  });

  it('runs cilium sysdump once, on the control plane only', () => {
    expect(readFileSync(stubLog, 'utf8').split('\n').filter((l) => l.startsWith('cilium sysdump'))).toHaveLength(1);
  });

  it('never prints a presigned URL', () => {
    expect(run.all).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);
    expect(readFileSync(join(out, 'collection.json'), 'utf8')).not.toMatch(/X-Amz-Signature/);
  });
});

describe('lab logs when something fails', () => {
  it('keeps what arrived, names the node whose upload S3 refused, and still empties the bucket', async () => {
    const lab = await startLab();
    lab.s3.inject('PutObject', 'AccessDenied', 1);
    const out = outDir('refused');
    const run = await lab.run(['logs', '--out', out, '--no-sysdump'], commands);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/\/node-logs\.tar\.gz: upload failed after 1 attempt: HTTP 403/);
    expect(run.all).toMatch(/: the collection failed: Failed \(exit 4\)/);
    const result = collection(out);
    expect(result.files.filter((f) => f.path)).toHaveLength(3);
    expect(lab.s3.keys(lab.bucket)).toEqual([]);
    expect(readFileSync(stubLog, 'utf8')).not.toContain('cilium sysdump');
  }, 60_000);

  it('reports a node whose agent never ran the script, and collects the others', async () => {
    const lab = await startLab({ nodes: { 'k8s-w2': { execute: false, answers: {} } } });
    const out = outDir('one-node-down');
    const run = await lab.run(['logs', '--out', out, '--no-sysdump'], commands);
    expect(run.code).toBe(1);
    expect(run.all).toContain('k8s-w2: the collection failed: Failed (exit 99)');
    expect(run.all).toContain('k8s-w2/node-logs.tar.gz: the node did not report it');
    expect(collection(out).files.filter((f) => f.path).map((f) => f.node).sort()).toEqual(['k8s-s', 'k8s-w1', 'testpc']);
  }, 60_000);

  it('refuses a file whose bytes differ from what the node reported (corrupt in transit)', async () => {
    // k8s-w1 "uploads" other bytes than it reports: the object is put straight into the bucket at
    // the key of the URL it was sent, and its line carries the sha256 of different content.
    const lie = (script: string) => {
      const url = new URL(/LAB_NODE_LOGS_URL='([^']+)'/.exec(script)?.[1] as string);
      const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
      lab.s3.putObject(lab.bucket, key, 'tampered');
      return { stdout: `CILIUM_LAB_ARTIFACT {"name":"node-logs.tar.gz","bytes":8,"sha256":"${sha256(Buffer.from('original'))}","uploaded":true}\n` };
    };
    const lab: FakeLab = await startLab({ nodes: { 'k8s-w1': { execute: false, answers: { logs: lie } } } });
    const out = outDir('corrupt');
    const run = await lab.run(['logs', '--out', out, '--no-sysdump'], commands);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/k8s-w1\/node-logs\.tar\.gz: corrupt: the node sent 8 bytes sha256 [0-9a-f]{64}, the bucket gave 8 bytes sha256 [0-9a-f]{64}/);
    expect(lab.s3.keys(lab.bucket)).toEqual([]);
  }, 60_000);

  it('collects the other nodes when SSM refuses one (agent gone), and cleans up only after all settled', async () => {
    const lab = await startLab({ nodes: { 'k8s-w2': { ping: ['Absent'] } } });
    const out = outDir('agent-gone');
    const run = await lab.run(['logs', '--out', out, '--no-sysdump', '--json'], commands);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/k8s-w2: the collection failed: .*InvalidInstanceId/);
    const result = collection(out);
    expect(result.files.filter((f) => f.path).map((f) => f.node).sort()).toEqual(['k8s-s', 'k8s-w1', 'testpc']);
    const lastPut = Math.max(...lab.s3.calls.map((c, i) => (c.operation === 'PutObject' ? i : -1)));
    const firstDelete = lab.s3.calls.findIndex((c) => c.operation === 'DeleteObjects');
    expect(firstDelete).toBeGreaterThan(lastPut);
    expect(lab.s3.keys(lab.bucket)).toEqual([]);
    // --json keeps what arrived, not only the error.
    const report = JSON.parse(run.result) as { ok: boolean; result?: LogsResult };
    expect(report.ok).toBe(false);
    expect(report.result?.files.filter((f) => f.path)).toHaveLength(3);
  }, 60_000);

  it('goes on after a download that breaks, naming the file', async () => {
    const lab = await startLab();
    lab.s3.inject('GetObject', 'CutBody', 1);
    const out = outDir('cut-download');
    const run = await lab.run(['logs', '--out', out, '--no-sysdump'], commands);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/\/node-logs\.tar\.gz: download failed: /);
    const result = collection(out);
    expect(result.files.filter((f) => f.path)).toHaveLength(3);
    expect(result.files.filter((f) => f.problem?.startsWith('download failed'))).toHaveLength(1);
    expect(lab.s3.keys(lab.bucket)).toEqual([]);
  }, 60_000);

  it('keeps the downloaded files when the bucket cannot be emptied, and says so', async () => {
    const lab = await startLab();
    const out = outDir('no-delete');
    // Deny the delete of whichever key k8s-w1 uploads (the run id is only known once it runs).
    const deny = setInterval(() => {
      for (const key of lab.s3.keys(lab.bucket).filter((k) => k.includes('/k8s-w1/'))) lab.s3.failDelete(lab.bucket, key);
    }, 5);
    const run = await lab.run(['logs', '--out', out, '--no-sysdump'], commands).finally(() => clearInterval(deny));
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/the run's objects are still in s3:\/\/.*expire within a day/);
    const result = collection(out);
    expect(result.files.filter((f) => f.path)).toHaveLength(4);
    expect(result.files.every((f) => f.problem === undefined)).toBe(true);
  }, 60_000);

  it('tells a lab deployed before the artifacts bucket existed to redeploy, before any command runs', async () => {
    const lab = await startLab({ noArtifactsBucket: true });
    const run = await lab.run(['logs', '--out', outDir('old-stack')], commands);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/has no artifacts bucket \(output ArtifactsBucket\).*redeploy with npx cdk deploy/);
    expect(lab.ssm.calls).toEqual([]);
    expect(lab.s3.calls).toEqual([]);
  });

  it('refuses a bad --since before any AWS call', async () => {
    const lab = await startLab();
    const run = await lab.run(['logs', '--since', 'yesterday'], commands);
    expect(run.code).toBe(2);
    expect(run.all).toContain('--since yesterday: give how far back the node logs go as <number><m|h|d>');
    expect(lab.totalCalls()).toBe(0);
  });
});
