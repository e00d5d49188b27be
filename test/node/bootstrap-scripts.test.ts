/**
 * Runs the real node bootstrap functions in bash, on this machine: the kubeadm configs they
 * write, the CA hash they pin, the readiness signal they send when they fail, and the deadline
 * their retries respect. (kubeadm, containerd and AWS itself are not here: see the README.)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { NODE_SCRIPTS_DIR } from '../../lib/infra/node-user-data.js';
import { resourcesOfType, synthLab, userDataScript } from '../helpers/synth.js';
import { KUBERNETES_MINORS } from '../../lib/config/catalog.js';

const work = mkdtempSync(join(tmpdir(), 'cilium-lab-node-'));

/** Sources a role script (its main guard keeps main from running), then runs `body`. */
function bash(script: string, body: string, env: Record<string, string> = {}) {
  return spawnSync('bash', ['-c', `source "${join(NODE_SCRIPTS_DIR, script)}"\nset +o errexit\n${body}`], {
    encoding: 'utf8',
    env: { ...process.env, LAB_LOG_FILE: join(work, 'bootstrap.log'), ...env },
  });
}

const TOKEN = 'abcdef.0123456789abcdef';

describe('control plane: kubeadm init configuration', () => {
  const render = (api: string) => {
    const file = join(work, `init-${api}.yaml`);
    const result = bash('control-plane.sh', `LAB_KUBEADM_API=${api}; cp::write_init_config "${file}" "${TOKEN}"`);
    expect(result.stderr).toBe('');
    return { docs: parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()), file };
  };

  it.each(['v1beta3', 'v1beta4'])('%s: writes Init, Cluster and Kubelet configurations', (api) => {
    expect(render(api).docs.map((d) => `${d.apiVersion}/${d.kind}`)).toEqual([
      `kubeadm.k8s.io/${api}/InitConfiguration`,
      `kubeadm.k8s.io/${api}/ClusterConfiguration`,
      'kubelet.config.k8s.io/v1beta1/KubeletConfiguration',
    ]);
  });

  it.each(['v1beta3', 'v1beta4'])('%s: skips the kube-proxy addon', (api) => {
    expect(render(api).docs[0].skipPhases).toEqual(['addon/kube-proxy']);
  });

  it.each(['v1beta3', 'v1beta4'])('%s: installs the kube-proxy addon where the profile keeps it (LAB_KUBE_PROXY=install)', (api) => {
    const file = join(work, `init-kube-proxy-${api}.yaml`);
    const result = bash('control-plane.sh', `LAB_KUBEADM_API=${api}; LAB_KUBE_PROXY=install; cp::write_init_config "${file}" "${TOKEN}"`);
    expect(result.stderr).toBe('');
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
    expect(docs[0].kind).toBe('InitConfiguration');
    expect(docs[0].skipPhases).toBeUndefined();
  });

  it.each(['v1beta3', 'v1beta4'])('%s: profile eni: no podSubnet (no node pod CIDRs) and the node\'s max-pods for the kubelet', (api) => {
    const file = join(work, `init-eni-${api}.yaml`);
    const result = bash('control-plane.sh', `LAB_KUBEADM_API=${api}; LAB_POD_CIDR=''; LAB_MAX_PODS=61; cp::write_init_config "${file}" "${TOKEN}"`);
    expect(result.stderr).toBe('');
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
    expect(docs[1].networking).toEqual({ serviceSubnet: '10.10.0.0/16' });
    const args = docs[0].nodeRegistration.kubeletExtraArgs;
    expect(api === 'v1beta3' ? args : Object.fromEntries(args.map((a: { name: string; value: string }) => [a.name, a.value]))).toEqual({ 'node-ip': '192.168.10.10', 'max-pods': '61' });
  });

  it('a worker of profile eni joins with its max-pods', () => {
    const json = join(work, 'join-eni.json');
    writeFileSync(json, JSON.stringify({ state: 'published', token: TOKEN, caCertHash: `sha256:${'a'.repeat(64)}` }));
    const file = join(work, 'join-eni.yaml');
    const result = bash('worker.sh', `LAB_MAX_PODS=56; worker::write_join_config "${json}" "${file}"`);
    expect(result.stderr).toBe('');
    expect(parseAllDocuments(readFileSync(file, 'utf8'))[0]?.toJS().nodeRegistration.kubeletExtraArgs).toEqual({ 'node-ip': '192.168.10.101', 'max-pods': '56' });
  });

  it('refuses a LAB_KUBE_PROXY it does not know, naming the two it takes', () => {
    const result = bash('control-plane.sh', `LAB_KUBE_PROXY=maybe; ( cp::skip_phases_yaml ); echo "status=$?"`);
    expect(result.stdout).toContain('status=2');
    expect(result.stderr).toContain("LAB_KUBE_PROXY must be skip or install (got 'maybe')");
  });

  it('sets pod and service subnets, the endpoint and the certificate SANs (Elastic IP included)', () => {
    const cluster = render('v1beta3').docs[1];
    expect([cluster.networking, cluster.controlPlaneEndpoint, cluster.apiServer.certSANs, cluster.kubernetesVersion]).toEqual([
      { podSubnet: '172.16.0.0/16', serviceSubnet: '10.10.0.0/16' },
      '192.168.10.10:6443',
      ['192.168.10.10', '203.0.113.10', 'k8s-s'],
      'v1.30.14',
    ]);
  });

  it('gives the bootstrap token the configured short TTL', () => {
    expect(render('v1beta3').docs[0].bootstrapTokens).toEqual([
      expect.objectContaining({ token: TOKEN, ttl: '2h0m0s', usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] }),
    ]);
  });

  it('v1beta3: passes node-ip to the kubelet as a map', () => {
    expect(render('v1beta3').docs[0].nodeRegistration.kubeletExtraArgs).toEqual({ 'node-ip': '192.168.10.10' });
  });

  it('v1beta4: passes node-ip to the kubelet as a name/value list', () => {
    expect(render('v1beta4').docs[0].nodeRegistration.kubeletExtraArgs).toEqual([{ name: 'node-ip', value: '192.168.10.10' }]);
  });

  it('uses the systemd cgroup driver', () => {
    expect(render('v1beta3').docs[2].cgroupDriver).toBe('systemd');
  });

  it('writes the file holding the token readable by root only', () => {
    const { file } = render('v1beta3');
    expect(spawnSync('stat', ['-c', '%a', file], { encoding: 'utf8' }).stdout.trim()).toBe('600');
  });
});

