/**
 * Remote execution on the lab's nodes over SSM Run Command (document AWS-RunShellScript).
 *
 * The rest of the code base sees only `RemoteRunner` and plain result objects; this file is the
 * one place that knows the SSM API (SendCommand, ListCommandInvocations, GetCommandInvocation, CancelCommand,
 * DescribeInstanceInformation) and its quirks:
 *   - Right after SendCommand an invocation is not listed yet, and GetCommandInvocation answers
 *     InvocationDoesNotExist (eventual consistency): both are ridden out within the run's deadline.
 *   - AWS-RunShellScript runs the commands as `sh -c _script.sh` (dash on Ubuntu), so the script
 *     is shipped base64-encoded and handed to bash explicitly (see `bashCommand`).
 *   - Output is capped by SSM: the first 24,000 characters of stdout, 8,000 of stderr.
 *   - A multi-target command stops dispatching after MaxErrors failures (default 0), so the
 *     runner sets MaxErrors and MaxConcurrency to 100%: one failing node never holds back another.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html
 */
import {
  CancelCommandCommand,
  CommandInvocationStatus,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  PingStatus,
  SSMClient,
  SendCommandCommand,
  type CommandInvocation,
  type GetCommandInvocationCommandOutput,
  type ListCommandInvocationsCommandOutput,
  type SSMClientConfig,
} from '@aws-sdk/client-ssm';
import { setMaxListeners } from 'node:events';
import {
  SSM_STDERR_LIMIT,
  SSM_STDOUT_LIMIT,
  MAX_SCRIPT_BYTES,
  SSM_DOCUMENT_MARGIN_BYTES,
  MAX_TARGETS_PER_COMMAND,
  SSM_COMMAND_MAX_BYTES,
  RemoteInterruptedError,
  RemoteRunError,
  assertAllSucceeded,
  describeFailures,
  type NodeRunResult,
  type NodeRunStatus,
  type RemoteRunner,
  type RemoteTarget,
  type RetryOptions,
  type RunOptions,
} from '../lab/remote-runner.js';

// The port's names, for the callers of this adapter (lib/lab/remote-runner.ts defines them).
export { SSM_STDERR_LIMIT, SSM_STDOUT_LIMIT, MAX_SCRIPT_BYTES, MAX_TARGETS_PER_COMMAND, SSM_COMMAND_MAX_BYTES, SSM_DOCUMENT_MARGIN_BYTES, RemoteInterruptedError, RemoteRunError, assertAllSucceeded, describeFailures };
export type { NodeRunResult, NodeRunStatus, RemoteRunner, RemoteTarget, RetryOptions, RunOptions };

const TERMINAL_STATUSES: ReadonlySet<string> = new Set<string>([
  CommandInvocationStatus.SUCCESS,
  CommandInvocationStatus.FAILED,
  CommandInvocationStatus.CANCELLED,
  CommandInvocationStatus.TIMED_OUT,
]);
const TERMINAL_DETAILS: ReadonlySet<string> = new Set<NodeRunStatus>([
  'Success',
  'Failed',
  'Cancelled',
  'TimedOut',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
]);

/** The terminal status of an invocation, or undefined while it is Pending/InProgress/Delayed/Cancelling. */
export function terminalStatus(out: Pick<GetCommandInvocationCommandOutput, 'Status' | 'StatusDetails'>): NodeRunStatus | undefined {
  // The API reference spells StatusDetails both "DeliveryTimedOut" and "Delivery Timed Out".
  const details = out.StatusDetails?.replace(/\s+/g, '');
  if (details && TERMINAL_DETAILS.has(details)) return details as NodeRunStatus;
  if (out.Status && TERMINAL_STATUSES.has(out.Status)) return out.Status as NodeRunStatus;
  return undefined;
}

