/**
 * SsmRunner against FakeSsmServer: the real SSMClient (signing, JSON 1.1 serialisation, error
 * parsing) talking HTTP to a local fake that scripts SSM's behaviour per node. Real, short timings.
 */
import {
  assertAllSucceeded,
  bashCommand,
  describeFailures,
  MAX_SCRIPT_BYTES,
  SSM_DOCUMENT_MARGIN_BYTES,
  SSM_COMMAND_MAX_BYTES,
  RemoteInterruptedError,
  RemoteRunError,
  SsmRunner,
  SSM_STDERR_LIMIT,
  SSM_STDOUT_LIMIT,
  waitForAgentsOnline,
  type RemoteTarget,
  type RunOptions,
} from '../../lib/aws/ssm-runner.js';
import { FakeSsmServer, type FakeNode, type FakeSsmOptions } from './fake-ssm-server.js';

/** Quick polling and backoff so each test takes well under a second or two. */
const QUICK: RunOptions = { timeoutMs: 10_000, pollIntervalMs: 50, retry: { baseMs: 20, maxMs: 200 } };

const instanceId = (n: number): string => `i-0${String(n).padStart(16, '0')}`;

let fake: FakeSsmServer | undefined;
let client: ReturnType<FakeSsmServer['client']> | undefined;

/** A fake SSM with the given nodes (named as given, instance IDs i-0...1, i-0...2, ...) and a runner on it. */
async function givenNodes(
  nodes: Record<string, FakeNode>,
  extra: Omit<FakeSsmOptions, 'nodes'> = {},
): Promise<{ fake: FakeSsmServer; client: ReturnType<FakeSsmServer['client']>; runner: SsmRunner; targets: RemoteTarget[] }> {
  const targets = Object.keys(nodes).map((name, i) => ({ name, instanceId: instanceId(i + 1) }));
  const byId = Object.fromEntries(targets.map((t) => [t.instanceId, nodes[t.name] as FakeNode]));
  fake = await FakeSsmServer.start({ nodes: byId, ...extra });
  client = fake.client();
  return { fake, client, runner: new SsmRunner(client), targets };
}

