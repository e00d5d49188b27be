/**
 * A local stand-in for the SSM API, spoken to by the real SSMClient over HTTP, so the runner is
 * tested through the SDK's own serialisation, signing and error parsing.
 *
 * Protocol (AWS JSON 1.1, as the SDK sends it): `POST /`, `Content-Type: application/x-amz-json-1.1`,
 * `X-Amz-Target: AmazonSSM.<Operation>`, a SigV4 `Authorization` header, a JSON body. Errors are
 * HTTP 400 with `{"__type": "<Code>", "message": "..."}`: for JSON-RPC protocols the SDK reads the
 * code from `__type` first (then `code`, then the `x-amzn-ErrorType` header) and keeps what follows a
 * `#`, so `com.amazonaws.ssm#ThrottlingException` would parse the same.
 *
 * Per instance, a `FakeNode` scripts how its invocation behaves over time (appearance latency,
 * run time, exit code, output, throttling, never finishing), or `execute: true` runs the received
 * commands for real the way the agent does (`sh -c _script.sh`, where sh is dash on Debian/Ubuntu).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSsmClient } from '../../lib/aws/ssm-runner.js';
import { LoopbackFake, readBody } from '../helpers/loopback.js';

export type FakePing = 'Online' | 'ConnectionLost' | 'Inactive' | 'Absent';

export interface FakeNode {
  /** For this long after SendCommand, GetCommandInvocation answers InvocationDoesNotExist. */
  readonly appearAfterMs?: number;
  /** Then the invocation stays InProgress this long before turning terminal. */
  readonly runMs?: number;
  /** 0 (default) ends in Success, anything else in Failed with this ResponseCode. */
  readonly exitCode?: number;
  readonly stdout?: string;
  readonly stderr?: string;
  /** For this long after the invocation ended (and is listed so), GetCommandInvocation still shows it running: the two APIs' eventual consistency. */
  readonly getLagMs?: number;
  /** The first N GetCommandInvocation calls for this instance answer ThrottlingException. */
  readonly throttleFirst?: number;
  /** Stays InProgress until cancelled. */
  readonly neverFinish?: boolean;
  /** Ends with this StatusDetails instead of Success/Failed. */
  readonly statusDetails?: 'DeliveryTimedOut' | 'ExecutionTimedOut' | 'Undeliverable' | 'Terminated';
  /** Runs the received commands as the agent does: writes `_script.sh`, runs `sh -c <path>`. */
  readonly execute?: boolean;
  /** With `execute`: added to this process's environment for the script (jest's process.env does not reach child processes). */
  readonly executeEnv?: Readonly<Record<string, string>>;
  /** PingStatus per DescribeInstanceInformation round (the last one repeats); default Online. */
  readonly ping?: readonly FakePing[];
  /**
   * Answers per script: called at SendCommand with the bash script the runner shipped (decoded
   * from its base64), its result overrides this node's scripted fields for that invocation.
   */
  readonly respond?: (script: string) => FakeResponse;
}

/** What one invocation does, decided from its script (see FakeNode.respond). */
export type FakeResponse = Pick<FakeNode, 'exitCode' | 'stdout' | 'stderr' | 'runMs' | 'neverFinish' | 'statusDetails' | 'execute' | 'executeEnv'>;

/** The bash script inside the one command SsmRunner sends (`bashCommand`), or the command itself. */
export function decodeShippedScript(command: string): string {
  const match = /printf '%s' '([A-Za-z0-9+/=]*)' \| base64 -d/.exec(command);
  return match ? Buffer.from(match[1] as string, 'base64').toString('utf8') : command;
}

export interface FakeSsmOptions {
  readonly nodes: Readonly<Record<string, FakeNode>>;
  /** The first N SendCommand calls answer ThrottlingException. */
  readonly throttleSendCommand?: number;
  /** The first N ListCommandInvocations calls answer ThrottlingException. */
  readonly throttleList?: number;
}

export interface RecordedCall {
  readonly operation: string;
  readonly body: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
  readonly at: number;
  /** The error code answered, if any. */
  errorType?: string;
}

/** SSM's caps on returned output. */
const STDOUT_CAP = 24_000;
const STDERR_CAP = 8_000;
const CANCELLING_MS = 50;

interface Execution {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exitCode?: number;
  timedOut: boolean;
  endedAt?: number;
}

