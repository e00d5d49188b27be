/**
 * `lab logs`: every node's logs, and the control plane's Cilium sysdump, on the operator's
 * machine (or as CI artifacts), for when a run failed.
 *
 * SSM returns only the first 24,000 characters of a command's output, so the files go through
 * the lab's artifacts bucket (lib/infra/lab-artifacts.ts):
 *   1. per node, the CLI presigns a PUT URL for each file (valid for this run only) and runs
 *      scripts/node/collect-logs.sh there, one Run Command per node (each script carries its
 *      own URLs), all nodes at once;
 *   2. each node uploads with curl and prints `CILIUM_LAB_ARTIFACT {json}` per file, with its
 *      size and sha256;
 *   3. the CLI downloads every object of the run, checks size and sha256 against what the node
 *      reported, and writes `collection.json` beside the files;
 *   4. once every node has settled, it deletes the run's objects, whatever happened (the bucket
 *      is a transfer buffer; a lifecycle rule removes what a crash stranded after a day, and the
 *      stack's deletion empties the bucket after the instances are gone).
 * A node that fails does not stop the others: what could be collected is written, and the
 * command then fails naming every node and file that is missing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactKey, artifactsRunPrefix } from '../config/artifacts.js';
import type { NodeRunResult } from './remote-runner.js';
import { renderLabScript, runStep, taggedLines, type PhaseDeps } from './remote.js';
import type { DeployedNode, LabTarget } from './target.js';

export const NODE_LOGS_FILE = 'node-logs.tar.gz';
export const SYSDUMP_FILE = 'cilium-sysdump.zip';

export interface LogsOptions {
  /** Where the files go: <outDir>/<node>/<file>, and <outDir>/collection.json. */
  readonly outDir: string;
  /** How far back journald goes, as `journalctl --since` takes it (e.g. "6 hours ago"). */
  readonly since: string;
  /** Run `cilium sysdump` on the control plane. */
  readonly sysdump: boolean;
  /** Names this collection in the bucket (logs/<runId>/...). */
  readonly runId: string;
}

/** Budgets of a collection, in seconds (the remote step's deadline is derived from them). */
export interface LogsBudget {
  readonly sysdumpSeconds: number;
  readonly uploadSeconds: number;
}

export const DEFAULT_LOGS_BUDGET: LogsBudget = { sysdumpSeconds: 480, uploadSeconds: 120 };

/** collect-logs.sh retries one file's upload for up to this many times LAB_UPLOAD_TIMEOUT_SECONDS. */
export const UPLOAD_WINDOW_FACTOR = 2;

/** What a node said about one file (its `CILIUM_LAB_ARTIFACT` line). */
export interface ReportedArtifact {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly uploaded: boolean;
  readonly error?: string;
}

export interface CollectedFile {
  readonly node: string;
  readonly name: string;
  /** Where it was written; absent when it was not collected. */
  readonly path?: string;
  readonly bytes?: number;
  readonly sha256?: string;
  /** Why it is missing or not trustworthy; absent when it arrived intact. */
  readonly problem?: string;
}

export interface LogsResult {
  readonly runId: string;
  readonly bucket: string;
  readonly outDir: string;
  readonly files: readonly CollectedFile[];
  /** Nodes whose collection script failed or did not answer, with the reason. */
  readonly nodeFailures: readonly { readonly node: string; readonly reason: string }[];
  /** Objects deleted from the bucket afterwards. */
  readonly deleted: number;
  /** What went wrong with the bucket itself (listing it, emptying it). */
  readonly problems: readonly string[];
}

export class LogsError extends Error {
  constructor(
    message: string,
    readonly result?: LogsResult,
  ) {
    super(message);
    this.name = 'LogsError';
  }
}