afterEach(async () => {
  client?.destroy();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await work();
  return { value, ms: Date.now() - start };
}

describe('SsmRunner.runOnNodes', () => {
  it('runs the script on three nodes with one AWS-RunShellScript command and returns each output', async () => {
    // Given three healthy nodes
    const { fake, runner, targets } = await givenNodes({
      'control-plane': { runMs: 100, stdout: 'hello from cp\n' },
      'worker-1': { runMs: 150, stdout: 'hello from w1\n' },
      'worker-2': { runMs: 80, stdout: 'hello from w2\n' },
    });
    // When the script runs on all of them
    const results = await runner.runOnNodes(targets, 'echo hello', { ...QUICK, comment: 'tune NICs' });
    // Then every node succeeded with its own output, in target order
    expect(results.map((r) => [r.name, r.status, r.exitCode, r.stdout])).toEqual([
      ['control-plane', 'Success', 0, 'hello from cp\n'],
      ['worker-1', 'Success', 0, 'hello from w1\n'],
      ['worker-2', 'Success', 0, 'hello from w2\n'],
    ]);
    expect(results.every((r) => !r.stdoutTruncated && !r.deadlineExceeded && r.durationMs >= 80)).toBe(true);
    expect(describeFailures(results)).toBeUndefined();
    expect(() => assertAllSucceeded(results)).not.toThrow();
    // And one SendCommand carried all three, with timeouts and error controls set
    const sends = fake.callsTo('SendCommand');
    expect(sends).toHaveLength(1);
    expect(sends[0]?.headers['x-amz-target']).toBe('AmazonSSM.SendCommand');
    expect(sends[0]?.body).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: targets.map((t) => t.instanceId),
      Parameters: { executionTimeout: ['10'] },
      TimeoutSeconds: 30,
      MaxErrors: '100%',
      MaxConcurrency: '100%',
      Comment: 'tune NICs',
    });
    expect(new Set(results.map((r) => r.commandId)).size).toBe(1);
  });

  it('rides out invocations not listed yet right after SendCommand, and reads each output once when it is done', async () => {
    // Given a node whose invocation is invisible for 400 ms after SendCommand
    const { fake, runner, targets } = await givenNodes({ late: { appearAfterMs: 400, runMs: 50, stdout: 'done\n' } });
    // When the script runs
    const [result] = await runner.runOnNodes(targets, 'true', QUICK);
    // Then the listings went on until it showed up, and its output was read with one call
    const listings = fake.callsTo('ListCommandInvocations');
    expect(listings.length).toBeGreaterThanOrEqual(4);
    expect(fake.callsTo('GetCommandInvocation', targets[0]?.instanceId)).toHaveLength(1);
    expect(result).toMatchObject({ status: 'Success', exitCode: 0, stdout: 'done\n' });
  });

  it('reads the output again while GetCommandInvocation lags the listing (still running there), never reporting a half-read result', async () => {
    const { fake, runner, targets } = await givenNodes({ lagging: { runMs: 50, getLagMs: 300, stdout: 'all of it\n', exitCode: 0 } });
    const [result] = await runner.runOnNodes(targets, 'true', QUICK);
    expect(result).toMatchObject({ status: 'Success', exitCode: 0, stdout: 'all of it\n' });
    expect(fake.callsTo('GetCommandInvocation', targets[0]?.instanceId).length).toBeGreaterThan(1);
  });

  it('polls one ListCommandInvocations per command per interval, not a call per node (20 nodes)', async () => {
    const nodes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`node-${i + 1}`, { runMs: 300 + i * 5, stdout: `n${i}\n` }]));
    const { fake, runner, targets } = await givenNodes(nodes);
    const { value: results, ms } = await timed(() => runner.runOnNodes(targets, 'true', QUICK));
    expect(results.every((r) => r.status === 'Success')).toBe(true);
    // about one listing per 50 ms poll (and per page), never one per node per poll
    expect(fake.callsTo('ListCommandInvocations').length).toBeLessThanOrEqual(Math.ceil(ms / 50) + 2);
    expect(fake.callsTo('GetCommandInvocation')).toHaveLength(20);
  });

  it('reads a 51-node run as two commands, each listed page by page', async () => {
    const nodes = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`node-${i + 1}`, { runMs: 30 }]));
    const { fake, runner, targets } = await givenNodes(nodes);
    const results = await runner.runOnNodes(targets, 'true', QUICK);
    expect(results.map((r) => r.status)).toEqual(targets.map(() => 'Success'));
    const commands = new Set(fake.callsTo('ListCommandInvocations').map((c) => c.body['CommandId']));
    expect(commands.size).toBe(2);
    expect(fake.callsTo('ListCommandInvocations').every((c) => c.body['MaxResults'] === 50)).toBe(true);
  });

  it('rides out throttling of ListCommandInvocations', async () => {
    const { fake, runner, targets } = await givenNodes({ a: { runMs: 50 }, b: { runMs: 60 } }, { throttleList: 3 });
    const results = await runner.runOnNodes(targets, 'true', QUICK);
    expect(results.map((r) => r.status)).toEqual(['Success', 'Success']);
    expect(fake.callsTo('ListCommandInvocations').filter((c) => c.errorType === 'ThrottlingException').length).toBeGreaterThanOrEqual(3);
  });

  it('rides out throttling of SendCommand and GetCommandInvocation', async () => {
    // Given SSM throttles the first 2 SendCommand calls and the first 3 polls of one node
    const { fake, runner, targets } = await givenNodes(
      { busy: { runMs: 50, throttleFirst: 3, stdout: 'ok\n' }, calm: { runMs: 50, stdout: 'ok\n' } },
      { throttleSendCommand: 2 },
    );
    // When the script runs
    const results = await runner.runOnNodes(targets, 'true', QUICK);
    // Then both succeeded after the throttled calls were retried
    expect(results.map((r) => r.status)).toEqual(['Success', 'Success']);
    expect(fake.callsTo('SendCommand').map((c) => c.errorType ?? 'ok')).toEqual(['ThrottlingException', 'ThrottlingException', 'ok']);
    const busyPolls = fake.callsTo('GetCommandInvocation', targets[0]?.instanceId);
    expect(busyPolls.filter((c) => c.errorType === 'ThrottlingException')).toHaveLength(3);
    expect(busyPolls.at(-1)?.errorType).toBeUndefined();
  });

  it('cancels a command that never finishes and reports that node timed out', async () => {
    // Given one node that hangs and one that finishes
    const { fake, runner, targets } = await givenNodes({ hung: { neverFinish: true }, fine: { runMs: 50 } });
    // When the script runs with a 1.2 s budget
    const { value: results, ms } = await timed(() => runner.runOnNodes(targets, 'sleep infinity', { ...QUICK, timeoutMs: 1_200 }));
    // Then the hung node is reported timed out at the deadline, the other one succeeded
    const [hung, fine] = results;
    expect(hung).toMatchObject({ name: 'hung', status: 'TimedOut', deadlineExceeded: true, exitCode: -1 });
    expect(hung?.note).toMatch(/no terminal status within 1\.2 s, last status InProgress; CancelCommand sent/);
    expect(fine).toMatchObject({ status: 'Success', deadlineExceeded: false });
    expect(ms).toBeGreaterThanOrEqual(1_200);
    expect(ms).toBeLessThan(2_500);
    // And CancelCommand was sent for the hung node only
    const cancels = fake.callsTo('CancelCommand');
    expect(cancels).toHaveLength(1);
    expect(cancels[0]?.body).toEqual({ CommandId: hung?.commandId, InstanceIds: [targets[0]?.instanceId] });
    expect(describeFailures(results)).toMatch(/hung \(i-0+1\): TimedOut, no exit code/);
  });

  it('on an interrupt (Ctrl-C, SIGTERM) stops waiting, cancels what it sent, and says so', async () => {
    // Given two nodes that would run for a minute
    const { fake, runner, targets } = await givenNodes({ a: { neverFinish: true }, b: { neverFinish: true } });
    const controller = new AbortController();
    setTimeout(() => controller.abort('SIGTERM'), 300);
    // When the run is interrupted after 300 ms
    const { value: error, ms } = await timed(() => runner.runOnNodes(targets, 'sleep 60', { ...QUICK, timeoutMs: 60_000, signal: controller.signal }).then(() => undefined, (e: unknown) => e));
    // Then it stops at once, CancelCommand went out for the command, and the error names it
    expect(error).toBeInstanceOf(RemoteInterruptedError);
    expect(ms).toBeLessThan(2_000);
    const cancels = fake.callsTo('CancelCommand');
    expect(cancels).toHaveLength(1);
    expect((error as RemoteInterruptedError).message).toBe(`cilium-lab: interrupted (SIGTERM): SSM command(s) ${String(cancels[0]?.body['CommandId'])} cancelled`);
  });

  it('sends nothing when interrupted before it starts', async () => {
    const { fake, runner, targets } = await givenNodes({ a: {} });
    const controller = new AbortController();
    controller.abort('SIGINT');
    await expect(runner.runOnNodes(targets, 'true', { ...QUICK, timeoutMs: 5_000, signal: controller.signal })).rejects.toThrow('cilium-lab: interrupted (SIGINT) before anything was sent');
    expect(fake.callsTo('SendCommand')).toHaveLength(0);
  });

  it('times out (and cancels) an invocation that never appears instead of retrying forever', async () => {
    // Given a node whose invocation stays invisible
    const { fake, runner, targets } = await givenNodes({ ghost: { appearAfterMs: 60_000 } });
    // When the script runs with an 800 ms budget
    const { value: results, ms } = await timed(() => runner.runOnNodes(targets, 'true', { ...QUICK, timeoutMs: 800 }));
    // Then the node timed out by the deadline, naming the last error
    expect(results[0]).toMatchObject({ status: 'TimedOut', deadlineExceeded: true });
    expect(results[0]?.note).toContain('never listed (not in ListCommandInvocations yet)');
    expect(ms).toBeLessThan(2_000);
    expect(fake.callsTo('CancelCommand')).toHaveLength(1);
  });

  it('shows which node failed, with its exit code and stderr tail, while the others succeed', async () => {
    // Given worker-2 exits 1 after 20 lines of stderr
    const stderr = `${Array.from({ length: 19 }, (_, i) => `step ${String(i + 1).padStart(2, '0')}`).join('\n')}\n[ERROR] kubeadm join: connection refused\n`;
    const { runner, targets } = await givenNodes({
      'control-plane': { runMs: 50 },
      'worker-1': { runMs: 50 },
      'worker-2': { runMs: 80, exitCode: 1, stderr },
    });
    // When the script runs
    const results = await runner.runOnNodes(targets, 'kubeadm join', QUICK);
    // Then the results say which node failed and how
    expect(results.map((r) => [r.name, r.status, r.exitCode])).toEqual([
      ['control-plane', 'Success', 0],
      ['worker-1', 'Success', 0],
      ['worker-2', 'Failed', 1],
    ]);
    // And the message names the node, its exit code and only the last lines of its stderr
    const message = describeFailures(results, 'join') ?? '';
    expect(message).toContain('join failed on 1 of 3 node(s)');
    expect(message).toContain(`worker-2 (${instanceId(3)}): Failed, exit code 1`);
    expect(message).toContain('| [ERROR] kubeadm join: connection refused');
    expect(message).toContain('| step 16');
    expect(message).not.toContain('step 15');
    expect(message).not.toContain('control-plane');
    expect(() => assertAllSucceeded(results, 'join')).toThrow(RemoteRunError);
    expect(() => assertAllSucceeded(results, 'join')).toThrow(message);
  });

  it("flags stdout cut at SSM's 24,000-character cap (and stderr at 8,000)", async () => {
    // Given one node printing 30,000 characters (and 9,000 to stderr), another printing a little
    const { runner, targets } = await givenNodes({
      chatty: { runMs: 20, stdout: 'x'.repeat(30_000), stderr: 'e'.repeat(9_000) },
      terse: { runMs: 20, stdout: 'y'.repeat(SSM_STDOUT_LIMIT - 1) },
    });
    // When the script runs
    const [chatty, terse] = await runner.runOnNodes(targets, 'cat big', QUICK);
    // Then only the capped outputs are flagged
    expect(chatty?.stdout).toHaveLength(SSM_STDOUT_LIMIT);
    expect(chatty?.stdoutTruncated).toBe(true);
    expect(chatty?.stderr).toHaveLength(SSM_STDERR_LIMIT);
    expect(chatty?.stderrTruncated).toBe(true);
    expect(terse?.stdoutTruncated).toBe(false);
    expect(terse?.stderrTruncated).toBe(false);
  });

  it('runs the script under bash although the agent runs its commands with sh', async () => {
    // Given a node that executes what it receives the way the agent does (`sh -c _script.sh`)
    const { fake, runner, targets } = await givenNodes({ real: { execute: true } });
    const script = [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      'words=(alpha beta gamma)',
      '[[ ${#words[@]} -eq 3 ]]',
      'echo "shell=bash-${BASH_VERSINFO[0]} words=${#words[@]}"',
      "printf '%s\\n' 'it'\\''s $HOME \\n \"q\"'",
      'echo "to stderr" >&2',
      'exit 3',
    ].join('\n');
    // When the script runs
    const [result] = await runner.runOnNodes(targets, script, QUICK);
    // Then bash ran it (arrays, [[ ]], BASH_VERSINFO), quoting intact, and its exit code came back
    expect(result).toMatchObject({ status: 'Failed', exitCode: 3, stderr: 'to stderr\n' });
    expect(result?.stdout).toMatch(/^shell=bash-\d+ words=3\nit's \$HOME \\n "q"\n$/);
    // And what SSM received is one command that hands the unchanged script to bash
    const commands = (fake.callsTo('SendCommand')[0]?.body['Parameters'] as { commands: string[] }).commands;
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatch(/^exec bash -c "\$\(printf '%s' '[A-Za-z0-9+/=]+' \| base64 -d\)" cilium-lab-remote$/);
    const encoded = /'([A-Za-z0-9+/=]+)'/.exec(commands[0] ?? '')?.[1] ?? '';
    expect(Buffer.from(encoded, 'base64').toString('utf8')).toBe(script);
  });

  it("reports SSM's own detailed terminal statuses", async () => {
    // Given one node SSM cannot reach and one whose script the agent timed out
    const { runner, targets } = await givenNodes({
      gone: { runMs: 30, statusDetails: 'Undeliverable' },
      slow: { runMs: 30, statusDetails: 'ExecutionTimedOut', exitCode: 137 },
    });
    // When the script runs
    const results = await runner.runOnNodes(targets, 'true', QUICK);
    // Then the detailed status is reported, not a generic Failed/TimedOut
    expect(results.map((r) => [r.status, r.exitCode, r.deadlineExceeded])).toEqual([
      ['Undeliverable', -1, false],
      ['ExecutionTimedOut', 137, false],
    ]);
  });

  it('fails at once on a non-retryable error, without retrying it', async () => {
    // Given a target SSM does not know
    const { fake, runner } = await givenNodes({ known: {} });
    // When the script is sent to it
    const run = timed(() => runner.runOnNodes([{ name: 'stray', instanceId: 'i-0ffffffffffffffff' }], 'true', QUICK));
    // Then the run fails with SSM's reason after one call
    await expect(run).rejects.toThrow(/SendCommand failed: InvalidInstanceId: Instances \[\[i-0ffffffffffffffff\]\]/);
    expect(fake.callsTo('SendCommand')).toHaveLength(1);
  });

  it('runs nodes concurrently: five nodes of 300 ms take about 300 ms, not 1,500', async () => {
    // Given five nodes that each take 300 ms
    const nodes = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`node-${i}`, { runMs: 300 }]));
    const { runner, targets } = await givenNodes(nodes);
    // When the script runs on all five
    const { value: results, ms } = await timed(() => runner.runOnNodes(targets, 'true', QUICK));
    // Then they all succeeded and the wall time is near one node's, far from the sum (a loose bound;
    // scripts/bench/remote-run.ts holds the real budget)
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('Success'));
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(2 * 300);
  });
});