/**
 * The one command sent to AWS-RunShellScript. The agent writes the commands to `_script.sh` and
 * runs `sh -c _script.sh`; `sh` is dash on Ubuntu, where `[[`, arrays and `pipefail` break. So the
 * script goes base64-encoded (no quoting to get wrong) and is run by bash as `bash -c`, which keeps
 * the script's stdin untouched (unlike piping it into `bash -s`) and leaves no file behind. `exec`
 * makes bash's exit code the invocation's ResponseCode.
 */
export function bashCommand(script: string): string {
  const bytes = Buffer.byteLength(script, 'utf8');
  if (bytes > MAX_SCRIPT_BYTES) {
    throw new Error(`cilium-lab: the remote script is ${bytes} bytes; at most ${MAX_SCRIPT_BYTES} fit in one SSM command`);
  }
  const encoded = Buffer.from(script, 'utf8').toString('base64');
  // MAX_SCRIPT_BYTES keeps this under SSM_COMMAND_MAX_BYTES less the document's margin (test/aws/ssm-runner.test.ts).
  return `exec bash -c "$(printf '%s' '${encoded}' | base64 -d)" cilium-lab-remote`;
}

const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
]);
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set(['InternalServerError', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

interface SdkErrorLike {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: { readonly throttling?: boolean };
}

function errorName(error: unknown): string {
  return (error as SdkErrorLike | undefined)?.name ?? '';
}

/** Throttling as the SDK classifies it: by error name, HTTP 429, or the retryable-throttling trait. */
export function isThrottlingError(error: unknown): boolean {
  const e = error as SdkErrorLike | undefined;
  return THROTTLING_ERRORS.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429 || e?.$retryable?.throttling === true;
}

function isTransientError(error: unknown): boolean {
  const e = error as SdkErrorLike | undefined;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return TRANSIENT_ERRORS.has(e?.name ?? '') || TRANSIENT_NETWORK_CODES.has(e?.code ?? '') || (status >= 500 && status <= 599);
}

function isRetryable(error: unknown): boolean {
  return isThrottlingError(error) || isTransientError(error);
}

/** GetCommandInvocation still shows a running invocation the listing already called finished. */
class NotTerminalYet extends Error {
  constructor(status: string) {
    super(`GetCommandInvocation still says ${status}`);
    this.name = 'NotTerminalYet';
  }
}

function isAbortError(error: unknown): boolean {
  return errorName(error) === 'AbortError' || errorName(error) === 'TimeoutError';
}

function describeError(error: unknown): string {
  const e = error as SdkErrorLike | undefined;
  return e?.name && e.message ? `${e.name}: ${e.message}` : String(error);
}

/** Sleeps `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A signal for one API call: aborted when `stop` aborts or after `ms`. Built by hand rather than
 * with AbortSignal.any so the listener on the long-lived `stop` is removed when the call is done.
 */
function callSignal(stop: AbortSignal, ms: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const onStop = (): void => controller.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException('the run deadline passed', 'TimeoutError')), ms);
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    },
  };
}

/** "Full jitter" exponential backoff: random in [0, min(max, base * 2^attempt)]. */
function backoffMs(attempt: number, retry: RetryOptions | undefined): number {
  const base = retry?.baseMs ?? 200;
  const max = retry?.maxMs ?? 5_000;
  return Math.random() * Math.min(max, base * 2 ** Math.min(attempt, 30));
}

/**
 * Calls `call` until it succeeds, retrying errors `retryable` accepts with backoff, never sleeping
 * past `deadline` (epoch ms). The last error is rethrown when the deadline leaves no room.
 */
async function withRetries<T>(
  call: () => Promise<T>,
  retryable: (error: unknown) => boolean,
  deadline: number,
  retry: RetryOptions | undefined,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const pause = backoffMs(attempt, retry);
      if (signal?.aborted || !retryable(error) || Date.now() + pause >= deadline) throw error;
      await sleep(pause, signal);
    }
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/**
 * An SSMClient for the lab. `endpoint`, `credentials` and `maxAttempts` are for tests and tools
 * that point it at a local fake; the defaults are the SDK's (credential chain, 3 attempts).
 */