/** A run id that sorts by time and does not collide between two runs in the same second: 20261123T101500Z-a1b2. */
export function newRunId(now: Date, random: () => string = () => randomBytes(2).toString('hex')): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${random()}`;
}

/** The files a node is asked for: every node its logs, the control plane also the sysdump. */
export function filesFor(node: DeployedNode, options: Pick<LogsOptions, 'sysdump'>): string[] {
  return node.role === 'control-plane' && options.sysdump ? [NODE_LOGS_FILE, SYSDUMP_FILE] : [NODE_LOGS_FILE];
}

/** The `CILIUM_LAB_ARTIFACT` lines of a node's output; malformed lines are left out. */
export function parseArtifactLines(stdout: string): ReportedArtifact[] {
  const reported: ReportedArtifact[] = [];
  for (const line of taggedLines(stdout, 'CILIUM_LAB_ARTIFACT')) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const v = value as Record<string, unknown>;
    if (typeof v.name !== 'string' || typeof v.uploaded !== 'boolean') continue;
    reported.push({
      name: v.name,
      bytes: typeof v.bytes === 'number' ? v.bytes : 0,
      sha256: typeof v.sha256 === 'string' ? v.sha256 : '',
      uploaded: v.uploaded,
      ...(typeof v.error === 'string' && v.error !== '' ? { error: v.error } : {}),
    });
  }
  return reported;
}

/** Gathering the node's own logs (collect-logs.sh stops at 100 s), delivery by SSM, and slack. */
const GATHER_SECONDS = 240;

/** The deadline of the remote step: gathering, the sysdump, and two files' upload windows. */
export function collectionTimeoutMs(budget: LogsBudget): number {
  return (GATHER_SECONDS + budget.sysdumpSeconds + 2 * UPLOAD_WINDOW_FACTOR * budget.uploadSeconds) * 1000;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The collection script for one node, its URLs filled in. */
export async function collectionScript(deps: PhaseDeps, bucket: string, node: DeployedNode, options: LogsOptions, budget: LogsBudget): Promise<string> {
  const expires = Math.ceil(collectionTimeoutMs(budget) / 1000) + 300;
  const url = (file: string) => deps.services.artifacts.uploadUrl(bucket, artifactKey(options.runId, node.name, file), expires);
  const files = filesFor(node, options);
  return renderLabScript('collect-logs.sh', {
    LAB_NODE_LOGS_URL: await url(NODE_LOGS_FILE),
    LAB_SYSDUMP_URL: files.includes(SYSDUMP_FILE) ? await url(SYSDUMP_FILE) : '',
    LAB_LOGS_SINCE: options.since,
    LAB_SYSDUMP_TIMEOUT_SECONDS: String(budget.sysdumpSeconds),
    LAB_UPLOAD_TIMEOUT_SECONDS: String(budget.uploadSeconds),
  });
}

/** Why a node's run failed, in one line (never its stdout: that is where the files' facts are). */
function runFailure(result: NodeRunResult): string | undefined {
  if (result.status === 'Success') return undefined;
  const tail = result.stderr.trim().split('\n').slice(-3).join(' | ');
  return `${result.status}${result.exitCode !== undefined ? ` (exit ${result.exitCode})` : ''}${tail ? `: ${tail}` : ''}`;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Collects the logs of every node of the lab into options.outDir. Never gives up on the others
 * for one node or one file: a node whose run fails, a download that breaks, a bucket that cannot
 * be emptied are each recorded in the result (and in collection.json), not thrown.
 */
export async function collectLogs(deps: PhaseDeps, target: LabTarget, options: LogsOptions, budget: LogsBudget = DEFAULT_LOGS_BUDGET): Promise<LogsResult> {
  const bucket = target.artifactsBucket;
  if (!bucket) {
    throw new LogsError(`stack ${target.stackName} has no artifacts bucket (output ArtifactsBucket): it was deployed by an older cilium-lab; redeploy with npx cdk deploy, then run lab logs again`);
  }
  const { artifacts } = deps.services;
  const prefix = artifactsRunPrefix(options.runId);
  const timeoutMs = collectionTimeoutMs(budget);
  // Every node settles (done, failed, or cancelled at the deadline by the runner) before the
  // bucket is read or emptied: nothing of this run is uploaded after the clean-up.
  const runs = await Promise.allSettled(
    target.nodes.map(async (node) => {
      const script = await collectionScript(deps, bucket, node, options, budget);
      const [result] = await runStep(deps, [node], script, 'logs', timeoutMs);
      return result;
    }),
  );
  let stored: ReadonlyMap<string, number> | undefined;
  const problems: string[] = [];
  try {
    stored = new Map((await artifacts.list(bucket, prefix)).map((o) => [o.key, o.bytes]));
  } catch (error) {
    problems.push(`cannot list s3://${bucket}/${prefix} (${messageOf(error)}): downloading what the nodes reported instead`);
  }
  const files: CollectedFile[] = [];
  const nodeFailures: { node: string; reason: string }[] = [];
  for (const [index, node] of target.nodes.entries()) {
    const run = runs[index] as PromiseSettledResult<NodeRunResult | undefined>;
    const result = run.status === 'fulfilled' ? run.value : undefined;
    const failure = run.status === 'rejected' ? messageOf(run.reason) : result ? runFailure(result) : 'no result from SSM';
    if (failure) nodeFailures.push({ node: node.name, reason: failure });
    const reported = new Map(parseArtifactLines(result?.stdout ?? '').map((a) => [a.name, a]));
    for (const name of filesFor(node, options)) {
      try {
        files.push(await fetchOne(deps, bucket, options, node.name, name, reported.get(name), stored));
      } catch (error) {
        files.push({ node: node.name, name, problem: `download failed: ${messageOf(error)}` });
      }
    }
  }
  // Always: the bucket is a transfer buffer. A clean-up that fails is a problem of the result,
  // never an exception that would hide the files already downloaded.
  let deleted = 0;
  try {
    const keys = (await artifacts.list(bucket, prefix)).map((o) => o.key);
    if (keys.length > 0) await artifacts.remove(bucket, keys);
    deleted = keys.length;
  } catch (error) {
    problems.push(`the run's objects are still in s3://${bucket}/${prefix} (${messageOf(error)}); they expire within a day, and lab down empties the bucket`);
  }
  const result: LogsResult = { runId: options.runId, bucket, outDir: options.outDir, files, nodeFailures, deleted, problems };
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, 'collection.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