describe('waitForAgentsOnline', () => {
  it('returns once every agent reports Online', async () => {
    // Given two agents that come online on the second and third listing
    const { fake, client, targets } = await givenNodes({
      a: { ping: ['ConnectionLost', 'Online'] },
      b: { ping: ['Inactive', 'ConnectionLost', 'Online'] },
    });
    // When waiting for them
    await waitForAgentsOnline(client, targets.map((t) => t.instanceId), Date.now() + 5_000, { pollIntervalMs: 50 });
    // Then it listed until the last one was Online
    expect(fake.callsTo('DescribeInstanceInformation')).toHaveLength(3);
    expect(fake.callsTo('DescribeInstanceInformation')[0]?.body).toMatchObject({
      Filters: [{ Key: 'InstanceIds', Values: targets.map((t) => t.instanceId) }],
    });
  });

  it('fails at the deadline naming each agent that is not Online, with its last status', async () => {
    // Given one agent that lost its connection, one never registered, one Online
    const { client, targets } = await givenNodes({
      lost: { ping: ['Online', 'ConnectionLost'] },
      absent: { ping: ['Absent'] },
      fine: {},
    });
    const ids = targets.map((t) => t.instanceId);
    // When waiting 600 ms for them
    const wait = waitForAgentsOnline(client, ids, Date.now() + 600, { pollIntervalMs: 100 });
    // Then the error names the two laggards and what SSM last said about them
    await expect(wait).rejects.toThrow(
      `the SSM agent is not Online on 2 instance(s) by the deadline: ${ids[0]} (ConnectionLost), ${ids[1]} (not registered with SSM)`,
    );
  });
});

