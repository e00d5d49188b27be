/**
 * Deadlines, poll intervals and backoff of the lifecycle commands, in one place so tests can
 * shorten them (with real timers) and production keeps sane defaults.
 */

export interface LifecycleTiming {
  /** Pause between two DescribeStacks while a stack is being deleted. */
  readonly stackPollMs: number;
  /** How long one DeleteStack may take before `down` gives up. */
  readonly stackDeleteTimeoutMs: number;
  /** How long ENIs and security groups may stay busy (DependencyViolation) before `down` gives up on them. */
  readonly leftoverTimeoutMs: number;
  /** Backoff between two delete attempts of a busy ENI or security group: from base, doubling, up to max. */
  readonly leftoverBackoffBaseMs: number;
  readonly leftoverBackoffMaxMs: number;
  /** Pause between two DescribeInstances while instances stop or start. */
  readonly instancePollMs: number;
  /** How long stopping or starting may take. */
  readonly instanceTimeoutMs: number;
  /** How long the SSM agents may take to come Online after a start. */
  readonly agentsTimeoutMs: number;
  /**
   * How long `down` keeps re-checking resources the tagging API still lists as present before it
   * reports them left over: resources of a deleted stack disappear from their services with a
   * delay (eventual consistency), and the tagging API lags further.
   */
  readonly verifySettleMs: number;
  /** Pause between two of those checks. */
  readonly verifyPollMs: number;
}

export const DEFAULT_TIMING: LifecycleTiming = {
  stackPollMs: 10_000,
  // A lab deletes in 3-6 minutes (instances terminate, then the VPC); 20 minutes leaves room for
  // ENIs that Kubernetes or Cilium detach late, and keeps `lab down`'s worst case (two attempts)
  // inside the nightly teardown's credentials (lib/lifecycle/nightly-budget.ts).
  stackDeleteTimeoutMs: 20 * 60_000,
  leftoverTimeoutMs: 5 * 60_000,
  leftoverBackoffBaseMs: 2_000,
  leftoverBackoffMaxMs: 20_000,
  instancePollMs: 5_000,
  instanceTimeoutMs: 10 * 60_000,
  agentsTimeoutMs: 10 * 60_000,
  verifySettleMs: 2 * 60_000,
  verifyPollMs: 10_000,
};

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Exponential backoff without jitter (one caller per resource): base * 2^attempt, capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
}

export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

/**
 * Calls `check` every `intervalMs` until it returns a value (not undefined), or throws a
 * DeadlineError built by `timeoutMessage` once the next poll would start after `deadline`.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, intervalMs: number, deadline: number, timeoutMessage: () => string): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() + intervalMs > deadline) throw new DeadlineError(timeoutMessage());
    await sleep(intervalMs);
  }
}

/**
 * Parses a duration such as `90m`, `2h`, `1h30m`, `1d`, `45s` (units s, m, h, d, in that
 * order of size, each at most once) into milliseconds; undefined when it is not one.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, d, h, m, s] = match.map((part) => (part === undefined ? 0 : Number(part)));
  const ms = ((((d ?? 0) * 24 + (h ?? 0)) * 60 + (m ?? 0)) * 60 + (s ?? 0)) * 1000;
  return ms > 0 ? ms : undefined;
}

/** 9_000_000 -> "2h30m"; 45_000 -> "45s". */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(seconds / size);
    if (count > 0) parts.push(`${count}${unit}`);
    seconds -= count * size;
  }
  return parts.length > 0 ? parts.join('') : '0s';
}