interface Invocation {
  readonly commandId: string;
  readonly instanceId: string;
  readonly node: FakeNode;
  readonly sentAt: number;
  readonly comment: string;
  cancelledAt?: number;
  execution?: Execution;
}

interface View {
  readonly Status: string;
  readonly StatusDetails: string;
  readonly ResponseCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly endedAt?: number;
}

class FakeError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const TERMINAL = new Set(['Success', 'Failed', 'Cancelled', 'TimedOut']);

/** Status that SSM pairs with each detailed terminal state (from the user guide; unverified for Terminated). */
const STATUS_OF_DETAILS: Record<NonNullable<FakeNode['statusDetails']>, string> = {
  DeliveryTimedOut: 'TimedOut',
  ExecutionTimedOut: 'TimedOut',
  Undeliverable: 'Failed',
  Terminated: 'Failed',
};

export class FakeSsmServer extends LoopbackFake {
  readonly calls: RecordedCall[] = [];
  private readonly invocations = new Map<string, Invocation>();
  private listCalls = 0;
  private readonly getCalls = new Map<string, number>();
  private readonly pingRound = new Map<string, number>();
  private readonly workDirs: string[] = [];
  private sendCommandCalls = 0;

  private constructor(private readonly options: FakeSsmOptions) {
    super();
  }

  static start(options: FakeSsmOptions): Promise<FakeSsmServer> {
    return new FakeSsmServer(options).listen();
  }

  /**
   * A real SSMClient pointed at this fake. maxAttempts 1 turns the SDK's own retries off (its
   * standard mode would retry ThrottlingException itself), so every retry the tests see is the runner's.
   */
  client(): ReturnType<typeof createSsmClient> {
    return createSsmClient({
      region: 'eu-west-1',
      endpoint: this.endpoint,
      credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret' },
      maxAttempts: 1,
    });
  }

  /** The scripts SendCommand carried (decoded), in order, optionally only those sent to one instance. */
  scriptsSent(instanceId?: string): string[] {
    return this.callsTo('SendCommand')
      .filter((c) => c.errorType === undefined)
      .filter((c) => instanceId === undefined || (c.body['InstanceIds'] as string[] | undefined)?.includes(instanceId))
      .map((c) => decodeShippedScript(String(((c.body['Parameters'] as Record<string, unknown[]>)['commands'] ?? [])[0] ?? '')));
  }

  /** Recorded calls of one operation, optionally for one instance (GetCommandInvocation). */
  callsTo(operation: string, instanceId?: string): RecordedCall[] {
    return this.calls.filter((c) => c.operation === operation && (instanceId === undefined || c.body['InstanceId'] === instanceId));
  }

  override async close(): Promise<void> {
    for (const invocation of this.invocations.values()) invocation.execution?.child.kill('SIGKILL');
    await super.close();
    for (const dir of this.workDirs) rmSync(dir, { recursive: true, force: true });
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : target;
    let body: Record<string, unknown> = {};
    const call: RecordedCall = { operation, body, headers: req.headers, at: Date.now() };
    this.calls.push(call);
    try {
      if (req.method !== 'POST' || req.url !== '/') throw new FakeError('UnknownOperationException', `${req.method} ${req.url}`);
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
        throw new FakeError('SerializationException', `unexpected content-type ${req.headers['content-type']}`);
      }
      if (!String(req.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256 Credential=')) {
        throw new FakeError('MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
      Object.assign(call, { body });
      const answer = this.dispatch(operation, body);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(answer));
    } catch (error) {
      const e = error instanceof FakeError ? error : new FakeError('InternalServerError', String(error));
      call.errorType = e.type;
      res.writeHead(e.type === 'InternalServerError' ? 500 : 400, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
      });
      res.end(JSON.stringify({ __type: e.type, message: e.message }));
    }
  }

