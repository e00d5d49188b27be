/**
 * scripts/node/collect-logs.sh, rendered as the CLI renders it (renderLabScript) and run for real
 * in bash: real curl uploads to URLs presigned by the lab's own presigner (S3ArtifactStore) and
 * served by the loopback S3 fake (test/aws/fake-s3-server.ts, which refuses what S3 would: unsigned
 * x-amz-* headers, checksum mismatches, expired URLs); real ip, tar and sha256sum. Stand-ins
 * (fixtures/collect-tools.sh) play only what needs a cluster: cilium, kubectl, crictl, and
 * journalctl on a machine without one. The files the script reads are planted under a temp root
 * (LAB_COLLECT_ROOT), secrets among them.
 */
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderLabScript, taggedLines } from '../../lib/lab/remote.js';
import { S3ArtifactStore } from '../../lib/aws/artifact-store.js';
import { FakeS3Server, type S3Call } from '../aws/fake-s3-server.js';
import { collectStandInBin } from '../helpers/collect-stand-ins.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/collect-tools.sh', import.meta.url));
const TAG = 'CILIUM_LAB_ARTIFACT';
const BUCKET = 'cilium-lab-artifacts';
const NODE_LOGS_KEY = 'logs/20261123T101500Z-a1b2/k8s-s/node-logs.tar.gz';
const SYSDUMP_KEY = 'logs/20261123T101500Z-a1b2/k8s-s/cilium-sysdump.zip';
/** A signature planted in a node's own log, to be masked in the tarball. */
/** Where the fake clock of each run starts (2026-11-23T10:15:00Z). */
const FAKE_EPOCH = 1795428900;
const SIGNATURE_HEX = 'f3a9c1d2e4b5a6978877665544332211ffeeddccbbaa00998877665544332211';
const SYSLOG_CAP = 10 * 1024 * 1024;
const SECRET = 'PLANTED-SECRET';

interface Artifact {
  name: string;
  bytes: number;
  sha256: string;
  uploaded: boolean;
  error?: string;
}

interface Ran {
  exitCode: number;
  stdout: string;
  stderr: string;
  artifacts: Artifact[];
  /** Calls the stand-ins saw, one a line. */
  calls: string[];
  /** What is left in LAB_COLLECT_TMPDIR after the run. */
  leftovers: string[];
  /** How far the script's retries moved the fake clock (the back-offs it would have slept). */
  pausedSeconds: number;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Every regular file below `dir`, relative path -> content. */
function filesBelow(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return found;
}

let work = '';
let bin = '';
let root = '';
let adminConf = '';
let s3: FakeS3Server;
/** The presigned PUT URLs of the two files. */
const urls = { nodeLogs: '', sysdump: '' };

function plant(path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'collect-logs-'));
  bin = collectStandInBin(work);

  root = join(work, 'root');
  plant('usr/lib/os-release', 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nID=ubuntu\n');
  mkdirSync(join(root, 'etc'), { recursive: true });
  symlinkSync('../usr/lib/os-release', join(root, 'etc/os-release'));
  plant('var/log/cloud-init-output.log', 'Cloud-init v. 24.1.3 running modules:final\n');
  plant('var/log/syslog', `SYSLOG-HEAD\n${'kubelet[812]: a line of syslog\n'.repeat(SYSLOG_CAP / 31 + 1024)}SYSLOG-TAIL\n`);
  plant(
    'var/log/cilium-lab/bootstrap.log',
    'k8s-s installing kubelet\n' +
      'join token abcdef.0123456789abcdef published\n' +
      `signal sent to https://bucket.s3.amazonaws.com/handle?X-Amz-Credential=ASIAEXAMPLEKEY&X-Amz-Signature=${SIGNATURE_HEX}\n`,
  );
  plant('etc/netplan/50-cloud-init.yaml', 'network:\n  version: 2\n');
  plant('etc/netplan/90-cilium-lab-mtu.yaml', 'network:\n  ethernets:\n    ens5:\n      mtu: 3498\n');
  // Secrets a node holds: none of them may reach the tarball.
  for (const secret of [
    'etc/kubernetes/admin.conf',
    'etc/kubernetes/super-admin.conf',
    'etc/kubernetes/kubelet.conf',
    'etc/kubernetes/pki/ca.key',
    'etc/kubernetes/pki/sa.key',
    'run/cilium-lab/join.json',
    'run/cilium-lab/kubeadm-init.yaml',
    'var/lib/kubelet/pki/kubelet-client-current.pem',
  ]) {
    plant(secret, `apiVersion: v1\nclient-key-data: ${SECRET} ${secret}\n`);
  }
  // ... nor through a symlink planted where the allow-list looks.
  symlinkSync('../../../etc/kubernetes/pki/ca.key', join(root, 'var/log/cilium-lab/ca.log'));
  symlinkSync('../kubernetes/admin.conf', join(root, 'etc/netplan/99-admin.yaml'));
  adminConf = join(root, 'etc/kubernetes/admin.conf');

  s3 = await FakeS3Server.start();
  s3.createBucket(BUCKET);
  const store = new S3ArtifactStore(s3.client());
  urls.nodeLogs = await store.uploadUrl(BUCKET, NODE_LOGS_KEY, 900);
  urls.sysdump = await store.uploadUrl(BUCKET, SYSDUMP_KEY, 900);
});