export function createSsmClient(config: Pick<SSMClientConfig, 'region' | 'endpoint' | 'credentials' | 'maxAttempts'>): SSMClient {
  return new SSMClient(config);
}

interface SentBatch {
  readonly commandId: string;
  readonly targets: readonly RemoteTarget[];
}

/**
 * RemoteRunner over SSM Run Command. One multi-target SendCommand per 50 nodes rather than one per
 * node: one API call instead of N (fewer requests to be throttled under a 20-node lab), one
 * CommandId that names the whole run in the console and in ListCommandInvocations, and
 * CancelCommand still takes the subset of instances to stop. Each command is followed with one
 * ListCommandInvocations per poll interval (all its nodes' statuses; a 51-node lab is two calls,
 * not 51), and each node's output is read once, with GetCommandInvocation, when it is done.
 */
export class SsmRunner implements RemoteRunner {
  constructor(private readonly ssm: SSMClient) {}

  async runOnNodes(targets: readonly RemoteTarget[], script: string, options: RunOptions): Promise<NodeRunResult[]> {
    if (targets.length === 0) return [];
    const ids = targets.map((t) => t.instanceId);
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) throw new Error(`cilium-lab: instance ${duplicate} is targeted twice`);
    if (!(options.timeoutMs > 0)) throw new Error('cilium-lab: RunOptions.timeoutMs must be positive');

    const interrupted = (ids: readonly string[]): RemoteInterruptedError =>
      new RemoteInterruptedError(
        `cilium-lab: interrupted (${String(options.signal?.reason ?? 'aborted')})${ids.length > 0 ? `: SSM command(s) ${ids.join(', ')} cancelled` : ' before anything was sent'}`,
        ids,
      );
    if (options.signal?.aborted) throw interrupted([]);
    const commands = [bashCommand(script)];
    const started = Date.now();
    const deadline = started + options.timeoutMs;

    const sending = await Promise.allSettled(
      chunk(targets, MAX_TARGETS_PER_COMMAND).map((batch) => this.send(batch, commands, options, deadline)),
    );
    const sent = sending.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const sendFailure = sending.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (sendFailure) {
      await this.cancelQuietly(sent, options);
      throw new Error(`cilium-lab: SSM SendCommand failed: ${describeError(sendFailure.reason)}`, { cause: sendFailure.reason });
    }