  private dispatch(operation: string, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'SendCommand':
        return this.sendCommand(body);
      case 'GetCommandInvocation':
        return this.getCommandInvocation(body);
      case 'ListCommandInvocations':
        return this.listCommandInvocations(body);
      case 'CancelCommand':
        return this.cancelCommand(body);
      case 'DescribeInstanceInformation':
        return this.describeInstanceInformation(body);
      default:
        throw new FakeError('UnknownOperationException', `unknown operation ${operation}`);
    }
  }

  private sendCommand(body: Record<string, unknown>): unknown {
    if (++this.sendCommandCalls <= (this.options.throttleSendCommand ?? 0)) throw new FakeError('ThrottlingException', 'Rate exceeded');
    if (body['DocumentName'] !== 'AWS-RunShellScript') throw new FakeError('InvalidDocument', `document ${String(body['DocumentName'])} not found`);
    const instanceIds = body['InstanceIds'];
    if (!Array.isArray(instanceIds) || instanceIds.length < 1 || instanceIds.length > 50) {
      throw new FakeError('ValidationException', "Value at 'instanceIds' failed to satisfy constraint: Member must have length between 1 and 50");
    }
    const timeout = body['TimeoutSeconds'];
    if (timeout !== undefined && (typeof timeout !== 'number' || timeout < 30 || timeout > 2_592_000)) {
      throw new FakeError('ValidationException', `Value '${String(timeout)}' at 'timeoutSeconds' failed to satisfy constraint: Member must be between 30 and 2592000`);
    }
    const comment = body['Comment'];
    if (typeof comment === 'string' && comment.length > 100) throw new FakeError('ValidationException', "'comment' is longer than 100");
    for (const key of ['MaxConcurrency', 'MaxErrors'] as const) {
      const value = body[key];
      if (value !== undefined && !/^([0-9]+|[0-9]{1,2}%|100%)$/.test(String(value))) throw new FakeError('ValidationException', `bad ${key} ${String(value)}`);
    }
    const parameters = (body['Parameters'] ?? {}) as Record<string, unknown>;
    const commands = parameters['commands'];
    if (!Array.isArray(commands) || commands.length === 0 || !commands.every((c) => typeof c === 'string')) {
      throw new FakeError('InvalidParameters', 'Parameter "commands" is required and must be a list of strings');
    }
    const executionTimeout = (parameters['executionTimeout'] as unknown[] | undefined)?.[0] ?? '3600';
    const seconds = Number(executionTimeout);
    if (!/^[1-9][0-9]*$/.test(String(executionTimeout)) || seconds > 172_800) {
      throw new FakeError('InvalidParameters', `executionTimeout ${String(executionTimeout)} must be 1..172800`);
    }
    for (const id of instanceIds) {
      if (!this.options.nodes[id as string] || this.currentPing(id as string) === 'Absent') {
        throw new FakeError('InvalidInstanceId', `Instances [[${String(id)}]] not in a valid state for account 000000000000`);
      }
    }
    const commandId = randomUUID();
    const now = Date.now();
    for (const id of instanceIds as string[]) {
      const scripted = this.options.nodes[id] as FakeNode;
      const node: FakeNode = scripted.respond ? { ...scripted, ...scripted.respond(decodeShippedScript(commands[0] as string)) } : scripted;
      const invocation: Invocation = { commandId, instanceId: id, node, sentAt: now, comment: String(comment ?? '') };
      if (node.execute) invocation.execution = this.execute(commands as string[], seconds, node.executeEnv);
      this.invocations.set(`${commandId}/${id}`, invocation);
    }
    return {
      Command: {
        CommandId: commandId,
        DocumentName: 'AWS-RunShellScript',
        DocumentVersion: '$DEFAULT',
        Comment: comment ?? '',
        ExpiresAfter: now / 1000 + Number(timeout ?? 3600) + seconds,
        Parameters: parameters,
        InstanceIds: instanceIds,
        Targets: [],
        RequestedDateTime: now / 1000,
        Status: 'Pending',
        StatusDetails: 'Pending',
        MaxConcurrency: body['MaxConcurrency'] ?? '50',
        MaxErrors: body['MaxErrors'] ?? '0',
        TargetCount: instanceIds.length,
        CompletedCount: 0,
        ErrorCount: 0,
        DeliveryTimedOutCount: 0,
        TimeoutSeconds: timeout ?? 3600,
      },
    };
  }

  /** As the agent: the commands go to `_script.sh` (mode 0700), run as `sh -c <path>`, killed after executionTimeout. */
  private execute(commands: string[], executionTimeoutSeconds: number, env: Readonly<Record<string, string>> = {}): Execution {
    const dir = mkdtempSync(join(tmpdir(), 'fake-ssm-'));
    this.workDirs.push(dir);
    const script = join(dir, '_script.sh');
    writeFileSync(script, commands.join('\n'));
    chmodSync(script, 0o700);
    const child = spawn('sh', ['-c', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const execution: Execution = { child, stdout: '', stderr: '', timedOut: false };
    child.stdout?.on('data', (data: Buffer) => (execution.stdout += data.toString('utf8')));
    child.stderr?.on('data', (data: Buffer) => (execution.stderr += data.toString('utf8')));
    const timer = setTimeout(() => {
      execution.timedOut = true;
      child.kill('SIGKILL');
    }, executionTimeoutSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      execution.exitCode = code ?? (signal ? 128 + 9 : -1);
      execution.endedAt = Date.now();
    });
    return execution;
  }

  private view(invocation: Invocation, now: number): View | undefined {
    const { node, sentAt } = invocation;
    const appearsAt = sentAt + (node.appearAfterMs ?? 0);
    if (now < appearsAt) return undefined;
    const running: View = { Status: 'InProgress', StatusDetails: 'InProgress', ResponseCode: -1, stdout: '', stderr: '' };
    if (invocation.cancelledAt !== undefined) {
      if (now < invocation.cancelledAt + CANCELLING_MS) return { ...running, Status: 'Cancelling', StatusDetails: 'Cancelling' };
      return { ...running, Status: 'Cancelled', StatusDetails: 'Cancelled', endedAt: invocation.cancelledAt + CANCELLING_MS };
    }
    const execution = invocation.execution;
    if (execution) {
      if (execution.exitCode === undefined || execution.endedAt === undefined) return running;
      const details = execution.timedOut ? 'ExecutionTimedOut' : execution.exitCode === 0 ? 'Success' : 'Failed';
      return {
        Status: execution.timedOut ? 'TimedOut' : details,
        StatusDetails: details,
        ResponseCode: execution.exitCode,
        stdout: execution.stdout,
        stderr: execution.stderr,
        endedAt: execution.endedAt,
      };
    }
    const endsAt = appearsAt + (node.runMs ?? 0);
    if (node.neverFinish || now < endsAt) return running;
    const exitCode = node.exitCode ?? 0;
    const details = node.statusDetails ?? (exitCode === 0 ? 'Success' : 'Failed');
    const status = node.statusDetails ? STATUS_OF_DETAILS[node.statusDetails] : details;
    const ranScript = details === 'Success' || details === 'Failed' || details === 'ExecutionTimedOut';
    return {
      Status: status,
      StatusDetails: details,
      ResponseCode: ranScript ? exitCode : -1,
      stdout: ranScript ? (node.stdout ?? '') : '',
      stderr: ranScript ? (node.stderr ?? '') : '',
      endedAt: endsAt,
    };
  }

  private getCommandInvocation(body: Record<string, unknown>): unknown {
    const instanceId = String(body['InstanceId'] ?? '');
    const count = (this.getCalls.get(instanceId) ?? 0) + 1;
    this.getCalls.set(instanceId, count);
    if (count <= (this.options.nodes[instanceId]?.throttleFirst ?? 0)) throw new FakeError('ThrottlingException', 'Rate exceeded');
    const invocation = this.invocations.get(`${String(body['CommandId'])}/${instanceId}`);
    let view = invocation && this.view(invocation, Date.now());
    // getLagMs: for this long after it ended, Get still shows the invocation running (no output yet).
    if (invocation && view?.endedAt !== undefined && Date.now() < view.endedAt + (invocation.node.getLagMs ?? 0)) {
      view = { Status: 'InProgress', StatusDetails: 'InProgress', ResponseCode: -1, stdout: '', stderr: '' };
    }
    if (!invocation || !view) throw new FakeError('InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist)');
    const iso = (ms: number): string => new Date(ms).toISOString();
    const startedAt = invocation.sentAt + (invocation.node.appearAfterMs ?? 0);
    return {
      CommandId: invocation.commandId,
      InstanceId: invocation.instanceId,
      Comment: invocation.comment,
      DocumentName: 'AWS-RunShellScript',
      DocumentVersion: '$DEFAULT',
      PluginName: 'aws:runShellScript',
      ResponseCode: view.ResponseCode,
      ExecutionStartDateTime: iso(startedAt),
      ExecutionElapsedTime: `PT${(((view.endedAt ?? Date.now()) - startedAt) / 1000).toFixed(3)}S`,
      ExecutionEndDateTime: view.endedAt !== undefined ? iso(view.endedAt) : '',
      Status: view.Status,
      StatusDetails: view.StatusDetails,
      // SSM returns the first 24,000 / 8,000 characters, and nothing while the command runs.
      StandardOutputContent: view.stdout.slice(0, STDOUT_CAP),
      StandardOutputUrl: '',
      StandardErrorContent: view.stderr.slice(0, STDERR_CAP),
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  /**
   * ListCommandInvocations of one command (Details false): each invocation's status, paged by
   * MaxResults (1-50). An invocation not visible yet (appearAfterMs) is not listed, as on the real
   * service right after SendCommand.
   */
  private listCommandInvocations(body: Record<string, unknown>): unknown {
    if (++this.listCalls <= (this.options.throttleList ?? 0)) throw new FakeError('ThrottlingException', 'Rate exceeded');
    const maxResults = Number(body['MaxResults'] ?? 50);
    if (!(maxResults >= 1 && maxResults <= 50)) throw new FakeError('ValidationException', 'MaxResults must be between 1 and 50');
    if (body['Details'] === true) throw new FakeError('ValidationException', 'this fake answers Details=false only');
    const commandId = String(body['CommandId'] ?? '');
    const now = Date.now();
    const listed = [...this.invocations.values()]
      .filter((i) => i.commandId === commandId)
      .map((i) => [i, this.view(i, now)] as const)
      .filter((pair): pair is readonly [Invocation, View] => pair[1] !== undefined)
      .map(([i, view]) => ({ CommandId: i.commandId, InstanceId: i.instanceId, DocumentName: 'AWS-RunShellScript', Status: view.Status, StatusDetails: view.StatusDetails }));
    const offset = Number(body['NextToken'] ?? 0);
    const page = listed.slice(offset, offset + maxResults);
    return { CommandInvocations: page, ...(offset + maxResults < listed.length ? { NextToken: String(offset + maxResults) } : {}) };
  }

  private cancelCommand(body: Record<string, unknown>): unknown {
    const commandId = String(body['CommandId'] ?? '');
    const matching = [...this.invocations.values()].filter((i) => i.commandId === commandId);
    if (matching.length === 0) throw new FakeError('InvalidCommandId', `command ${commandId} not found`);
    const only = body['InstanceIds'] as string[] | undefined;
    const now = Date.now();
    for (const invocation of matching) {
      if (only && !only.includes(invocation.instanceId)) continue;
      const view = this.view(invocation, now);
      if (view && TERMINAL.has(view.Status)) continue;
      invocation.cancelledAt ??= now;
      invocation.execution?.child.kill('SIGKILL');
    }
    return {};
  }

  /** The ping status of DescribeInstanceInformation round `round` (0-based); the last one repeats. */
  private pingAt(instanceId: string, round: number): FakePing {
    const pings = this.options.nodes[instanceId]?.ping ?? ['Online'];
    return pings[Math.min(round, pings.length - 1)] ?? 'Online';
  }

  /** The status the last listing reported (or the first scripted one before any listing). */
  private currentPing(instanceId: string): FakePing {
    return this.pingAt(instanceId, Math.max(0, (this.pingRound.get(instanceId) ?? 0) - 1));
  }

  private describeInstanceInformation(body: Record<string, unknown>): unknown {
    const maxResults = Number(body['MaxResults'] ?? 50);
    if (maxResults < 5 || maxResults > 50) throw new FakeError('ValidationException', 'MaxResults must be between 5 and 50');
    const filters = (body['Filters'] ?? []) as { Key?: string; Values?: string[] }[];
    const wanted = filters.find((f) => f.Key === 'InstanceIds')?.Values ?? Object.keys(this.options.nodes);
    const offset = Number(body['NextToken'] ?? 0);
    const known = wanted.filter((id) => this.options.nodes[id]);
    // One round of the ping script per listing (counted on its first page), so pages agree.
    if (offset === 0) for (const id of known) this.pingRound.set(id, (this.pingRound.get(id) ?? 0) + 1);
    const statuses = known.map((id) => [id, this.currentPing(id)] as const).filter(([, ping]) => ping !== 'Absent');
    const page = statuses.slice(offset, offset + maxResults);
    const next = offset + maxResults < statuses.length ? String(offset + maxResults) : undefined;
    return {
      InstanceInformationList: page.map(([id, ping]) => ({
        InstanceId: id,
        PingStatus: ping,
        LastPingDateTime: Date.now() / 1000,
        AgentVersion: '3.3.0.0',
        PlatformType: 'Linux',
        PlatformName: 'Ubuntu',
        ResourceType: 'EC2Instance',
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }
}