afterAll(async () => {
  await s3?.close();
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

type Values = Record<'LAB_NODE_LOGS_URL' | 'LAB_SYSDUMP_URL' | 'LAB_LOGS_SINCE' | 'LAB_SYSDUMP_TIMEOUT_SECONDS' | 'LAB_UPLOAD_TIMEOUT_SECONDS', string>;

const values = (over: Partial<Values> = {}): Values => ({
  LAB_NODE_LOGS_URL: urls.nodeLogs,
  LAB_SYSDUMP_URL: urls.sysdump,
  LAB_LOGS_SINCE: '6 hours ago',
  LAB_SYSDUMP_TIMEOUT_SECONDS: '20',
  LAB_UPLOAD_TIMEOUT_SECONDS: '5',
  ...over,
});

/**
 * Runs the script as the CLI sends it (`bash -c`, rendered), with the stand-ins first on PATH. The
 * bucket and the calls S3 saw are this run's alone (faults injected before it are spent: each
 * test injects as many as it means the run to meet).
 */
async function collect(over: Partial<Values> = {}, env: Record<string, string> = {}): Promise<Ran> {
  const run = mkdtempSync(join(work, 'run-'));
  const tmp = join(run, 'tmp');
  const log = join(run, 'calls.log');
  const clock = join(run, 'clock');
  mkdirSync(tmp);
  writeFileSync(log, '');
  writeFileSync(clock, `${FAKE_EPOCH}\n`);
  s3.deleteBucket(BUCKET);
  s3.createBucket(BUCKET);
  s3.calls.length = 0;
  const result = await execa('bash', ['-c', renderLabScript('collect-logs.sh', values(over)), 'cilium-lab-remote'], {
    reject: false,
    extendEnv: false,
    env: {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: run,
      LAB_NODE_NAME: 'k8s-s',
      LAB_COLLECT_ROOT: root,
      LAB_COLLECT_TMPDIR: tmp,
      LAB_KUBECONFIG: adminConf,
      STUB_LOG: log,
      // Retries pause on this fake clock instead of sleeping (scripts/node/lib.sh lab::pause).
      LAB_FAKE_CLOCK_FILE: clock,
      ...env,
    },
  });
  const stdout = String(result.stdout);
  return {
    exitCode: result.exitCode ?? -1,
    stdout,
    stderr: String(result.stderr),
    artifacts: taggedLines(stdout, TAG).map((line) => JSON.parse(line) as Artifact),
    calls: readFileSync(log, 'utf8').split('\n').filter(Boolean),
    leftovers: readdirSync(tmp),
    pausedSeconds: Number(readFileSync(clock, 'utf8')) - FAKE_EPOCH,
  };
}

/** The object S3 holds at `key`. */
const stored = (key: string): Buffer | undefined => s3.object(BUCKET, key);

/** The PUTs S3 saw for `key`. */
const putsTo = (key: string): S3Call[] => s3.callsTo('PutObject').filter((c) => c.key === key);

/** node-logs.tar.gz as S3 holds it, unpacked with tar into a fresh directory. */
function unpackNodeLogs(): { entries: string[]; files: Map<string, Buffer> } {
  const body = stored(NODE_LOGS_KEY);
  if (body === undefined) throw new Error(`nothing was uploaded to ${NODE_LOGS_KEY}`);
  const dir = mkdtempSync(join(work, 'unpacked-'));
  writeFileSync(join(dir, 'node-logs.tar.gz'), body);
  const list = spawnSync('tar', ['-tzf', 'node-logs.tar.gz'], { cwd: dir, encoding: 'utf8' });
  expect(list.status).toBe(0);
  mkdirSync(join(dir, 'x'));
  expect(spawnSync('tar', ['-xzf', 'node-logs.tar.gz', '-C', 'x'], { cwd: dir }).status).toBe(0);
  return { entries: list.stdout.split('\n').filter(Boolean), files: filesBelow(join(dir, 'x')) };
}

const artifact = (ran: Ran, name: string): Artifact | undefined => ran.artifacts.find((a) => a.name === name);

/** Nothing of the presigned URLs (signature, credential, query, path) in what the script printed. */
function expectNoUrl(ran: Ran): void {
  const printed = `${ran.stdout}\n${ran.stderr}`;
  for (const url of [urls.nodeLogs, urls.sysdump]) {
    const { search, pathname, searchParams } = new URL(url);
    expect(printed).not.toContain(searchParams.get('X-Amz-Signature'));
    expect(printed).not.toContain(search.slice(1));
    expect(printed).not.toContain(pathname);
  }
  expect(printed).not.toMatch(/X-Amz-|AKIA|127\.0\.0\.1/);
}

describe('collect-logs.sh, statically', () => {
  const shellcheckSkip = spawnSync('shellcheck', ['--version']).error;

  it('renders self-contained and small, and passes bash -n', async () => {
    const rendered = renderLabScript('collect-logs.sh', values());
    expect(rendered).not.toMatch(/^source /m);
    expect(rendered).not.toMatch(/# lab:(include|values begin|standalone-only)/);
    expect(rendered).toMatch(/^net::default_route_interface\(\) \{$/m);
    await expect(execa('bash', ['-n'], { input: rendered })).resolves.toMatchObject({ exitCode: 0 });
    const bytes = Buffer.byteLength(rendered);
    process.stdout.write(`collect-logs.sh rendered: ${bytes} bytes\n`);
    expect(bytes).toBeLessThan(24 * 1024);
  });

  (shellcheckSkip === undefined ? it : it.skip)('passes shellcheck as rendered, and so does its stand-in', async () => {
    const file = join(work, 'rendered-collect-logs.sh');
    writeFileSync(file, renderLabScript('collect-logs.sh', values()));
    for (const script of [file, FIXTURE]) {
      const lint = await execa('shellcheck', ['-S', 'warning', '-s', 'bash', script], { reject: false });
      expect(String(lint.stdout)).toBe('');
    }
  });
});

describe('collect-logs.sh on the control plane', () => {
  let ran: Ran;

  beforeAll(async () => {
    ran = await collect();
  });

  it('uploads both artifacts, and each line gives the bytes and sha256 of the body received', () => {
    expect([ran.exitCode, ran.stderr]).toEqual([0, expect.any(String)]);
    const nodeLogs = stored(NODE_LOGS_KEY) as Buffer;
    const sysdump = stored(SYSDUMP_KEY) as Buffer;
    expect(ran.artifacts).toEqual([
      { name: 'node-logs.tar.gz', bytes: nodeLogs.length, sha256: sha256(nodeLogs), uploaded: true },
      { name: 'cilium-sysdump.zip', bytes: sysdump.length, sha256: sha256(sysdump), uploaded: true },
    ]);
    expect(sysdump.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
  });

  it('prints only the artifact lines on stdout, and no URL anywhere', () => {
    expect(ran.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(ran.stdout.length).toBeLessThan(1000);
    expect(ran.stderr.length).toBeLessThan(2000);
    expectNoUrl(ran);
  });

  it('PUTs with curl and no extra headers (the URL is signed for host alone)', () => {
    const puts = s3.callsTo('PutObject');
    expect(puts.map((p) => [p.key, p.presigned, p.status])).toEqual([
      [NODE_LOGS_KEY, true, 200],
      [SYSDUMP_KEY, true, 200],
    ]);
    for (const put of puts) {
      expect(put.headers['user-agent']).toMatch(/^curl\//);
      expect(Object.keys(put.headers).filter((h) => !['host', 'user-agent', 'accept', 'content-length', 'expect'].includes(h))).toEqual([]);
    }
  });

  it('packs the allow-listed logs, files and network state under node-logs/', () => {
    const { entries, files } = unpackNodeLogs();
    expect(entries.every((e) => e.startsWith('node-logs/'))).toBe(true);
    expect([...files.keys()]).toEqual(
      expect.arrayContaining(
        [
          'collect.log',
          'journal/kubelet.log',
          'journal/containerd.log',
          'journal/cilium-lab-nic-channels.log',
          'journal/cloud-final.log',
          'journal/kernel.log',
          'system/uname.txt',
          'network/ip-link.txt',
          'network/ip-addr.txt',
          'network/ip-route.txt',
          'files/usr/lib/os-release',
          'files/var/log/cloud-init-output.log',
          'files/var/log/syslog',
          'files/var/log/cilium-lab/bootstrap.log',
          'files/etc/netplan/50-cloud-init.yaml',
          'files/etc/netplan/90-cilium-lab-mtu.yaml',
          'containers/crictl-ps.txt',
          'kubernetes/nodes.txt',
          'kubernetes/pods.txt',
          'kubernetes/events.txt',
        ].map((f) => `node-logs/${f}`),
      ),
    );
    const text = (f: string): string => files.get(`node-logs/${f}`)?.toString('utf8') ?? '';
    expect(text('files/usr/lib/os-release')).toContain('Ubuntu 24.04.1 LTS');
    expect(text('network/ip-addr.txt')).toMatch(/\blo\b/);
    expect(text('kubernetes/nodes.txt')).toContain('k8s-s   NotReady');
    const log = text('collect.log');
    expect(log).toContain('journal/kubelet.log: journalctl --no-pager --utc -o short-iso --since 6 hours ago --unit kubelet.service');
    expect(log).toMatch(/done: \d+ items, \d+ bytes, \d+ failed or skipped/);
    expect(log).toContain(`files/var/log/syslog: /var/log/syslog, ${statSync(join(root, 'var/log/syslog')).size} bytes, its last ${SYSLOG_CAP}`);
  });

  it('keeps only the last 10 MiB of syslog', () => {
    const syslog = unpackNodeLogs().files.get('node-logs/files/var/log/syslog') as Buffer;
    expect(syslog.length).toBe(SYSLOG_CAP);
    expect(syslog.toString('utf8').endsWith('SYSLOG-TAIL\n')).toBe(true);
    expect(syslog.toString('utf8')).not.toContain('SYSLOG-HEAD');
  });

  it('collects none of the planted secrets, not even through a symlink, and masks tokens and signatures', () => {
    const { entries, files } = unpackNodeLogs();
    expect(entries.filter((e) => /kubernetes\/(pki|[^/]+\.conf)|run\/cilium-lab|kubelet\/pki|ca\.log|99-admin/.test(e))).toEqual([]);
    for (const [name, content] of files) {
      expect([name, content.includes(SECRET)]).toEqual([name, false]);
      expect([name, content.includes(SIGNATURE_HEX)]).toEqual([name, false]);
    }
    const bootstrap = files.get('node-logs/files/var/log/cilium-lab/bootstrap.log')?.toString('utf8');
    expect(bootstrap).toContain('join token abcdef.<redacted> published');
    expect(bootstrap).toContain('X-Amz-Credential=<redacted>&X-Amz-Signature=<redacted>');
    expect(files.get('node-logs/collect.log')?.toString('utf8')).toContain('/var/log/cilium-lab/ca.log is a symlink');
  });

  it('runs cilium sysdump with the admin kubeconfig, in its work directory, over the journald window', () => {
    const sysdump = ran.calls.filter((c) => c.startsWith('cilium '));
    expect(sysdump).toEqual([expect.stringMatching(/^cilium sysdump --output-filename cilium-sysdump --logs-limit-bytes 10485760 --logs-since-time 2160[01]s$/)]);
    const where = ran.calls.find((c) => c.startsWith('sysdump cwd=')) ?? '';
    const [, cwd, tmpdir, kubeconfig] = /^sysdump cwd=(\S+) tmpdir=(\S+) kubeconfig=(\S+)$/.exec(where) ?? [];
    expect(cwd).toMatch(/\/tmp\/cilium-lab-logs\.\w+\/sysdump$/);
    expect([cwd?.startsWith(work), tmpdir, kubeconfig]).toEqual([true, `${cwd}/tmp`, adminConf]);
  });

  it('removes its work directory', () => {
    expect(ran.leftovers).toEqual([]);
  });
});

describe('collect-logs.sh when something fails', () => {
  it('kills a sysdump that hangs at LAB_SYSDUMP_TIMEOUT_SECONDS, still uploads the node logs, and exits 0', async () => {
    const ran = await collect({ LAB_SYSDUMP_TIMEOUT_SECONDS: '1' }, { STUB_SYSDUMP: 'hang' });
    expect(ran.exitCode).toBe(0);
    expect(artifact(ran, 'node-logs.tar.gz')).toMatchObject({ uploaded: true });
    expect(artifact(ran, 'cilium-sysdump.zip')).toEqual({ name: 'cilium-sysdump.zip', bytes: 0, sha256: '', uploaded: false, error: 'cilium sysdump failed (exit 124: timed out after 1 s)' });
    // Exit 124 is timeout(1)'s own: the stand-in (which sleeps 300 s) was killed at the limit.
    expect(putsTo(SYSDUMP_KEY)).toEqual([]);
    expect(ran.leftovers).toEqual([]);
  });

  it('reports a failing sysdump with its exit status and last words', async () => {
    const ran = await collect({}, { STUB_SYSDUMP: 'fail' });
    expect(ran.exitCode).toBe(0);
    expect(artifact(ran, 'cilium-sysdump.zip')).toMatchObject({
      uploaded: false,
      error: 'cilium sysdump failed (exit 1): Error: failed to create sysdump collector: failed to collect Kubernetes nodes: connection refused',
    });
  });

  it('exits 4 when node-logs.tar.gz is refused (HTTP 403), naming the status and printing no URL', async () => {
    s3.inject('PutObject', 'AccessDenied'); // node-logs.tar.gz goes first
    const ran = await collect();
    expect(ran.exitCode).toBe(4);
    expect(artifact(ran, 'node-logs.tar.gz')).toMatchObject({ uploaded: false, error: 'upload failed after 1 attempt: HTTP 403' });
    expect(putsTo(NODE_LOGS_KEY)).toHaveLength(1);
    // The sysdump still went up: one artifact failing does not cost the other.
    expect(artifact(ran, 'cilium-sysdump.zip')).toMatchObject({ uploaded: true });
    expectNoUrl(ran);
  });

  it("retries S3's 400 RequestTimeout (a stalled upload), unlike other 4xx", async () => {
    s3.inject('PutObject', 'RequestTimeout');
    const ran = await collect({ LAB_SYSDUMP_URL: '' });
    expect(ran.exitCode).toBe(0);
    expect(putsTo(NODE_LOGS_KEY).map((p) => p.status)).toEqual([400, 200]);
    expect(ran.pausedSeconds).toBe(2); // the first back-off, on the fake clock
    expectNoUrl(ran);
  });

  it('retries an upload answered HTTP 500 and succeeds on the next attempt', async () => {
    s3.inject('PutObject', 'InternalError');
    const ran = await collect({ LAB_SYSDUMP_URL: '' });
    expect(ran.exitCode).toBe(0);
    expect(putsTo(NODE_LOGS_KEY).map((p) => p.status)).toEqual([500, 200]);
    expect(ran.pausedSeconds).toBe(2);
    const body = stored(NODE_LOGS_KEY) as Buffer;
    expect(ran.artifacts).toEqual([{ name: 'node-logs.tar.gz', bytes: body.length, sha256: sha256(body), uploaded: true }]);
    expectNoUrl(ran);
  });
});

describe('collect-logs.sh values', () => {
  it('exits 2 on an empty LAB_NODE_LOGS_URL before collecting anything', async () => {
    const ran = await collect({ LAB_NODE_LOGS_URL: '' });
    expect(ran.exitCode).toBe(2);
    expect(ran.stderr).toContain('LAB_NODE_LOGS_URL is empty');
    expect([ran.stdout, ran.calls, ran.leftovers, s3.calls]).toEqual(['', [], [], []]);
  });

  it.each(['LAB_SYSDUMP_TIMEOUT_SECONDS', 'LAB_UPLOAD_TIMEOUT_SECONDS'] as const)('exits 2 when %s is not a number', async (name) => {
    const ran = await collect({ [name]: '5m' });
    expect(ran.exitCode).toBe(2);
    expect(ran.stderr).toContain(`${name}='5m' is not a whole number of seconds`);
    expect([ran.stdout, ran.calls, s3.calls]).toEqual(['', [], []]);
  });
});

describe('collect-logs.sh on a worker', () => {
  it('without LAB_SYSDUMP_URL prints no sysdump line and never calls cilium, nor kubectl without the admin kubeconfig', async () => {
    const ran = await collect({ LAB_SYSDUMP_URL: '' }, { LAB_KUBECONFIG: join(work, 'no-admin.conf') });
    expect(ran.exitCode).toBe(0);
    expect(ran.artifacts.map((a) => a.name)).toEqual(['node-logs.tar.gz']);
    expect(ran.calls.filter((c) => /^(cilium|kubectl) /.test(c))).toEqual([]);
    expect(putsTo(SYSDUMP_KEY)).toEqual([]);
    const { files } = unpackNodeLogs();
    expect(files.has('node-logs/kubernetes/nodes.txt')).toBe(false);
    expect(files.get('node-logs/collect.log')?.toString('utf8')).toContain('kubernetes/: skipped, no admin kubeconfig here');
    expect(statSync(join(root, 'etc/kubernetes/admin.conf')).isFile()).toBe(true);
  });
});

describe("collect-logs.sh on the router of profile bgp", () => {
  it("adds FRR's running configuration, sessions, BGP table and journal where vtysh is (the router)", async () => {
    const frrBin = mkdtempSync(join(work, 'frr-bin-'));
    // vtysh as the router's FRR answers it (the shapes of FRR 8.4's text output)
    writeFileSync(
      join(frrBin, 'vtysh'),
      `#!/usr/bin/env bash\ncase "$2" in\n  'show running-config') printf 'router bgp 65000\\n neighbor CILIUM peer-group\\n' ;;\n  'show bgp summary') printf 'Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc\\n192.168.10.10   4      65001        12         9        0    0    0 00:01:02            2        0 k8s-s\\n' ;;\n  'show ip bgp') printf '   Network          Next Hop            Metric LocPrf Weight Path\\n*> 172.16.0.0/24    192.168.10.10            0             0 65001 i\\n' ;;\n  *) exit 1 ;;\nesac\n`,
    );
    chmodSync(join(frrBin, 'vtysh'), 0o755);
    const ran = await collect({}, { PATH: `${frrBin}:${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` });
    expect(ran.exitCode).toBe(0);
    const { files } = unpackNodeLogs();
    expect(files.get('node-logs/frr/running-config.txt')?.toString('utf8')).toBe('router bgp 65000\n neighbor CILIUM peer-group\n');
    expect(files.get('node-logs/frr/bgp-summary.txt')?.toString('utf8')).toMatch(/^192\.168\.10\.10 .* k8s-s$/m);
    expect(files.get('node-logs/frr/bgp-table.txt')?.toString('utf8')).toContain('172.16.0.0/24');
    expect(files.has('node-logs/journal/frr.log')).toBe(true);
  });
});