    // One poller per command (a batch of up to 50 nodes): a listing per interval, not a call per node.
    // A non-retryable error (access denied, unknown command) stops every poller.
    const stop = new AbortController();
    setMaxListeners(4 * sent.length + 10, stop.signal);
    // Ctrl-C / SIGTERM (or an interrupt that came while SendCommand was in flight) stops every poller too.
    const onInterrupt = (): void => stop.abort(interrupted(sent.map((b) => b.commandId)));
    if (options.signal?.aborted) onInterrupt();
    else options.signal?.addEventListener('abort', onInterrupt, { once: true });
    const polls = sent.map((batch) =>
      this.pollBatch(batch, started, deadline, options, stop.signal).catch((error: unknown) => {
        if (!stop.signal.aborted) stop.abort(error);
        throw error;
      }),
    );
    const settled = await Promise.allSettled(polls);
    options.signal?.removeEventListener('abort', onInterrupt);
    if (stop.signal.aborted) {
      await this.cancelQuietly(sent, options);
      const reason: unknown = stop.signal.reason;
      if (reason instanceof RemoteInterruptedError) throw reason;
      throw new Error(
        `cilium-lab: polling SSM command(s) ${sent.map((b) => b.commandId).join(', ')} failed, so they were cancelled: ${describeError(reason)}`,
        { cause: reason },
      );
    }
    const results = settled.flatMap((s) => (s as PromiseFulfilledResult<NodeRunResult[]>).value);
    const finished = await this.cancelTimedOut(results, options);
    const byInstance = new Map(finished.map((r) => [r.instanceId, r]));
    return targets.map((t) => byInstance.get(t.instanceId) as NodeRunResult);
  }

  /** waitForAgentsOnline with this runner's client. */
  waitForAgentsOnline(instanceIds: readonly string[], deadline: number, options?: WaitForAgentsOptions): Promise<void> {
    return waitForAgentsOnline(this.ssm, instanceIds, deadline, options);
  }

  private async send(batch: readonly RemoteTarget[], commands: string[], options: RunOptions, deadline: number): Promise<SentBatch> {
    const seconds = Math.ceil(options.timeoutMs / 1000);
    const output = await withRetries(
      () =>
        this.ssm.send(
          new SendCommandCommand({
            DocumentName: 'AWS-RunShellScript',
            InstanceIds: batch.map((t) => t.instanceId),
            Parameters: {
              commands,
              // The agent kills the script after this (1 .. 172800 s); our deadline cancels too.
              executionTimeout: [String(clamp(seconds, 1, 172_800))],
            },
            // Delivery timeout: how long SSM may wait for an agent to pick the command up (30 s minimum).
            TimeoutSeconds: clamp(seconds, 30, 2_592_000),
            MaxConcurrency: '100%',
            MaxErrors: '100%',
            ...(options.comment ? { Comment: options.comment.slice(0, 100) } : {}),
          }),
          { abortSignal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) },
        ),
      isRetryable,
      deadline,
      options.retry,
    );
    const commandId = output.Command?.CommandId;
    if (!commandId) throw new Error('SendCommand returned no CommandId');
    return { commandId, targets: batch };
  }

  /**
   * Polls one command until every node of its batch is terminal or the deadline passes: one
   * ListCommandInvocations (every page) per interval gives every node's status; a node that turns
   * terminal is read once with GetCommandInvocation (its output; the listing has none). Nodes not
   * listed yet (SSM's eventual consistency right after SendCommand) are simply not done yet.
   */
  private async pollBatch(batch: SentBatch, started: number, deadline: number, options: RunOptions, stop: AbortSignal): Promise<NodeRunResult[]> {
    // Adaptive: a throttled listing doubles the pause between listings (up to 8x); each answered
    // one halves it back toward the configured interval.
    const baseInterval = options.pollIntervalMs ?? 1_000;
    let interval = baseInterval;
    const done = new Map<string, NodeRunResult>();
    const lastStatus = new Map<string, string>();
    let lastError: unknown;
    let attempt = 0;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        const listed = await this.listInvocations(batch.commandId, stop, remaining);
        attempt = 0;
        interval = Math.max(baseInterval, Math.floor(interval / 2));
        const terminal: { target: RemoteTarget; status: NodeRunStatus }[] = [];
        for (const target of batch.targets) {
          if (done.has(target.instanceId)) continue;
          const invocation = listed.get(target.instanceId);
          if (!invocation) continue;
          lastStatus.set(target.instanceId, invocation.StatusDetails ?? invocation.Status ?? 'unknown');
          const status = terminalStatus(invocation);
          if (status) terminal.push({ target, status });
        }
        const outputs = await Promise.all(
          terminal.map(({ target }) =>
            this.readInvocation(batch.commandId, target, deadline, options, stop).then(
              (output) => ({ output, note: '' }),
              (error: unknown) => {
                if (stop.aborted || !(error instanceof NotTerminalYet || errorName(error) === 'InvocationDoesNotExist' || isRetryable(error))) throw error;
                return { output: {}, note: `finished, but its output could not be read before the deadline (${describeError(error)})` };
              },
            ),
          ),
        );
        terminal.forEach(({ target, status }, i) => {
          const output = outputs[i]?.output ?? {};
          // The status GetCommandInvocation gave with the output, else the listing's.
          const own = terminalStatus(output as Pick<GetCommandInvocationCommandOutput, 'Status' | 'StatusDetails'>) ?? status;
          done.set(target.instanceId, this.result(batch.commandId, target, own, output, Date.now() - started, false, outputs[i]?.note ?? ''));
        });
        if (done.size === batch.targets.length) break;
        await sleep(Math.min(interval, deadline - Date.now()), stop);
      } catch (error) {
        if (stop.aborted) throw stop.reason;
        // Only our own deadline ends the polling; an SDK-level timeout of one call is a blip.
        if (Date.now() >= deadline) break;
        if (!isAbortError(error) && !isRetryable(error)) throw error;
        lastError = error;
        if (isThrottlingError(error)) interval = Math.min(8 * baseInterval, interval * 2);
        await sleep(Math.min(Math.max(interval, backoffMs(attempt++, options.retry)), deadline - Date.now()), stop);
      }
    }
    return batch.targets.map((target) => {
      const result = done.get(target.instanceId);
      if (result) return result;
      const status = lastStatus.get(target.instanceId);
      const seen = status ? `last status ${status}` : `never listed (${describeError(lastError ?? 'not in ListCommandInvocations yet')})`;
      const note = `no terminal status within ${(options.timeoutMs / 1000).toFixed(1)} s, ${seen}`;
      return this.result(batch.commandId, target, 'TimedOut', {}, Date.now() - started, true, note);
    });
  }

  /** Every invocation of a command by instance id (ListCommandInvocations, all pages, Details false). */
  private async listInvocations(commandId: string, stop: AbortSignal, remaining: number): Promise<Map<string, CommandInvocation>> {
    const found = new Map<string, CommandInvocation>();
    let token: string | undefined;
    do {
      const call = callSignal(stop, remaining);
      const page: ListCommandInvocationsCommandOutput = await this.ssm
        .send(new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: 50, ...(token ? { NextToken: token } : {}) }), { abortSignal: call.signal })
        .finally(call.done);
      for (const invocation of page.CommandInvocations ?? []) if (invocation.InstanceId) found.set(invocation.InstanceId, invocation);
      token = page.NextToken;
    } while (token);
    return found;
  }

  /**
   * One node's finished invocation with its output, retried through InvocationDoesNotExist,
   * throttling and a GetCommandInvocation that lags the listing (not terminal yet: no exit code,
   * partial output) until the deadline. Its own status is the one reported.
   */
  private async readInvocation(commandId: string, target: RemoteTarget, deadline: number, options: RunOptions, stop: AbortSignal): Promise<Partial<GetCommandInvocationCommandOutput>> {
    return withRetries(
      async () => {
        const call = callSignal(stop, Math.max(1, deadline - Date.now()));
        const output = await this.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: target.instanceId }), { abortSignal: call.signal }).finally(call.done);
        if (!terminalStatus(output)) throw new NotTerminalYet(output.StatusDetails ?? output.Status ?? 'unknown');
        return output;
      },
      (error) => error instanceof NotTerminalYet || errorName(error) === 'InvocationDoesNotExist' || isRetryable(error),
      deadline,
      options.retry,
      stop,
    );
  }

  private result(
    commandId: string,
    target: RemoteTarget,
    status: NodeRunStatus,
    output: Partial<GetCommandInvocationCommandOutput>,
    durationMs: number,
    deadlineExceeded: boolean,
    note: string,
  ): NodeRunResult {
    const stdout = output.StandardOutputContent ?? '';
    const stderr = output.StandardErrorContent ?? '';
    return {
      name: target.name,
      instanceId: target.instanceId,
      commandId,
      status,
      exitCode: output.ResponseCode ?? -1,
      stdout,
      stderr,
      stdoutTruncated: stdout.length >= SSM_STDOUT_LIMIT,
      stderrTruncated: stderr.length >= SSM_STDERR_LIMIT,
      durationMs,
      deadlineExceeded,
      note,
    };
  }

  /** One CancelCommand per command for the nodes past the deadline; its outcome goes into their note. */
  private async cancelTimedOut(results: NodeRunResult[], options: RunOptions): Promise<NodeRunResult[]> {
    const late = results.filter((r) => r.deadlineExceeded);
    const commandIds = [...new Set(late.map((r) => r.commandId))];
    const outcomes = new Map<string, string>();
    await Promise.all(
      commandIds.map(async (commandId) => {
        const instanceIds = late.filter((r) => r.commandId === commandId).map((r) => r.instanceId);
        try {
          await this.cancel(commandId, instanceIds, options);
          outcomes.set(commandId, 'CancelCommand sent');
        } catch (error) {
          outcomes.set(commandId, `CancelCommand failed (${describeError(error)}): the script may still be running`);
        }
      }),
    );
    return results.map((r) => (r.deadlineExceeded ? { ...r, note: `${r.note}; ${outcomes.get(r.commandId)}` } : r));
  }

  private async cancel(commandId: string, instanceIds: string[] | undefined, options: RunOptions): Promise<void> {
    const budget = options.cancelBudgetMs ?? 10_000;
    await withRetries(
      () =>
        this.ssm.send(new CancelCommandCommand({ CommandId: commandId, ...(instanceIds ? { InstanceIds: instanceIds } : {}) }), {
          abortSignal: AbortSignal.timeout(budget),
        }),
      isRetryable,
      Date.now() + budget,
      options.retry,
    );
  }

  private async cancelQuietly(batches: readonly SentBatch[], options: RunOptions): Promise<void> {
    await Promise.allSettled(batches.map((b) => this.cancel(b.commandId, undefined, options)));
  }
}

