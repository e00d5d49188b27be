/**
 * Polling with a deadline (ARCHITECTURE.md convention 7): a wait reads, pauses, reads again, and
 * when the deadline passes it fails with the last state or error it saw, never with a bare
 * "timed out". No Kubernetes import here: lib/checks uses it too.
 */
import { WaitTimeoutError } from './types.js';

export interface PollOptions {
  readonly timeoutMs: number;
  /** @default 1000 */
  readonly pollIntervalMs?: number;
  readonly signal?: AbortSignal;
}

/** One read: done with a value, or not yet with a description of what was seen. */
export type PollStep<T> = { readonly done: true; readonly value: T } | { readonly done: false; readonly seen: string };

/** The reason an aborted wait gives (SIGINT during `lab check`). */
export class AbortedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'AbortedError';
  }
}

/** Sleeps `ms`, or rejects with AbortedError as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(String(signal.reason ?? 'interrupted')));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError(String(signal?.reason ?? 'interrupted')));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `step` until it reports done or the deadline passes. A thrown error counts as "not yet"
 * (the API server may blink) and is kept as the last thing seen; `fatal` errors end the wait at once.
 * Throws WaitTimeoutError("<what> not ... within Ns; last seen: ...").
 */
export async function pollUntil<T>(
  what: string,
  step: () => Promise<PollStep<T>>,
  options: PollOptions,
  fatal: (error: unknown) => boolean = () => false,
): Promise<T> {
  const interval = options.pollIntervalMs ?? 1_000;
  const deadline = Date.now() + options.timeoutMs;
  let seen = 'nothing read yet';
  for (;;) {
    if (options.signal?.aborted) throw new AbortedError(`${what}: interrupted; last seen: ${seen}`);
    try {
      const result = await step();
      if (result.done) return result.value;
      seen = result.seen;
    } catch (error) {
      if (fatal(error) || error instanceof AbortedError) throw error;
      seen = `error: ${(error as Error).message ?? String(error)}`;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new WaitTimeoutError(`${what} within ${(options.timeoutMs / 1000).toFixed(1)} s; last seen: ${seen}`, seen);
    }
    await sleep(Math.min(interval, remaining), options.signal);
  }
}