describe('the size of one command (SendCommand: MaxDocumentSizeExceeded over 64 KB)', () => {
  it('fits the largest script it accepts into 64 KB after base64 with room for the document, and refuses a larger one before any call', () => {
    expect(Buffer.byteLength(bashCommand('x'.repeat(MAX_SCRIPT_BYTES))) + SSM_DOCUMENT_MARGIN_BYTES).toBeLessThanOrEqual(SSM_COMMAND_MAX_BYTES);
    expect(SSM_COMMAND_MAX_BYTES).toBe(65_536);
    expect(() => bashCommand('x'.repeat(MAX_SCRIPT_BYTES + 1))).toThrow(`the remote script is ${MAX_SCRIPT_BYTES + 1} bytes; at most ${MAX_SCRIPT_BYTES} fit in one SSM command`);
  });

  it('leaves room for every script the lab ships (the largest, collect-logs.sh, with its URLs)', async () => {
    const { renderLabScript } = await import('../../lib/lab/remote.js');
    const largest = renderLabScript('collect-logs.sh', {
      LAB_NODE_LOGS_URL: `https://b.s3.ap-northeast-2.amazonaws.com/logs/x/k8s-s/node-logs.tar.gz?${'q'.repeat(1500)}`,
      LAB_SYSDUMP_URL: `https://b.s3.ap-northeast-2.amazonaws.com/logs/x/k8s-s/cilium-sysdump.zip?${'q'.repeat(1500)}`,
      LAB_LOGS_SINCE: '6 hours ago',
      LAB_SYSDUMP_TIMEOUT_SECONDS: '480',
      LAB_UPLOAD_TIMEOUT_SECONDS: '600',
    });
    expect(Buffer.byteLength(largest)).toBeLessThan(MAX_SCRIPT_BYTES / 2);
  });
});
