/**
 * The port for running scripts on the lab's nodes: what lib/lab and lib/checks know of remote
 * execution (targets, options, per-node results, failure messages). lib/aws/ssm-runner.ts
 * implements it over SSM Run Command; tests hand in fakes. Nothing here imports an SDK.
 */

/** SSM returns at most this many characters of a command's stdout (the first ones). */
export const SSM_STDOUT_LIMIT = 24_000;
/** SSM returns at most this many characters of a command's stderr (the first ones). */
export const SSM_STDERR_LIMIT = 8_000;
/** SendCommand accepts at most 50 instance IDs. */
export const MAX_TARGETS_PER_COMMAND = 50;
/**
 * SendCommand refuses a command whose document (with its parameters) is over 64 KB
 * (MaxDocumentSizeExceeded: "The size limit of a document is 64 KB", SSM API reference).
 */
export const SSM_COMMAND_MAX_BYTES = 64 * 1024;
/**
 * Room kept under that limit for the AWS-RunShellScript document around the parameters (its own
 * JSON is about 1 KB; the API reference does not say whether it counts, so it is assumed to).
 */
export const SSM_DOCUMENT_MARGIN_BYTES = 4 * 1024;
/** The largest script that fits once base64-encoded (4/3) inside the bash wrapper, with the document's margin. */
export const MAX_SCRIPT_BYTES = 44_000;

export interface RemoteTarget {
  /** The lab's name for the node (control-plane, worker-1, ...), used in results and messages. */
  readonly name: string;
  readonly instanceId: string;
}

export interface RetryOptions {
  /** First backoff ceiling; doubles per consecutive retry ("full jitter": sleep is random in [0, ceiling]). */
  readonly baseMs?: number;
  /** Largest backoff ceiling. */
  readonly maxMs?: number;
}

export interface RunOptions {
  /**
   * Budget for the whole run, from SendCommand to the last result. Nodes without a terminal status
   * by then are cancelled (CancelCommand) and reported TimedOut. Also sent to the agent as the
   * document's executionTimeout, so the node stops the script on its own too.
   */
  readonly timeoutMs: number;
  /** Pause between two GetCommandInvocation calls for one node. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Backoff for InvocationDoesNotExist, throttling and transient errors. Default 200 ms .. 5 s. */
  readonly retry?: RetryOptions;
  /** Extra time after the deadline for CancelCommand itself (with its retries). Default 10 s. */
  readonly cancelBudgetMs?: number;
  /** Shown in the SSM console and ListCommands (SSM keeps the first 100 characters). */
  readonly comment?: string;
  /**
   * Ctrl-C / SIGTERM: when it aborts, the runner stops waiting, cancels what it sent
   * (CancelCommand) and rejects with RemoteInterruptedError. Aborted before sending: nothing is sent.
   */
  readonly signal?: AbortSignal;
}

/** The run was interrupted (RunOptions.signal): what was sent has been cancelled. */
export class RemoteInterruptedError extends Error {
  constructor(
    message: string,
    readonly commandIds: readonly string[],
  ) {
    super(message);
    this.name = 'RemoteInterruptedError';
  }
}

/**
 * Terminal outcomes. `Status` of GetCommandInvocation is one of Success, Failed, Cancelled, TimedOut;
 * `StatusDetails` is finer (DeliveryTimedOut, ExecutionTimedOut, Undeliverable, Terminated) and is
 * reported when present.
 */
export type NodeRunStatus =
  | 'Success'
  | 'Failed'
  | 'Cancelled'
  | 'TimedOut'
  | 'DeliveryTimedOut'
  | 'ExecutionTimedOut'
  | 'Undeliverable'
  | 'Terminated';

export interface NodeRunResult {
  readonly name: string;
  readonly instanceId: string;
  readonly commandId: string;
  readonly status: NodeRunStatus;
  /** The script's exit code (SSM ResponseCode); -1 when it never finished on the node. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout reached SSM's 24,000-character cap: what follows was cut off. */
  readonly stdoutTruncated: boolean;
  /** stderr reached SSM's 8,000-character cap: what follows was cut off. */
  readonly stderrTruncated: boolean;
  /** From SendCommand until the runner saw the terminal status (so within one poll interval of the end). */
  readonly durationMs: number;
  /** No terminal status before the run's deadline: the runner cancelled the invocation (status TimedOut). */
  readonly deadlineExceeded: boolean;
  /** Why a node ended without an SSM verdict (deadline, cancel outcome); empty otherwise. */
  readonly note: string;
}

/** Runs one bash script on several nodes at once. */
export interface RemoteRunner {
  runOnNodes(targets: readonly RemoteTarget[], script: string, options: RunOptions): Promise<NodeRunResult[]>;
}

/** Thrown by `assertAllSucceeded`; carries every node's result. */
export class RemoteRunError extends Error {
  constructor(
    message: string,
    readonly results: readonly NodeRunResult[],
  ) {
    super(message);
    this.name = 'RemoteRunError';
  }
}

/** The last `count` non-empty lines of `text`. */
function tail(text: string, count: number): string[] {
  const lines = text.split('\n').map((line) => line.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-count);
}

/**
 * One message naming each node that did not succeed, its status and exit code, and the last lines
 * of its stderr; undefined when every node succeeded.
 */
export function describeFailures(results: readonly NodeRunResult[], what = 'remote script', tailLines = 5): string | undefined {
  const failed = results.filter((r) => r.status !== 'Success');
  if (failed.length === 0) return undefined;
  const parts = failed.map((r) => {
    const exit = r.exitCode >= 0 ? `exit code ${r.exitCode}` : 'no exit code';
    const head = `  - ${r.name} (${r.instanceId}): ${r.status}, ${exit}${r.note ? `; ${r.note}` : ''}`;
    const lines = tail(r.stderr, tailLines);
    if (lines.length === 0) return `${head}\n      (stderr empty)`;
    const cut = r.stderrTruncated
      ? `\n      (stderr cut by SSM at ${SSM_STDERR_LIMIT} characters: these are not its real last lines)`
      : '';
    return `${head}${cut}\n${lines.map((line) => `      | ${line}`).join('\n')}`;
  });
  return `cilium-lab: ${what} failed on ${failed.length} of ${results.length} node(s):\n${parts.join('\n')}`;
}

/** Throws a RemoteRunError built by `describeFailures` unless every node succeeded. */
export function assertAllSucceeded(results: readonly NodeRunResult[], what = 'remote script'): void {
  const message = describeFailures(results, what);
  if (message !== undefined) throw new RemoteRunError(message, results);
}
