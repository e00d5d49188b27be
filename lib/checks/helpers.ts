/**
 * Small helpers the scenarios share: exec with the evidence recorded, host scripts with the
 * evidence recorded, shell quoting, and the lab's Kubernetes names.
 */
import type { NodeRunResult, RemoteTarget } from '../lab/remote-runner.js';
import type { ExecResult, KubeWorkload } from '../kube/types.js';
import type { ScenarioRun } from './types.js';

export const KUBE_SYSTEM = 'kube-system';
export const CILIUM_AGENT_SELECTOR = 'k8s-app=cilium';
export const CILIUM_AGENT_CONTAINER = 'cilium-agent';

/** Quotes a word for sh/bash when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function formatExec(result: ExecResult): string {
  const parts = [`exit ${result.exitCode}${result.error ? ` (${result.error})` : ''}, ${(result.durationMs / 1000).toFixed(1)} s`];
  if (result.stdout.trim()) parts.push(result.stdout.trimEnd());
  if (result.stderr.trim()) parts.push(`[stderr]\n${result.stderr.trimEnd()}`);
  return parts.join('\n');
}

/**
 * An exec that ended without the command's exit status: the WebSocket to the API server and
 * kubelet broke, timed out or was refused (exit -1), not the command failing. Kept apart from
 * datapath failures: retried once, and worded as what it is.
 */
export function isTransportError(result: ExecResult): boolean {
  return result.exitCode === -1;
}

/**
 * Runs a command in a pod and records it (and its output) as evidence. A transport error (see
 * isTransportError) is retried once, both attempts recorded; if the retry fails the same way the
 * result's error says "exec transport error", so no verdict mistakes it for the datapath's.
 * Not retried after an interrupt.
 */
export async function execRecorded(
  run: ScenarioRun<unknown>,
  target: { readonly namespace: string; readonly pod: string; readonly container: string },
  command: readonly string[],
  timeoutMs = run.env.options.execTimeoutMs,
): Promise<ExecResult> {
  const label = `exec ${target.namespace}/${target.pod} [${target.container}]: ${command.map(shellQuote).join(' ')}`;
  const first = await run.env.kube.exec({ ...target, command, timeoutMs, signal: run.env.signal });
  if (!isTransportError(first) || run.env.signal.aborted) {
    run.record(label, formatExec(first));
    return first;
  }
  run.record(`${label} (attempt 1 of 2: exec transport error, retried)`, formatExec(first));
  const second = await run.env.kube.exec({ ...target, command, timeoutMs, signal: run.env.signal });
  run.record(`${label} (attempt 2 of 2)`, formatExec(second));
  return isTransportError(second) ? { ...second, error: `exec transport error, twice (${second.error || first.error || 'no exit status'}); the command's own result is unknown` } : second;
}

/** Runs a bash script on nodes over the RemoteRunner, recording each node's output. Skips when there is no runner. */
export async function remoteRecorded(
  run: ScenarioRun<unknown>,
  what: string,
  targets: readonly RemoteTarget[],
  script: string,
  timeoutMs = run.env.options.remoteTimeoutMs,
): Promise<NodeRunResult[]> {
  const remote = run.env.remote;
  if (!remote) run.skip('no access to the nodes (no SSM RemoteRunner in this run)');
  // Ctrl-C / SIGTERM cancels the SSM commands (CancelCommand) instead of leaving them running on the nodes.
  const results = await remote.runOnNodes(targets, script, { timeoutMs, comment: `cilium-lab check: ${what}`, signal: run.env.signal });
  for (const r of results) {
    const head = `${r.status}, exit ${r.exitCode}${r.note ? `; ${r.note}` : ''}${r.stdoutTruncated ? '; stdout cut by SSM' : ''}`;
    const body = [r.stdout.trimEnd(), r.stderr.trim() ? `[stderr]\n${r.stderr.trimEnd()}` : ''].filter(Boolean).join('\n');
    run.record(`ssm ${r.name} (${r.instanceId}): ${what}`, body ? `${head}\n${body}` : head);
  }
  return results;
}

/** "3/3 ready" or why not. */
export function describeWorkload(w: KubeWorkload | undefined, name: string): string {
  if (!w) return `${name}: not found`;
  return `${w.kind.toLowerCase()} ${w.namespace}/${w.name}: ${w.ready}/${w.desired} ready, ${w.available} available, ${w.updated} up to date`;
}

export function workloadReady(w: KubeWorkload | undefined): boolean {
  return w !== undefined && w.desired > 0 && w.ready >= w.desired && w.available >= w.desired;
}

/** Runs `fn` over items with at most `limit` at once, keeping the order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