describe('control plane: join secret', () => {
  it('pins the CA public key hash the way kubeadm computes it (sha256 of the SubjectPublicKeyInfo)', () => {
    const key = join(work, 'ca.key');
    const cert = join(work, 'ca.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=kubernetes', '-days', '1'], { stdio: 'ignore' });
    const spki = new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' });
    const expected = `sha256:${createHash('sha256').update(spki).digest('hex')}`;
    expect(bash('control-plane.sh', `cp::ca_cert_hash "${cert}"`).stdout.trim()).toBe(expected);
  });

  it('builds the secret JSON with the token read from stdin, not from arguments', () => {
    const out = bash('control-plane.sh', `cp::join_secret_json "sha256:${'a'.repeat(64)}" <<<"${TOKEN}"`).stdout;
    expect(JSON.parse(out)).toEqual({ state: 'published', endpoint: '192.168.10.10:6443', token: TOKEN, caCertHash: `sha256:${'a'.repeat(64)}` });
  });
});

describe('worker: join configuration', () => {
  const writeSecret = (data: object) => {
    const file = join(work, `join-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(data));
    return file;
  };

  it.each(['v1beta3', 'v1beta4'])('%s: joins the control plane with the token and the pinned CA hash', (api) => {
    const json = writeSecret({ state: 'published', token: TOKEN, caCertHash: `sha256:${'b'.repeat(64)}` });
    const out = join(work, `join-${api}.yaml`);
    const result = bash('worker.sh', `LAB_KUBEADM_API=${api}; worker::write_join_config "${json}" "${out}"`);
    expect(result.stderr).toBe('');
    const doc = parseAllDocuments(readFileSync(out, 'utf8'))[0]?.toJS();
    expect([doc.apiVersion, doc.kind, doc.discovery.bootstrapToken, doc.nodeRegistration.name]).toEqual([
      `kubeadm.k8s.io/${api}`,
      'JoinConfiguration',
      { apiServerEndpoint: '192.168.10.10:6443', token: TOKEN, caCertHashes: [`sha256:${'b'.repeat(64)}`] },
      'k8s-w1',
    ]);
  });

  it('refuses a secret without a kubeadm-shaped token, without printing it', () => {
    const json = writeSecret({ state: 'published', token: 'not-a-token-SECRET', caCertHash: `sha256:${'b'.repeat(64)}` });
    const result = bash('worker.sh', `worker::write_join_config "${json}" "${join(work, 'x.yaml')}"`);
    expect([result.status, result.stderr.includes('holds no token of kubeadm'), result.stderr.includes('SECRET')]).toEqual([40, true, false]);
  });

  it('treats a pending secret as not yet published', () => {
    expect(bash('worker.sh', `worker::published "${writeSecret({ state: 'pending', nonce: 'x' })}"`).status).toBe(1);
    expect(bash('worker.sh', `worker::published "${writeSecret({ state: 'published' })}"`).status).toBe(0);
  });
});

describe('readiness signal and deadline', () => {
  /** A wait-condition handle stand-in on loopback that records every signal. */
  async function withHandle(run: (url: string) => Promise<void>): Promise<{ method: string; body: any }[]> {
    const signals: { method: string; body: any }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let data = '';
      req.on('data', (chunk) => (data += chunk));
      req.on('end', () => {
        signals.push({ method: req.method ?? '', body: JSON.parse(data) });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/handle`);
    } finally {
      server.close();
    }
    return signals;
  }

  /** A boot that logs a step, then fails with a reason (exit 7). */
  const FAILING_BOOT = `source "${join(NODE_SCRIPTS_DIR, 'worker.sh')}"
LAB_READY_URL="$URL"
lab::start_log
lab::install_traps
lab::deadline_start 30
log::info "installing kubelet"
log::error_exit 7 "kubelet=1.30.14-1.1 is not in the repository"`;

  /** Runs a script with LAB_READY_URL's stand-in as $URL: its exit code and the signals it sent. */
  const runSignalling = async (text: string, env: Record<string, string> = {}) => {
    let code = -1;
    const signals = await withHandle(async (url) => {
      code = await new Promise<number>((resolve) => {
        const child = spawn('bash', ['-c', text], { env: { ...process.env, LAB_LOG_FILE: join(work, `log-${Math.random()}`), URL: url, ...env }, stdio: 'ignore' });
        child.on('exit', (status) => resolve(status ?? -1));
      });
    });
    return { code, signals };
  };

  it('a failing node signals FAILURE with its reason and its last log lines', async () => {
    const { code, signals } = await runSignalling(FAILING_BOOT);
    expect(code).toBe(7);
    expect(signals).toEqual([
      {
        method: 'PUT',
        body: {
          Status: 'FAILURE',
          UniqueId: 'k8s-w1',
          Data: 'FAILURE',
          Reason: expect.stringMatching(/^k8s-w1: exit 7: kubelet=1\.30\.14-1\.1 is not in the repository \| last log lines: .*installing kubelet/),
        },
      },
    ]);
  });

  it('waits for the log to be written before it quotes its last lines (tee writes behind the script)', async () => {
    // A tee that starts late, as on a loaded machine: the reason must still carry the last lines.
    const dir = mkdtempSync(join(work, 'slow-tee-'));
    writeFileSync(join(dir, 'tee'), `#!/bin/bash\nsleep 1\nexec ${execFileSync('bash', ['-c', 'command -v tee'], { encoding: 'utf8' }).trim()} "$@"\n`, { mode: 0o755 });
    const { code, signals } = await runSignalling(FAILING_BOOT, { PATH: `${dir}:${process.env.PATH}` });
    expect(code).toBe(7);
    expect(signals.map((s) => s.body.Reason)).toEqual([expect.stringMatching(/last log lines: .*installing kubelet.*ERROR: kubelet=1\.30\.14-1\.1 is not in the repository/)]);
  });

  it('a failing command is named by its source text, never its expanded arguments', async () => {
    const script = `source "${join(NODE_SCRIPTS_DIR, 'worker.sh')}"
LAB_READY_URL="$URL"
lab::install_traps
lab::deadline_start 30
token="${TOKEN}"
false "$token"`;
    const { signals } = await runSignalling(script);
    expect(signals[0]?.body.Reason).toContain(`'false "$token"' failed`);
    expect(signals[0]?.body.Reason).not.toContain(TOKEN);
  });

  it('a node that finishes signals SUCCESS once', async () => {
    const script = `source "${join(NODE_SCRIPTS_DIR, 'testpc.sh')}"
LAB_READY_URL="$URL"
lab::install_traps
lab::deadline_start 30
lab::signal SUCCESS "test host ready"`;
    const { signals } = await runSignalling(script);
    expect(signals.map((s) => [s.body.Status, s.body.Reason])).toEqual([['SUCCESS', 'testpc: test host ready']]);
  });

  /** A fake clock for lib.sh (LAB_FAKE_CLOCK_FILE): pauses advance it, nothing really sleeps. */
  const fakeClock = () => {
    const file = join(work, `clock-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, '1795428900\n');
    return { env: { LAB_FAKE_CLOCK_FILE: file }, elapsed: () => Number(readFileSync(file, 'utf8')) - 1795428900 };
  };

  it('retries stop at the bootstrap deadline with a reason', () => {
    const clock = fakeClock();
    // Deadline 3 s; back-off 1 s (max interval 1): attempts at t=0, 1, 2 and 3, where none is left.
    const result = bash('worker.sh', 'lab::deadline_start 3; retry::until_deadline "reach the API" 1 false; echo "status=$? reason=$LAB_LAST_ERROR"', clock.env);
    expect(result.stdout.trim()).toBe('status=1 reason=reach the API: still failing after 4 attempts when the bootstrap deadline passed');
    expect(clock.elapsed()).toBe(3);
  });

  it('backs off from 2 s, doubling up to the maximum interval, and never past the deadline', () => {
    const clock = fakeClock();
    const result = bash('worker.sh', 'lab::deadline_start 40; retry::until_deadline "flaky" 10 false; echo "status=$?"', clock.env);
    expect(result.stdout.trim()).toBe('status=1');
    const pauses = [...result.stderr.matchAll(/next in (\d+)s \((\d+)s left\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    // 2, 4, 8, then 10 (the maximum), and the last pause shortened to what is left of the deadline.
    expect(pauses).toEqual([[2, 40], [4, 38], [8, 34], [10, 26], [10, 16], [6, 6]]);
    expect(clock.elapsed()).toBe(40);
  });

  it('without a fake clock, pauses with sleep(1) and reads the wall clock', () => {
    const dir = mkdtempSync(join(work, 'sleep-'));
    writeFileSync(join(dir, 'sleep'), '#!/bin/sh\necho "sleep $*" >>"$SLEEP_LOG"\n', { mode: 0o755 });
    const result = bash('worker.sh', 'lab::now; echo "now=$LAB_NOW"; lab::pause 7', { PATH: `${dir}:${process.env.PATH}`, SLEEP_LOG: join(dir, 'log') });
    const now = Number(/now=(\d+)/.exec(result.stdout)?.[1]);
    expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(5);
    expect(readFileSync(join(dir, 'log'), 'utf8')).toBe('sleep 7\n');
  });

  it('retries succeed as soon as the command does', () => {
    const clock = fakeClock();
    const result = bash('worker.sh', 'n=0; attempt() { n=$((n+1)); [ "$n" -ge 2 ]; }; lab::deadline_start 30; retry::until_deadline "flaky" 1 attempt; echo "status=$? tries=$n"', clock.env);
    expect(result.stdout.trim()).toBe('status=0 tries=2');
    expect(clock.elapsed()).toBe(1);
  });
});

describe('errors that cannot heal stop the retries at once; the others are retried (stand-ins on PATH, fake clock)', () => {
  /** A bin directory whose tools answer from a script of answers: the Nth call gets line N (the last line repeats). */
  const standIns = (tools: Record<string, string[]>) => {
    const dir = mkdtempSync(join(work, 'bin-'));
    for (const [tool, answers] of Object.entries(tools)) {
      // Each answer: "<exit code>|<stdout text>" (\n written as \\n). Calls are counted in <tool>.n and logged with their arguments.
      writeFileSync(join(dir, `${tool}.answers`), `${answers.join('\n')}\n`);
      writeFileSync(
        join(dir, tool),
        `#!/bin/bash
n=$(( $(cat "${dir}/${tool}.n" 2>/dev/null || echo 0) + 1 )); echo "$n" >"${dir}/${tool}.n"
printf '%s\\n' "$*" >>"${dir}/${tool}.calls"
line=$(sed -n "\${n}p" "${dir}/${tool}.answers"); [[ -n "$line" ]] || line=$(tail -n 1 "${dir}/${tool}.answers")
printf '%b' "\${line#*|}"
exit "\${line%%|*}"
`,
        { mode: 0o755 },
      );
    }
    const calls = (tool: string): string[] => {
      try {
        return readFileSync(join(dir, `${tool}.calls`), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    return { path: `${dir}:${process.env.PATH}`, calls };
  };
  const clockEnv = () => {
    const file = join(work, `clock-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, '1795428900\n');
    return { LAB_FAKE_CLOCK_FILE: file };
  };
  const run = (body: string, path: string) => bash('worker.sh', `lab::deadline_start 1500\n${body}\necho "status=$? reason=$LAB_LAST_ERROR"`, { PATH: path, ...clockEnv() });

  it('net::download: HTTP 404 (a release that was never published) fails after one attempt, naming the status', () => {
    const bin = standIns({ curl: ['0|404'] });
    const result = run(`net::download https://github.com/cilium/cilium-cli/releases/download/v0.20.0/cilium-linux-amd64.tar.gz "${work}/dl"`, bin.path);
    expect(result.stdout).toContain('status=1 reason=download https://github.com/cilium/cilium-cli/releases/download/v0.20.0/cilium-linux-amd64.tar.gz: HTTP 404 from https://github.com/cilium/cilium-cli/releases/download/v0.20.0/cilium-linux-amd64.tar.gz (attempt 1; not retried)');
    expect(bin.calls('curl')).toHaveLength(1);
  });

  it.each([['503'], ['429'], ['408'], ['000']])('net::download: HTTP %s (or no answer) is retried and succeeds on the next attempt', (code) => {
    const bin = standIns({ curl: [`${code === '000' ? 28 : 0}|${code}`, '0|200'] });
    const result = run(`net::download https://dl.k8s.io/x "${work}/dl"`, bin.path);
    expect(result.stdout).toContain('status=0 reason=');
    expect(bin.calls('curl')).toHaveLength(2);
  });

  it('net::download: bounds each attempt by the time left (--max-time), never past the deadline', () => {
    const bin = standIns({ curl: ['0|200'] });
    const result = bash('worker.sh', `lab::deadline_start 45\nnet::download https://dl.k8s.io/x "${work}/dl"; echo "status=$?"`, { PATH: bin.path, ...clockEnv() });
    expect(result.stdout).toContain('status=0');
    expect(bin.calls('curl')[0]).toMatch(/--max-time 45 /);
  });

  it("apt::install: a version the index does not have (\"Version '1.30.99-1.1' for 'kubelet' was not found\") fails after one attempt", () => {
    const bin = standIns({ 'apt-get': ["100|Reading package lists...\\nE: Version '1.30.99-1.1' for 'kubelet' was not found\\n"] });
    const result = run('apt::install kubelet=1.30.99-1.1', bin.path);
    expect(result.stdout).toContain("status=1 reason=apt-get install kubelet=1.30.99-1.1: Version '1.30.99-1.1' for 'kubelet' was not found (attempt 1; not retried)");
    expect(bin.calls('apt-get')).toHaveLength(1);
  });

  it('apt::install: a failure that can heal is retried with a fresh apt-get update first (which fails on any failed source)', () => {
    const bin = standIns({ 'apt-get': ['100|E: Could not get lock /var/lib/dpkg/lock-frontend\\n', '0|', '0|done\\n'] });
    const result = run('apt::install conntrack', bin.path);
    expect(result.stdout).toContain('status=0 reason=');
    const calls = bin.calls('apt-get');
    expect(calls).toHaveLength(3);
    expect(calls[1]).toMatch(/-o APT::Update::Error-Mode=any .*update$/);
    expect(calls[2]).toMatch(/-y -q install conntrack$/);
  });

  it('apt::update: a dropped source (Error-Mode=any makes apt-get exit 100) is retried, not taken for success', () => {
    const bin = standIns({ 'apt-get': ['100|E: Failed to fetch https://pkgs.k8s.io/core:/stable:/v1.30/deb/InRelease  503\\n', '0|'] });
    const result = run('apt::update', bin.path);
    expect(result.stdout).toContain('status=0 reason=');
    expect(bin.calls('apt-get')).toEqual([expect.stringMatching(/APT::Update::Error-Mode=any/), expect.stringMatching(/APT::Update::Error-Mode=any/)]);
  });

  it('kubeadm join: a preflight [ERROR ...] is permanent; an API server not reachable yet is retried', () => {
    const preflight = standIns({
      kubeadm: [
        '1|[preflight] Running pre-flight checks\\nerror execution phase preflight: [preflight] Some fatal errors occurred:\\n\\t[ERROR FileAvailable--etc-kubernetes-pki-ca.crt]: /etc/kubernetes/pki/ca.crt already exists\\n',
      ],
    });
    const permanent = run(`retry::until_deadline "kubeadm join" 30 worker::join_once "${work}/join.yaml"`, preflight.path);
    expect(permanent.stdout).toContain('status=1 reason=kubeadm join: kubeadm preflight: [ERROR FileAvailable--etc-kubernetes-pki-ca.crt]: /etc/kubernetes/pki/ca.crt already exists (attempt 1; not retried)');

    const notYet = standIns({ kubeadm: ['1|error execution phase preflight: couldn\'t validate the identity of the API Server: Get "https://192.168.10.10:6443": connection refused\\n', '0|', '0|This node has joined the cluster\\n'] });
    const healed = run(`retry::until_deadline "kubeadm join" 30 worker::join_once "${work}/join.yaml"`, notYet.path);
    expect(healed.stdout).toContain('status=0 reason=');
    // join, reset after the failure, join again
    expect(notYet.calls('kubeadm').map((c) => c.split(' ')[0])).toEqual(['join', 'reset', 'join']);
  });

  it('prepare-node installs conntrack (kubeadm < 1.32 preflight needs it; kubelet packages no longer pull it in)', () => {
    const bin = standIns({ 'apt-get': ['0|'], containerd: ['0|SystemdCgroup = false\\n'], systemctl: ['0|'] });
    const result = bash('worker.sh', `lab::deadline_start 1500\nnode::check_containerd() { :; }\nnode::configure_containerd() { :; }\nnode::write_crictl_config() { :; }\nnode::install_containerd; echo "status=$?"`, { PATH: bin.path, ...clockEnv() });
    expect(result.stdout).toContain('status=0');
    expect(bin.calls('apt-get')[0]).toMatch(/ install containerd conntrack /);
  });
});

