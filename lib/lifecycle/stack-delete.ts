/**
 * Deleting a lab's stack: DeleteStack, then DescribeStacks (by the stack's ARN, which keeps
 * answering after the name is free) until DELETE_COMPLETE, "does not exist", DELETE_FAILED or the
 * deadline. On DELETE_FAILED the caller sweeps the leftovers again and the stack gets one more
 * DeleteStack; a second failure names the resources CloudFormation could not delete.
 */
import type { LifecycleCloud, StackFailure, StackInfo } from './cloud.js';
import { pollUntil, type LifecycleTiming } from './timing.js';

/** Events are compared with this machine's clock: allow it to be this far ahead of AWS's. */
const CLOCK_SKEW_MS = 2 * 60_000;

export type AttemptOutcome = { readonly kind: 'deleted' } | { readonly kind: 'failed'; readonly reason: string; readonly failures: readonly StackFailure[] };

export class StackDeleteError extends Error {
  constructor(
    message: string,
    readonly failures: readonly StackFailure[],
  ) {
    super(message);
    this.name = 'StackDeleteError';
  }
}

export function describeFailure(failure: StackFailure): string {
  return `${failure.logicalId} (${failure.type}${failure.physicalId ? ` ${failure.physicalId}` : ''})${failure.reason ? `: ${failure.reason}` : ''}`;
}

/** The resources a failure names, newest event per resource, leaving out the stack's own summary event. */
export function resourceFailures(failures: readonly StackFailure[], stackName: string): StackFailure[] {
  const seen = new Set<string>();
  const out: StackFailure[] = [];
  for (const failure of [...failures].sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime())) {
    if (failure.type === 'AWS::CloudFormation::Stack' && failure.logicalId === stackName) continue;
    if (seen.has(failure.logicalId)) continue;
    seen.add(failure.logicalId);
    out.push(failure);
  }
  return out;
}

/** One DeleteStack and the wait for its end. */
export async function deleteStackOnce(cloud: LifecycleCloud, stack: StackInfo, timing: LifecycleTiming): Promise<AttemptOutcome> {
  const started = new Date();
  await cloud.deleteStack(stack.stackId);
  const deadline = Date.now() + timing.stackDeleteTimeoutMs;
  let polls = 0;
  let seenInProgress = false;
  let last = stack.status;
  const end = await pollUntil<AttemptOutcome | { kind: 'failed-pending'; reason: string }>(
    async () => {
      polls++;
      const now = await cloud.describeStack(stack.stackId);
      if (!now || now.status === 'DELETE_COMPLETE') return { kind: 'deleted' };
      last = now.status;
      if (now.status === 'DELETE_IN_PROGRESS') seenInProgress = true;
      // A DELETE_FAILED left over from an earlier attempt may show for a moment after DeleteStack.
      if (now.status === 'DELETE_FAILED' && (seenInProgress || polls >= 3)) return { kind: 'failed-pending', reason: now.statusReason ?? 'DELETE_FAILED' };
      return undefined;
    },
    timing.stackPollMs,
    deadline,
    () => `stack ${stack.stackName} is still ${last} ${Math.round(timing.stackDeleteTimeoutMs / 1000)} s after DeleteStack; look at its events in the CloudFormation console, then run lab down again`,
  );
  if (end.kind !== 'failed-pending') return end;
  const failures = resourceFailures(await cloud.deleteFailures(stack.stackId, new Date(started.getTime() - CLOCK_SKEW_MS)), stack.stackName);
  return { kind: 'failed', reason: end.reason, failures };
}

export interface StackDeletion {
  readonly stackName: string;
  readonly stackId: string;
  readonly statusBefore: string;
  /** 1, or 2 when the first DeleteStack ended DELETE_FAILED. */
  readonly attempts: number;
  /** What CloudFormation could not delete on the first attempt (empty when it went through at once). */
  readonly firstFailures: readonly StackFailure[];
}

/**
 * Deletes the stack; on DELETE_FAILED runs `beforeRetry` (sweep the leftovers again) and tries
 * once more. Throws a StackDeleteError naming the resources when the second attempt fails too.
 */
export async function deleteStack(
  cloud: LifecycleCloud,
  stack: StackInfo,
  timing: LifecycleTiming,
  beforeRetry: (failures: readonly StackFailure[]) => Promise<void>,
  info: (line: string) => void = () => {},
): Promise<StackDeletion> {
  const first = await deleteStackOnce(cloud, stack, timing);
  const base = { stackName: stack.stackName, stackId: stack.stackId, statusBefore: stack.status };
  if (first.kind === 'deleted') return { ...base, attempts: 1, firstFailures: [] };
  info(`  DELETE_FAILED (${first.reason}); CloudFormation could not delete:`);
  for (const failure of first.failures) info(`    - ${describeFailure(failure)}`);
  await beforeRetry(first.failures);
  info('  retrying DeleteStack once');
  const second = await deleteStackOnce(cloud, stack, timing);
  if (second.kind === 'deleted') return { ...base, attempts: 2, firstFailures: first.failures };
  const named = second.failures.length > 0 ? second.failures : first.failures;
  throw new StackDeleteError(
    `stack ${stack.stackName} could not be deleted (DELETE_FAILED twice: ${second.reason}). CloudFormation could not delete:\n${named
      .map((f) => `  - ${describeFailure(f)}`)
      .join('\n')}\nRemove these by hand (or what holds them), then run lab down again.`,
    named,
  );
}