async function fetchOne(
  deps: PhaseDeps,
  bucket: string,
  options: LogsOptions,
  node: string,
  name: string,
  reported: ReportedArtifact | undefined,
  stored: ReadonlyMap<string, number> | undefined,
): Promise<CollectedFile> {
  const key = artifactKey(options.runId, node, name);
  const there = stored ? stored.has(key) : reported?.uploaded === true;
  if (!there) {
    const why = reported?.error ?? (reported ? 'the node reported an upload, but the bucket has no such object' : 'the node did not report it');
    return { node, name, problem: why };
  }
  const path = join(options.outDir, node, name);
  await mkdir(join(options.outDir, node), { recursive: true });
  const bytes = await deps.services.artifacts.download(bucket, key, path);
  const sha256 = await sha256File(path);
  if (!reported) return { node, name, path, bytes, sha256, problem: 'the node did not report this file: its size and sha256 are unchecked' };
  if (reported.bytes !== bytes || reported.sha256 !== sha256) {
    return { node, name, path, bytes, sha256, problem: `corrupt: the node sent ${reported.bytes} bytes sha256 ${reported.sha256 || '?'}, the bucket gave ${bytes} bytes sha256 ${sha256}` };
  }
  return { node, name, path, bytes, sha256, ...(reported.error ? { problem: reported.error } : {}) };
}

/** The problems of a collection, one line each (empty: everything arrived intact). */
export function logsProblems(result: LogsResult): string[] {
  return [
    ...result.problems,
    ...result.nodeFailures.map((f) => `${f.node}: the collection failed: ${f.reason}`),
    ...result.files.filter((f) => f.problem !== undefined).map((f) => `${f.node}/${f.name}: ${f.problem}`),
  ];
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A table of the files, then the problems. */
export function formatLogsResult(result: LogsResult): string {
  const width = Math.max(4, ...result.files.map((f) => f.node.length));
  const rows = result.files.map((f) => `${f.node.padEnd(width)}  ${f.name.padEnd(20)}  ${size(f.bytes).padStart(10)}  ${f.path ?? `missing: ${f.problem ?? ''}`}`);
  const problems = logsProblems(result);
  return [
    `${'node'.padEnd(width)}  ${'file'.padEnd(20)}  ${'size'.padStart(10)}  where`,
    ...rows,
    '',
    `Collection ${result.runId}: ${result.files.filter((f) => f.path).length} of ${result.files.length} file(s) in ${result.outDir} (details: collection.json); ${result.deleted} object(s) removed from s3://${result.bucket}.`,
    ...(problems.length > 0 ? ['', 'Problems:', ...problems.map((p) => `  - ${p}`)] : []),
  ].join('\n');
}