describe('CNI plugins a profile chains behind Cilium (LAB_CNI_PLUGINS: portmap for profile kube-proxy)', () => {
  /** A CNI bin dir holding `plugins`, and an apt-get stand-in that drops `installs` into it (kubernetes-cni). */
  const setUp = (plugins: string[], installs: string[]) => {
    const dir = mkdtempSync(join(work, 'cni-'));
    const cniBin = join(dir, 'opt-cni-bin');
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', cniBin, bin]);
    for (const p of plugins) writeFileSync(join(cniBin, p), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(
      join(bin, 'apt-get'),
      `#!/bin/bash\nprintf '%s\\n' "$*" >>"${dir}/apt.calls"\n${installs.map((p) => `printf '#!/bin/sh\\n' >"${cniBin}/${p}"; chmod 755 "${cniBin}/${p}"`).join('\n')}\n`,
      { mode: 0o755 },
    );
    const clock = join(dir, 'clock');
    writeFileSync(clock, '1795428900\n');
    const run = (wanted: string) =>
      bash('worker.sh', `lab::deadline_start 1500\nLAB_CNI_PLUGINS='${wanted}'\n( node::require_cni_plugins ); echo "status=$?"`, {
        PATH: `${bin}:${process.env.PATH}`,
        NODE_CNI_BIN_DIR: cniBin,
        LAB_FAKE_CLOCK_FILE: clock,
      });
    const aptCalls = () => {
      try {
        return readFileSync(join(dir, 'apt.calls'), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    return { run, aptCalls };
  };

  it('does nothing for a profile that chains none (the study lab)', () => {
    const node = setUp([], []);
    expect(node.run('').stdout).toContain('status=0');
    expect(node.aptCalls()).toEqual([]);
  });

  it('finds portmap where kubeadm\'s packages put it, without installing anything', () => {
    const node = setUp(['bridge', 'portmap'], []);
    expect(node.run('portmap').stdout).toContain('status=0');
    expect(node.aptCalls()).toEqual([]);
  });

  it('installs kubernetes-cni when portmap is missing, then finds it', () => {
    const node = setUp([], ['portmap']);
    expect(node.run('portmap').stdout).toContain('status=0');
    expect(node.aptCalls().some((c) => / install .*kubernetes-cni/.test(c))).toBe(true);
  });

  it('stops the boot naming the plugin when kubernetes-cni does not bring it either', () => {
    const node = setUp([], ['bridge']);
    const result = node.run('portmap');
    expect(result.stdout).toContain('status=15');
    expect(result.stderr).toMatch(/the profile chains CNI plugins not in \S+opt-cni-bin even after installing kubernetes-cni: portmap/);
  });

  it('gives every Kubernetes node of profile kube-proxy portmap to check and the control plane the kube-proxy addon', () => {
    const lab = synthLab({ profile: 'kube-proxy' });
    const scripts = resourcesOfType(lab.json, 'AWS::EC2::Instance').map(([, instance]) => userDataScript(instance));
    const kube = scripts.filter((s) => s.includes('readonly LAB_K8S_MINOR='));
    expect(kube).toHaveLength(3);
    for (const script of kube) expect(script).toContain("readonly LAB_CNI_PLUGINS='portmap'");
    expect(scripts.filter((s) => s.includes("readonly LAB_KUBE_PROXY='install'"))).toHaveLength(1);
    const study = resourcesOfType(synthLab({}).json, 'AWS::EC2::Instance').map(([, instance]) => userDataScript(instance));
    expect(study.filter((s) => s.includes("readonly LAB_KUBE_PROXY='skip'"))).toHaveLength(1);
    expect(study.filter((s) => s.includes("readonly LAB_CNI_PLUGINS=''"))).toHaveLength(3);
  });
});

describe('study fidelity of the hosts', () => {
  it('writes every lab host into /etc/hosts as one block a rerun replaces, keeping the other lines', () => {
    const hosts = join(work, 'hosts');
    writeFileSync(hosts, '127.0.0.1 localhost\n::1 ip6-localhost\n');
    const body = `LAB_HOSTS="192.168.10.10 k8s-s,192.168.10.101 k8s-w1,192.168.20.100 testpc"; lab::write_hosts "${hosts}"; lab::write_hosts "${hosts}"`;
    expect(bash('worker.sh', body).status).toBe(0);
    expect(readFileSync(hosts, 'utf8')).toBe(
      '127.0.0.1 localhost\n::1 ip6-localhost\n# cilium-lab hosts begin\n192.168.10.10 k8s-s\n192.168.10.101 k8s-w1\n192.168.20.100 testpc\n# cilium-lab hosts end\n',
    );
  });

  it('gives every instance the names of all lab hosts (LAB_HOSTS in each values block)', () => {
    const lab = synthLab({ 'workers.count': '3' });
    for (const [, instance] of resourcesOfType(lab.json, 'AWS::EC2::Instance')) {
      expect(userDataScript(instance)).toContain(
        "readonly LAB_HOSTS='192.168.10.10 k8s-s,192.168.10.101 k8s-w1,192.168.10.102 k8s-w2,192.168.10.103 k8s-w3,192.168.20.100 testpc'",
      );
    }
  });

  it("testpc serves the study's page: its own name, from apache2", () => {
    const dir = mkdtempSync(join(work, 'www-'));
    const result = bash('testpc.sh', `testpc::web_page "${dir}"`);
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe('<h1>Web Server : testpc</h1>\n');
    expect(readFileSync(join(NODE_SCRIPTS_DIR, 'testpc.sh'), 'utf8')).toMatch(/apt::install [^\n]*\bapache2\b/);
  });
});

describe('pkgs.k8s.io signing keys (kubernetes/release#3818: an old minor may serve a stale key)', () => {
  /** curl that writes "key of <url>" to --output and answers 404 for URLs matching `missing`; gpg that marks what it dearmored. */
  const tools = (missing: RegExp | undefined) => {
    const dir = mkdtempSync(join(work, 'keys-'));
    writeFileSync(
      join(dir, 'curl'),
      `#!/bin/bash
out=""; url=""; prev=""
for a in "$@"; do [[ "$prev" == --output ]] && out=$a; [[ "$a" == https://* ]] && url=$a; prev=$a; done
if [[ -n "${missing?.source ?? ''}" && "$url" =~ ${missing?.source ?? 'x^'} ]]; then echo 'not found' >"$out"; printf 404; exit 0; fi
echo "key of $url" >"$out"; printf 200
`,
      { mode: 0o755 },
    );
    // gpg with a home: --import collects key files there, --export prints what was collected (merged: sorted, once each)
    writeFileSync(
      join(dir, 'gpg'),
      '#!/bin/bash\nhome=""; prev=""; for a in "$@"; do [[ "$prev" == --homedir ]] && home=$a; prev=$a; done\ncase " $* " in\n  *" --import "*) cat "${@: -1}" >>"$home/imported" ;;\n  *" --export "*) printf "EXPORTED[%s]\\n" "$(sort -u "$home/imported" | tr "\\n" ";")" ;;\nesac\n',
      { mode: 0o755 },
    );
    return dir;
  };
  const keyring = (dir: string, minor: string, keyMinor: string) => {
    const file = join(dir, 'keyring.gpg');
    const clock = join(dir, 'clock');
    writeFileSync(clock, '1795428900\n');
    const result = bash('worker.sh', `LAB_K8S_MINOR=${minor}; LAB_K8S_KEY_MINOR=${keyMinor}; lab::deadline_start 600; node::kubernetes_keyring "${file}"; echo "status=$?"`, {
      PATH: `${dir}:${process.env.PATH}`,
      LAB_FAKE_CLOCK_FILE: clock,
    });
    return { result, content: result.stdout.includes('status=0') ? readFileSync(file, 'utf8') : '' };
  };

  it("merges the pinned minor's key and a maintained minor's key in one GnuPG home and exports them as one keyring (no stale copy first)", () => {
    const dir = tools(undefined);
    const { result, content } = keyring(dir, '1.30', '1.34');
    expect(result.stdout).toContain('status=0');
    expect(content).toBe('EXPORTED[key of https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key;key of https://pkgs.k8s.io/core:/stable:/v1.34/deb/Release.key;]\n');
  });

  it("falls back to the maintained minor's key when the pinned minor serves none (404)", () => {
    const dir = tools(/v1\.30/);
    const { result, content } = keyring(dir, '1.30', '1.34');
    expect(result.stdout).toContain('status=0');
    expect(content).toBe('EXPORTED[key of https://pkgs.k8s.io/core:/stable:/v1.34/deb/Release.key;]\n');
    expect(result.stderr).toContain('no signing key served for v1.30');
  });

  it('fails with a reason when no key can be had', () => {
    const dir = tools(/Release\.key/);
    const { result } = keyring(dir, '1.30', '1.34');
    expect(result.status).toBe(13);
    expect(result.stderr).toContain('no pkgs.k8s.io signing key could be downloaded (v1.34, v1.30)');
  });

  it('asks once when the pinned minor is the maintained one', () => {
    const dir = tools(undefined);
    const { content } = keyring(dir, '1.34', '1.34');
    expect(content).toBe('EXPORTED[key of https://pkgs.k8s.io/core:/stable:/v1.34/deb/Release.key;]\n');
  });

  it('gives every Kubernetes node the newest minor the lab supports as the key fallback', () => {
    const lab = synthLab();
    for (const [, instance] of resourcesOfType(lab.json, 'AWS::EC2::Instance').slice(0, 3)) {
      expect(userDataScript(instance)).toContain(`readonly LAB_K8S_KEY_MINOR='${Object.keys(KUBERNETES_MINORS).at(-1)}'`);
    }
  });
});

describe('kubectl on the control plane, as the study has it', () => {
  it('renames the admin context CiliumLab and sets kubectl up for root and ubuntu', () => {
    const dir = mkdtempSync(join(work, 'kubectl-'));
    writeFileSync(join(dir, 'admin.conf'), 'apiVersion: v1\nkind: Config\n');
    writeFileSync(
      join(dir, 'kubectl'),
      `#!/bin/bash\necho "kubectl $*" >>"${dir}/calls"\n[[ "$*" == *"get-contexts -o name"* ]] && echo 'kubernetes-admin@cilium-lab'\nexit 0\n`,
      { mode: 0o755 },
    );
    const result = bash(
      'control-plane.sh',
      `cp::setup_kubectl() { echo "setup $1 $2" >>"${dir}/calls"; }; cp::setup_kubeconfigs; echo "status=$?"`,
      { PATH: `${dir}:${process.env.PATH}`, CP_RUN_DIR: dir, CP_ADMIN_CONF: join(dir, 'admin.conf') },
    );
    expect(result.stdout).toContain('status=0');
    const calls = readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean);
    expect(calls).toContain(`kubectl --kubeconfig ${dir}/admin-ciliumlab.conf config rename-context kubernetes-admin@cilium-lab CiliumLab`);
    expect(calls.filter((c) => c.startsWith('setup'))).toEqual(['setup root /root', 'setup ubuntu /home/ubuntu']);
  });

  it("installs the user's kubeconfig 0600 and the study's alias k with completion, once", () => {
    const dir = mkdtempSync(join(work, 'home-'));
    writeFileSync(join(dir, 'admin-ciliumlab.conf'), 'apiVersion: v1\n');
    const home = join(dir, 'root-home');
    const body = `cp::setup_kubectl root "${home}"; cp::setup_kubectl root "${home}"; echo "status=$?"`;
    const result = bash('control-plane.sh', `mkdir -p "${home}"; ${body}`, { CP_RUN_DIR: dir });
    expect(result.stdout).toContain('status=0');
    expect(statSync(join(home, '.kube/config')).mode & 0o777).toBe(0o600);
    const bashrc = readFileSync(join(home, '.bashrc'), 'utf8');
    expect(bashrc.match(/alias k=kubectl/g)).toHaveLength(1);
    expect(bashrc).toContain('complete -o default -F __start_kubectl k');
  });
});

describe('containerd: a release the Kubernetes minor is supported with, and the keys the cluster depends on', () => {
  // Stand-ins for `containerd config default`, written here in the shape of each config version
  // (the keys that matter at their table paths; the real files hold every other default too).
  const DEFAULTS: Record<string, string> = {
    '1.7.28': [
      'version = 2',
      '[plugins]',
      '  [plugins."io.containerd.grpc.v1.cri"]',
      '    sandbox_image = "registry.k8s.io/pause:3.8"',
      '    [plugins."io.containerd.grpc.v1.cri".cni]',
      '      bin_dir = "/usr/lib/cni"',
      '      conf_dir = "/etc/cni/net.d"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '      runtime_type = "io.containerd.runc.v2"',
      '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      '        SystemdCgroup = false',
    ].join('\n'),
    '2.2.1': [
      'version = 3',
      '[plugins]',
      "  [plugins.'io.containerd.cri.v1.images']",
      "    [plugins.'io.containerd.cri.v1.images'.pinned_images]",
      "      sandbox = 'registry.k8s.io/pause:3.10.1'",
      "  [plugins.'io.containerd.cri.v1.runtime']",
      "    [plugins.'io.containerd.cri.v1.runtime'.cni]",
      "      bin_dir = ''",
      "      bin_dirs = ['/usr/lib/cni']",
      "      conf_dir = '/etc/cni/net.d'",
      "    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
      "      runtime_type = 'io.containerd.runc.v2'",
      "      sandboxer = 'podsandbox'",
      "      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
      '        SystemdCgroup = false',
    ].join('\n'),
  };
  // containerd 2.0.0-2.0.6 and 2.1.0-2.1.4 print the runc options table without SystemdCgroup
  // (containerd#12101, fixed by #12244): 2.1.4's default is 2.2.1's without that line.
  // Its bin_dir is made non-empty here (as a packaged default might print it) to show it is emptied.
  DEFAULTS['2.1.4'] = DEFAULTS['2.2.1']!.split('\n').filter((line) => !line.includes('SystemdCgroup')).map((line) => line.replace("bin_dir = ''", "bin_dir = '/usr/lib/cni'")).join('\n');
  // 2.0.x has bin_dir only (bin_dirs came in 2.1), and 2.0.0-2.0.6 no SystemdCgroup line either.
  DEFAULTS['2.0.6'] = DEFAULTS['2.1.4'].split('\n').filter((line) => !line.includes('bin_dir = ')).map((line) => line.replace("bin_dirs = ['/usr/lib/cni']", "bin_dir = '/usr/lib/cni'")).join('\n');
  const containerd = (version: string) => {
    const dir = mkdtempSync(join(work, 'containerd-'));
    writeFileSync(join(dir, 'default.toml'), `${DEFAULTS[version] ?? ''}\n`);
    writeFileSync(
      join(dir, 'containerd'),
      `#!/bin/bash\ncase "$*" in\n  --version) echo 'containerd github.com/containerd/containerd/v2 ${version} 1234567' ;;\n  'config default') cat "${dir}/default.toml" ;;\nesac\n`,
      { mode: 0o755 },
    );
    return dir;
  };
  const toml = (file: string): any => JSON.parse(execFileSync('python3', ['-c', 'import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))', file], { encoding: 'utf8' }));

  const cases = Object.entries(KUBERNETES_MINORS).flatMap(([minor, facts]) => ['1.7.28', '2.0.6', '2.1.4', '2.2.1'].map((version) => [minor, version, facts.pauseImage] as const));
  it.each(cases)('Kubernetes %s on containerd %s: SystemdCgroup, the sandbox image %s and /opt/cni/bin, at their table paths', (minor, version, pause) => {
    const dir = containerd(version);
    const config = join(dir, 'config.toml');
    const result = bash('worker.sh', `LAB_PAUSE_IMAGE='${pause}'; node::configure_containerd "${config}"; echo "status=$?"`, { PATH: `${dir}:${process.env.PATH}` });
    expect([minor, result.stdout.trim()]).toEqual([minor, 'status=0']);
    const parsed = toml(config);
    if (version.startsWith('1.')) {
      const cri = parsed.plugins['io.containerd.grpc.v1.cri'];
      expect([cri.containerd.runtimes.runc.options.SystemdCgroup, cri.sandbox_image, cri.cni.bin_dir]).toEqual([true, pause, '/opt/cni/bin']);
    } else {
      const runtime = parsed.plugins['io.containerd.cri.v1.runtime'];
      const images = parsed.plugins['io.containerd.cri.v1.images'];
      expect([runtime.containerd.runtimes.runc.options.SystemdCgroup, images.pinned_images.sandbox]).toEqual([true, pause]);
      if (version.startsWith('2.0.')) expect([runtime.cni.bin_dir, runtime.cni.bin_dirs]).toEqual(['/opt/cni/bin', undefined]);
      else expect([runtime.cni.bin_dirs, runtime.cni.bin_dir]).toEqual([['/opt/cni/bin'], '']); // containerd refuses both set
      expect(runtime.containerd.runtimes.runc.sandboxer).toBe('podsandbox'); // every other default kept
    }
  });

  it('stops the boot, naming the key, when the default config lacks one', () => {
    const dir = containerd('2.2.1');
    writeFileSync(join(dir, 'default.toml'), "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = false\n");
    const result = bash('worker.sh', `LAB_PAUSE_IMAGE='registry.k8s.io/pause:3.9'; node::configure_containerd "${join(dir, 'config.toml')}"`, { PATH: `${dir}:${process.env.PATH}` });
    expect(result.status).toBe(11);
    expect(result.stderr).toContain('no sandbox image key to set to registry.k8s.io/pause:3.9');
  });

  it.each([
    ['1.30', '1.7.13 2.0.0 2.1.0', '1.7.28', 0, ''],
    ['1.34', '1.7.28 2.0.6 2.1.3', '1.7.24', 14, 'containerd 1.7.24 is older than 1.7.28, the oldest 1.7.x that Kubernetes 1.34 is supported with'],
    ['1.30', '1.7.13 2.0.0 2.1.0', '2.2.1', 0, 'newer than the support table'],
    ['1.30', '1.7.13 2.0.0 2.1.0', '1.6.38', 14, 'containerd 1.6.38 is not a release line Kubernetes 1.30 is supported with'],
  ])('Kubernetes %s (containerd minimums %s) with containerd %s: exit %i', (minor, minimums, version, status, said) => {
    const result = bash('worker.sh', `LAB_K8S_MINOR=${minor}; LAB_CONTAINERD_MINIMUMS='${minimums}'; node::check_containerd ${version}; echo "status=$?"`);
    if (status === 0) expect(result.stdout).toContain('status=0');
    else expect(result.status).toBe(status);
    expect(result.stderr).toContain(said);
  });

  it('reads the version from containerd --version and writes /etc/crictl.yaml for containerd', () => {
    const dir = containerd('2.2.1');
    const crictl = join(dir, 'crictl.yaml');
    const result = bash('worker.sh', `echo "version=$(node::containerd_version)"; node::write_crictl_config "${crictl}"`, { PATH: `${dir}:${process.env.PATH}` });
    expect(result.stdout).toContain('version=2.2.1');
    expect(parseAllDocuments(readFileSync(crictl, 'utf8'))[0]?.toJS()).toEqual({ 'runtime-endpoint': 'unix:///run/containerd/containerd.sock', 'image-endpoint': 'unix:///run/containerd/containerd.sock', timeout: 10 });
  });
});

describe('the pkgs.k8s.io keyring with real gpg: a stale copy of the key served first does not break apt', () => {
  const gpgSkip = spawnSync('gpg', ['--version']).status === 0 && spawnSync('gpgv', ['--version']).status === 0 ? undefined : 'gpg/gpgv not installed';
  (gpgSkip === undefined ? it : it.skip)('merges an expired and a current copy so gpgv (as apt runs it) reports GOODSIG, not EXPKEYSIG', () => {
    const dir = mkdtempSync(join(work, 'realgpg-'));
    const home = join(dir, 'signer');
    execFileSync('install', ['-d', '-m', '0700', home]);
    const gpg = (args: string[]) => execFileSync('gpg', ['--batch', '--quiet', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      // A key made in 2020 that expired a day later (the stale copy an old minor may serve)...
      gpg(['--faked-system-time', '20200101T000000', '--quick-gen-key', 'Repo Signing <repo@example.com>', 'rsa2048', 'sign', '1d']);
      const fpr = /^fpr:+([0-9A-F]+):/m.exec(gpg(['--list-keys', '--with-colons']))?.[1] as string;
      writeFileSync(join(dir, 'stale.asc'), gpg(['--armor', '--export']));
      // ...and the same key with its expiry moved on (the current copy), which signs the repository.
      gpg(['--quick-set-expire', fpr, '1y']);
      writeFileSync(join(dir, 'fresh.asc'), gpg(['--armor', '--export']));
      writeFileSync(join(dir, 'Release'), 'Origin: test\n');
      gpg(['--detach-sign', '--output', join(dir, 'Release.gpg'), join(dir, 'Release')]);
      // curl serves the stale copy for the pinned minor and the current one for the maintained minor.
      writeFileSync(
        join(dir, 'curl'),
        `#!/bin/bash\nout=""; url=""; prev=""\nfor a in "$@"; do [[ "$prev" == --output ]] && out=$a; [[ "$a" == https://* ]] && url=$a; prev=$a; done\nif [[ "$url" == *v1.30* ]]; then cp "${dir}/stale.asc" "$out"; else cp "${dir}/fresh.asc" "$out"; fi\nprintf 200\n`,
        { mode: 0o755 },
      );
      const clock = join(dir, 'clock');
      writeFileSync(clock, '1795428900\n');
      const keyring = join(dir, 'kubernetes-apt-keyring.gpg');
      const result = bash('worker.sh', `LAB_K8S_MINOR=1.30; LAB_K8S_KEY_MINOR=1.34; lab::deadline_start 600; node::kubernetes_keyring "${keyring}"; echo "status=$?"`, {
        PATH: `${dir}:${process.env.PATH}`,
        LAB_FAKE_CLOCK_FILE: clock,
      });
      expect(result.stdout).toContain('status=0');
      const verify = (ring: string) => spawnSync('gpgv', ['--status-fd', '1', '--keyring', ring, join(dir, 'Release.gpg'), join(dir, 'Release')], { encoding: 'utf8' }).stdout;
      expect(verify(keyring)).toMatch(/\[GNUPG:\] GOODSIG /);
      expect(verify(keyring)).not.toMatch(/EXPKEYSIG/);
      // The old way, the two copies concatenated with the stale one first, is what apt would have refused.
      const concatenated = join(dir, 'concatenated.gpg');
      writeFileSync(concatenated, Buffer.concat(['stale.asc', 'fresh.asc'].map((f) => execFileSync('gpg', ['--batch', '--dearmor'], { input: readFileSync(join(dir, f)) }))));
      expect(verify(concatenated)).toMatch(/EXPKEYSIG/);
    } finally {
      spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
    }
  });
});
