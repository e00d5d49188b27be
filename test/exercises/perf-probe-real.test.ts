/**
 * scripts/node/perf-probe.sh run for real, as testpc runs it: real iperf3 and curl in one network
 * namespace against a real iperf3 server and an HTTP server in another, over a veth pair (only
 * namespaces this test made; nothing leaves the machine). Proves the probe's command lines, its
 * compaction of iperf3's JSON and curl's timing lines against the real tools, and what lab perf
 * reads from them (testpcPath). Needs root, ip netns, iperf3, curl and python3 (.ci/run installs
 * them). Everything it starts runs inside its namespaces and is killed with them, also after a
 * killed run (the next run removes namespaces whose test process is gone).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { perfProbeScript, testpcPath } from '../../lib/exercises/perf.js';

const tool = (name: string, args: string[]): string | undefined => {
  const probe = spawnSync(name, args, { encoding: 'utf8' });
  return probe.error ? `${name} is not installed` : probe.status === 0 ? undefined : `${name} ${args.join(' ')} failed`;
};
const skipReason =
  process.getuid?.() !== 0
    ? 'needs root to create network namespaces'
    : (tool('ip', ['netns', 'list']) ?? tool('iperf3', ['--version']) ?? tool('curl', ['--version']) ?? tool('python3', ['--version']));
const nsIt = skipReason === undefined ? it : it.skip;
const title = (t: string) => (skipReason === undefined ? t : `${t} [skipped: ${skipReason}]`);

const server = `clab-perf-s${process.pid}`;
const client = `clab-perf-c${process.pid}`;
const SERVER_IP = '10.203.0.2';
const created = { server: false, client: false };
let work = '';
const children: ChildProcess[] = [];

/** Kills what still runs in a namespace (`ip netns del` does not), then deletes it. */
const removeNamespace = (ns: string) => {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => /^\d+$/.test(p));
  for (const pid of pids) spawnSync('kill', ['-9', pid]);
  spawnSync('ip', ['netns', 'del', ns]);
};

const run = (args: string[]) => {
  const r = spawnSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
};

beforeAll(async () => {
  if (skipReason !== undefined) return;
  // Namespaces of an earlier run that was killed (its process is gone): removed first.
  for (const line of spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n')) {
    const m = /^(clab-perf-[sc](\d+))\b/.exec(line);
    if (m && spawnSync('kill', ['-0', m[2] as string]).status !== 0) removeNamespace(m[1] as string);
  }
  work = mkdtempSync(join(tmpdir(), 'perf-probe-'));
  run(['ip', 'netns', 'add', server]);
  created.server = true;
  run(['ip', 'netns', 'add', client]);
  created.client = true;
  // Both ends made inside the namespaces: no name in the host's namespace to collide with.
  run(['ip', '-n', server, 'link', 'add', 'clab-ps', 'type', 'veth', 'peer', 'name', 'clab-pc', 'netns', client]);
  run(['ip', '-n', server, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'clab-ps']);
  run(['ip', '-n', client, 'addr', 'add', '10.203.0.3/24', 'dev', 'clab-pc']);
  for (const [ns, dev] of [[server, 'clab-ps'], [client, 'clab-pc']] as const) {
    run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  // The "NodePorts": iperf3's server and a web server answering GET /, children of this test.
  children.push(spawn('ip', ['netns', 'exec', server, 'iperf3', '-s', '-p', '5201'], { stdio: 'ignore' }));
  children.push(spawn('ip', ['netns', 'exec', server, 'python3', '-m', 'http.server', '8080', '--bind', SERVER_IP, '--directory', work], { stdio: 'ignore' }));
  // Bounded wait until both listen (no bare sleep).
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ready = spawnSync('ip', ['netns', 'exec', client, 'curl', '-s', '-o', '/dev/null', '--max-time', '1', `http://${SERVER_IP}:8080/`]).status === 0;
    const iperfUp = spawnSync('ip', ['netns', 'exec', server, 'sh', '-c', 'ss -ltn | grep -q ":5201 "']).status === 0;
    if (ready && iperfUp) break;
    if (Date.now() > deadline) throw new Error('the web server in the namespace did not come up in 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(() => {
  for (const child of children) child.kill();
  if (created.server) removeNamespace(server);
  if (created.client) removeNamespace(client);
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

const probe = (iperfPort: number) => {
  const script = perfProbeScript(SERVER_IP, iperfPort, 8080, { repeat: 2, seconds: 1 });
  const r = spawnSync('ip', ['netns', 'exec', client, 'bash', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  return { name: 'testpc', instanceId: 'i-test', commandId: 'c', status: r.status === 0 ? 'Success' : 'Failed', exitCode: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, stdoutTruncated: false, stderrTruncated: false, durationMs: 0, deadlineExceeded: false } as never;
};

describe('perf-probe.sh with the real iperf3 and curl', () => {
  nsIt(title('measures the iperf3 server and the web server across the veth, as lab perf reads it'), () => {
    const path = testpcPath(probe(5201));
    expect(path.note).toBeUndefined();
    expect(path.throughputGbps?.n).toBe(2);
    expect(path.throughputGbps?.min).toBeGreaterThan(0.05);
    // 10 requests (RR_REQUESTS), each a real HTTP 200 from python's server
    expect(path.latencyMs?.n).toBe(10);
    expect(path.latencyMs?.max).toBeLessThan(1000);
  });

  nsIt(title("says iperf3's own error when nothing listens on the port"), () => {
    const started = Date.now();
    const path = testpcPath(probe(5299));
    expect(path.note).toMatch(/^iperf3: unable to (connect|send control message)/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