/** Thrown by waitForAgentsOnline at its deadline; `notOnline` maps each such instance to its last PingStatus. */
export class AgentsNotOnlineError extends Error {
  constructor(
    message: string,
    readonly notOnline: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'AgentsNotOnlineError';
  }
}

export interface WaitForAgentsOptions {
  /** Pause between two DescribeInstanceInformation rounds. Default 5 s. */
  readonly pollIntervalMs?: number;
  readonly retry?: RetryOptions;
}

/**
 * Waits until the SSM agent of every instance reports PingStatus Online, or throws an
 * AgentsNotOnlineError at `deadline` (epoch ms, as Date.now()) naming each instance that is not,
 * with the last status seen.
 */
export async function waitForAgentsOnline(
  ssm: SSMClient,
  instanceIds: readonly string[],
  deadline: number,
  options: WaitForAgentsOptions = {},
): Promise<void> {
  const interval = options.pollIntervalMs ?? 5_000;
  const lastSeen = new Map<string, string>(instanceIds.map((id) => [id, 'not registered with SSM']));
  let lastError: unknown;
  for (;;) {
    try {
      for (const ids of chunk(instanceIds, MAX_TARGETS_PER_COMMAND)) {
        let nextToken: string | undefined;
        do {
          const page = await withRetries(
            () =>
              ssm.send(
                new DescribeInstanceInformationCommand({
                  Filters: [{ Key: 'InstanceIds', Values: ids }],
                  MaxResults: 50,
                  ...(nextToken ? { NextToken: nextToken } : {}),
                }),
                { abortSignal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) },
              ),
            isRetryable,
            deadline,
            options.retry,
          );
          for (const info of page.InstanceInformationList ?? []) {
            if (info.InstanceId && lastSeen.has(info.InstanceId)) lastSeen.set(info.InstanceId, info.PingStatus ?? 'no PingStatus');
          }
          nextToken = page.NextToken;
        } while (nextToken);
      }
      lastError = undefined;
    } catch (error) {
      if (!isRetryable(error) && !isAbortError(error)) throw error;
      lastError = error;
    }
    const offline = [...lastSeen].filter(([, status]) => status !== PingStatus.ONLINE);
    if (offline.length === 0) return;
    if (Date.now() + interval >= deadline) {
      const list = offline.map(([id, status]) => `${id} (${status})`).join(', ');
      const cause = lastError ? `; last error: ${describeError(lastError)}` : '';
      throw new AgentsNotOnlineError(
        `cilium-lab: the SSM agent is not Online on ${offline.length} instance(s) by the deadline: ${list}${cause}`,
        Object.fromEntries(offline),
      );
    }
    await sleep(interval);
  }
}
