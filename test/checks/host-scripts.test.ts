/**
 * The scripts the host scenarios ship over SSM, run for real in bash (with stand-ins for
 * iptables-save and ethtool on PATH), and linted: a counting bug here would make the checks
 * pass on a real cluster whatever it holds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { taggedJson } from '../../lib/checks/parsers.js';
import { NIC_STATE_TAG, nicStateScript } from '../../lib/checks/scenarios/nic-tuning.js';
import { IPTABLES_SCRIPT, IPTABLES_TAG } from '../../lib/checks/scenarios/no-kube-svc-rules.js';
import { DEVICES_TAG, endpointDevicesScript } from '../../lib/checks/scenarios/netkit-devices.js';
import { NODEPORT_NODES_PER_RUN, NODEPORT_REQUESTS, nodePortProbeScript, parseNodePortAnswers } from '../../lib/checks/scenarios/nodeport.js';
import { upstreamScript } from '../../lib/checks/scenarios/upstream-connectivity.js';

let bin: string;

beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'host-scripts-'));
});

afterEach(() => {
  rmSync(bin, { recursive: true, force: true });
});

function standIn(name: string, body: string): void {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

function runBash(script: string): string {
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` } });
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('the iptables script', () => {
  it('counts KUBE-SVC chains and rules and shows a few of them', () => {
    // given a node where kube-proxy once ran
    standIn(
      'iptables-save',
      `cat <<'DUMP'
*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]
:KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]
-A KUBE-SERVICES -d 10.10.0.1/32 -p tcp -j KUBE-SVC-NPX46M4PTMTKRN6Y
-A KUBE-SVC-NPX46M4PTMTKRN6Y -j KUBE-SEP-AAAA
-A KUBE-SVC-TCOU7JCQXEZGVUNU -j KUBE-SEP-BBBB
-A CILIUM_POST_nat -j ACCEPT
COMMIT
DUMP`,
    );
    // when
    const out = runBash(IPTABLES_SCRIPT);
    // then
    expect(taggedJson(out, IPTABLES_TAG)).toEqual({ kubeSvcRules: 2, kubeSvcChains: 2, cniHostportRules: 0, backends: 'iptables-save' });
    expect(out).toContain('iptables-save: :KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]');
  });

  it('reports zero on a node with only Cilium\'s chains', () => {
    standIn('iptables-save', "printf '*nat\\n:CILIUM_POST_nat - [0:0]\\n-A CILIUM_POST_nat -j ACCEPT\\nCOMMIT\\n'");
    expect(taggedJson(runBash(IPTABLES_SCRIPT), IPTABLES_TAG)).toEqual({ kubeSvcRules: 0, kubeSvcChains: 0, cniHostportRules: 0, backends: 'iptables-save' });
  });
});

describe('the NIC state script (scripts/node/nic-state.sh)', () => {
  // `ip -details link show` as iproute2 prints it (ip/iplink_xdp.c): the flags carry the XDP mode,
  // the detail line the program; ENA in driver mode shows `xdp`, the skb fallback `xdpgeneric`.
  const link = (flags: string, prog?: string) =>
    `2: lo: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 3498 ${flags}qdisc mq state UP mode DEFAULT group default qlen 1000\n` +
    '    link/ether 0a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff promiscuity 0 allmulti 0 minmtu 128 maxmtu 9216\n' +
    (prog ? `    prog/${prog} id 1234 name cil_xdp_entry tag 3b185187f1855c4c jited \n` : '') +
    '    addrgenmode eui64 numtxqueues 8 numrxqueues 8 gso_max_size 65536 gso_max_segs 65535 parentbus pci parentdev 0000:00:05.0';
  const givenIp = (details: string) => {
    // The default route via the loopback device (which always exists), and the link details.
    standIn('ip', `case "$*" in\n  *route*) echo 'default via 192.168.10.1 dev lo proto dhcp src 192.168.10.101 metric 100' ;;\n  *details*) cat <<'EOF'\n${details}\nEOF\n  ;;\nesac`);
  };

  beforeEach(() => {
    standIn('ethtool', "printf 'Channel parameters for lo:\\nPre-set maximums:\\nCombined:\\t4\\nCurrent hardware settings:\\nCombined:\\t2\\n'");
  });

  it('sums the packets the XDP program forwarded (ENA: queue_N_rx_xdp_tx and _redirect, not _pass), null when the driver has none', () => {
    givenIp(link('xdp ', 'xdp'));
    standIn('ethtool', `case "$1" in\n  -S) printf 'NIC statistics:\\n     tx_timeout: 0\\n     queue_0_rx_xdp_aborted: 0\\n     queue_0_rx_xdp_drop: 3\\n     queue_0_rx_xdp_pass: 4000\\n     queue_0_rx_xdp_tx: 17\\n     queue_1_rx_xdp_pass: 1000\\n     queue_1_rx_xdp_tx: 5\\n     queue_1_rx_xdp_redirect: 2\\n     queue_0_tx_bytes: 123456\\n' ;;\n  *) printf 'Pre-set maximums:\\nCombined:\\t4\\nCurrent hardware settings:\\nCombined:\\t2\\n' ;;\nesac`);
    expect(taggedJson(runBash(nicStateScript()), NIC_STATE_TAG)).toMatchObject({ xdpForwarded: 24, channels: 2 });
    standIn('ethtool', `case "$1" in\n  -S) printf 'NIC statistics:\\n     rx_packets: 5\\n' ;;\n  *) exit 1 ;;\nesac`);
    expect(taggedJson(runBash(nicStateScript()), NIC_STATE_TAG)).toMatchObject({ xdpForwarded: null, channels: null });
  });

  it.each([
    ['driver mode', link('xdp ', 'xdp'), { xdp: 'driver', xdpProgId: 1234 }],
    ['generic (skb) mode', link('xdpgeneric ', 'xdpgeneric'), { xdp: 'generic', xdpProgId: 1234 }],
    ['no program', link(''), { xdp: 'none', xdpProgId: null }],
  ])('prints the live MTU, channels and XDP of the default-route device: %s', (_name, details, xdp) => {
    // given
    givenIp(details);
    // when
    const facts = taggedJson(runBash(nicStateScript()), NIC_STATE_TAG);
    // then
    expect(facts).toMatchObject({ interface: 'lo', channels: 2, maxChannels: 4, wantMtu: null, ...xdp });
    expect(typeof facts?.mtu).toBe('number');
  });
});

describe('the NIC state script against a real XDP attachment (a veth in a network namespace of its own)', () => {
  const llc = spawnSync('llc', ['--version']);
  const netns = spawnSync('ip', ['netns', 'list']);
  const skip = llc.error ? 'llc is not installed (apt-get install llvm)' : netns.status !== 0 || process.getuid?.() !== 0 ? 'needs root and ip netns' : undefined;
  const ns = `cilium-lab-xdp-${process.pid}`;
  let object = '';
  const ip = (...args: string[]) => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  };
  const state = () => {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', nicStateScript()], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LAB_NIC_ETHTOOL: 'no-ethtool-here' } });
    expect(r.status).toBe(0);
    return taggedJson(r.stdout, NIC_STATE_TAG);
  };

  beforeAll(() => {
    if (skip) return;
    object = join(mkdtempSync(join(tmpdir(), 'xdp-')), 'xdp-pass.o');
    const built = spawnSync('llc', ['-march=bpf', '-filetype=obj', fileURLToPath(new URL('./fixtures/xdp-pass.ll', import.meta.url)), '-o', object], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`llc: ${built.stderr}`);
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'peer0');
    ip('-n', ns, 'address', 'add', '192.168.10.101/24', 'dev', 'ens5');
    ip('-n', ns, 'link', 'set', 'ens5', 'up');
    ip('-n', ns, 'link', 'set', 'peer0', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', '192.168.10.1', 'dev', 'ens5');
  });
  afterAll(() => {
    if (!skip) spawnSync('ip', ['netns', 'del', ns]);
  });

  (skip ? it.skip : it)('reads driver mode, generic mode and no program from the real ip -details link show', () => {
    ip('-n', ns, 'link', 'set', 'dev', 'ens5', 'xdp', 'obj', object, 'sec', 'xdp');
    expect(state()).toMatchObject({ interface: 'ens5', xdp: 'driver', xdpProgId: expect.any(Number), mtu: 1500 });
    ip('-n', ns, 'link', 'set', 'dev', 'ens5', 'xdp', 'off');
    ip('-n', ns, 'link', 'set', 'dev', 'ens5', 'xdpgeneric', 'obj', object, 'sec', 'xdp');
    expect(state()).toMatchObject({ interface: 'ens5', xdp: 'generic', xdpProgId: expect.any(Number) });
    ip('-n', ns, 'link', 'set', 'dev', 'ens5', 'xdpgeneric', 'off');
    expect(state()).toMatchObject({ interface: 'ens5', xdp: 'none', xdpProgId: null });
  });
});

const shellcheck = spawnSync('shellcheck', ['--version']);
(shellcheck.error ? it.skip : it).each([
  ['iptables', IPTABLES_SCRIPT],
  ['nic state', nicStateScript()],
  ['upstream', upstreamScript(false, 17)],
])('the %s script passes shellcheck (warning) and bash -n', (_name, script) => {
  const file = join(bin, 'script.sh');
  writeFileSync(file, script);
  const lint = spawnSync('shellcheck', ['-S', 'warning', '-s', 'bash', file], { encoding: 'utf8' });
  expect(lint.stdout).toBe('');
  expect(spawnSync('bash', ['-n', file]).status).toBe(0);
});

describe('the NodePort probe (scripts/node/nodeport-probe.sh), run for real against loopback servers', () => {
  // Two "nodes" on loopback addresses: 127.0.0.1 answers like traefik/whoami on both ports, 127.0.0.2
  // has nothing listening on one port (refused) and answers on the other.
  const servers: Server[] = [];
  const listen = (host: string, hostname: string): Promise<number> =>
    new Promise((resolve) => {
      const server = createServer((req, res) => {
        res.end(`Hostname: ${hostname}\nIP: 127.0.0.1\nRemoteAddr: ${req.socket.remoteAddress}:${req.socket.remotePort}\nGET / HTTP/1.1\n`);
      });
      servers.push(server);
      server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
    });
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  const runProbe = (script: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn('bash', ['-c', script], { env: { ...process.env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  (spawnSync('curl', ['--version']).status === 0 ? it : it.skip)('reports each request: who answered, from where, or curl\'s failure', async () => {
    // given
    const clusterPort = await listen('127.0.0.1', 'webpod1');
    const localPort = await listen('127.0.0.2', 'webpod2');
    const script = nodePortProbeScript(
      [
        { name: 'k8s-s', privateIp: '127.0.0.1' },
        { name: 'k8s-w1', privateIp: '127.0.0.2' },
      ],
      { 'webpod-nodeport': clusterPort, 'webpod-local': localPort },
    );
    // when: the script exactly as the scenario ships it
    const run = await runProbe(script);
    // then
    expect([run.code, run.stderr]).toEqual([0, '']);
    const answers = parseNodePortAnswers(run.stdout);
    // one line per node and port, the requests counted by who answered
    expect(answers).toHaveLength(2 * 2);
    const of = (service: string, node: string) => answers.find((a) => a.service === service && a.node === node);
    expect(of('webpod-nodeport', 'k8s-s')).toMatchObject({ ip: '127.0.0.1', port: clusterPort, requests: NODEPORT_REQUESTS, answers: { webpod1: NODEPORT_REQUESTS }, failed: 0 });
    expect(of('webpod-nodeport', 'k8s-w1')).toMatchObject({ answers: {}, failed: NODEPORT_REQUESTS, lastExit: 7, error: expect.stringMatching(/^curl: \(7\) Failed to connect to 127\.0\.0\.2 port \d+/) });
    expect(of('webpod-local', 'k8s-w1')).toMatchObject({ answers: { webpod2: NODEPORT_REQUESTS }, failed: 0 });
    // a full run of nodes, 2 ports, every line as long as the longest (a curl error): within the 24,000 characters SSM returns
    const longest = Math.max(...run.stdout.trim().split('\n').map((l) => l.length)) + 20;
    expect(longest * NODEPORT_NODES_PER_RUN * 2).toBeLessThan(24_000);
  });

  it('refuses missing or malformed parameters with exit 2, naming them', async () => {
    const rendered = nodePortProbeScript([{ name: 'k8s-s', privateIp: 'not-an-ip' }], { 'webpod-nodeport': 30080 });
    const bad = await runProbe(rendered);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'nodeport-probe: k8s-s=not-an-ip: want node=IPv4']);
    const missing = await runProbe(rendered.replace(/^LAB_PROBE_TARGETS=.*$/m, 'LAB_PROBE_TARGETS='));
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('set LAB_PROBE_TARGETS')]);
  });
});

describe('the upstream suite script (scripts/node/cilium-connectivity.sh), run for real with stand-ins of cilium, kubectl and curl', () => {
  let work: string;
  let record: string;
  const run = (script: string, env: Record<string, string> = {}) =>
    spawnSync('bash', ['-c', script], {
      encoding: 'utf8',
      // As SSM starts it: no HOME, /usr/local/bin not on PATH.
      env: { PATH: `${bin}:/usr/bin:/bin`, LAB_KUBECONFIG: join(work, 'admin.conf'), LAB_CONNECTIVITY_DIR: join(work, 'out'), RECORD: record, ...env },
    });

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'upstream-'));
    record = join(work, 'record');
    writeFileSync(join(work, 'admin.conf'), 'apiVersion: v1\n');
    writeFileSync(record, '');
    // cilium: records its arguments and environment, writes the JUnit file and a sysdump, fails.
    standIn(
      'cilium',
      'echo "cilium $* HOME=$HOME KUBECONFIG=$KUBECONFIG" >> "$RECORD"\n' +
        'while [ $# -gt 0 ]; do [ "$1" = --junit-file ] && echo \'<testsuites tests="3" failures="1"/>\' > "$2"; shift; done\n' +
        'echo sysdump > cilium-sysdump-20261202-101500.zip\necho "❌ 1/3 tests failed"\nexit 1',
    );
    standIn(
      'kubectl',
      'case "$1 $2" in\n' +
        '  "get namespaces") printf "namespace/default\\nnamespace/cilium-lab-upstream-1\\nnamespace/cilium-lab-upstream-extra\\nnamespace/kube-system\\n" ;;\n' +
        '  *) echo "kubectl $*" >> "$RECORD" ;;\nesac',
    );
    standIn('curl', 'echo "curl $*" >> "$RECORD"');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('runs the suite in the lab environment with the lab namespace and error-level log checks, uploads the sysdump, and deletes only its namespaces', () => {
    // when
    const result = run(upstreamScript(false, 17, 'https://bucket.s3.example/logs/r/k8s-s/cilium-connectivity-sysdump.zip?sig=1'));
    // then
    expect(result.status).toBe(0);
    expect(taggedJson(result.stdout, 'CILIUM_LAB_UPSTREAM')).toEqual({ exitCode: 1, timedOut: false, junit: true, sysdump: 'uploaded' });
    expect(result.stdout).toMatch(/^CILIUM_LAB_JUNIT_GZ_B64 [A-Za-z0-9+/=]+$/m);
    expect(result.stdout).toContain('❌ 1/3 tests failed');
    const lines = readFileSync(record, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      `cilium connectivity test --test-namespace cilium-lab-upstream --log-check-levels error --junit-file ${join(work, 'out')}/junit.xml --collect-sysdump-on-failure --timeout 17m --test !pod-to-world,!pod-to-cidr,!to-fqdns HOME=/root KUBECONFIG=${join(work, 'admin.conf')}`,
    );
    expect(lines).toContain(`curl -sS --fail --max-time 300 --retry 2 -X PUT --upload-file ${join(work, 'out')}/cilium-sysdump-20261202-101500.zip https://bucket.s3.example/logs/r/k8s-s/cilium-connectivity-sysdump.zip?sig=1`);
    expect(lines).toContain('kubectl delete namespace cilium-lab-upstream-1 --wait=false');
  });

  it('reports a run that timeout(1) stopped as timed out, and still deletes its namespaces', () => {
    // given a timeout that stops the suite (exit 124, as timeout(1) does)
    standIn('timeout', 'exit 124');
    // when
    const result = run(upstreamScript(true, 5));
    // then
    expect(taggedJson(result.stdout, 'CILIUM_LAB_UPSTREAM')).toEqual({ exitCode: 124, timedOut: true, junit: false, sysdump: 'none' });
    expect(readFileSync(record, 'utf8')).toContain('kubectl delete namespace cilium-lab-upstream-1 --wait=false');
  });
});

describe('the endpoint devices script (scripts/node/endpoint-devices.sh)', () => {
  it('counts the pods\' endpoint devices by kind from ip -details -oneline link show, leaving out other devices', () => {
    // given the lines iproute2 prints with -oneline (details on the same line)
    const lines = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0 minmtu 0 maxmtu 0 addrgenmode eui64',
      '2: ens5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 3498 xdp qdisc mq state UP mode DEFAULT group default qlen 1000\\    link/ether 0a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff promiscuity 0 addrgenmode eui64',
      '7: lxc_health@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 3498 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 3e:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 0 \\    netkit mode l3 type primary policy forward peer policy blackhole addrgenmode eui64',
      '9: lxc8e2f1a@if8: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 3498 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 3e:11:22:33:44:66 brd ff:ff:ff:ff:ff:ff link-netnsid 1 promiscuity 0 \\    netkit mode l3 type primary policy forward peer policy blackhole addrgenmode eui64',
      '11: lxc77aa01@if10: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 3498 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 3e:11:22:33:44:77 brd ff:ff:ff:ff:ff:ff link-netnsid 2 promiscuity 0 \\    veth addrgenmode eui64',
    ];
    standIn('ip', `cat <<'EOF'\n${lines.join('\n')}\nEOF`);
    // when
    const facts = taggedJson(runBash(endpointDevicesScript()), DEVICES_TAG);
    // then
    expect(facts).toEqual({ netkit: 1, veth: 1, other: 0, sample: 'lxc8e2f1a: netkit' });
  });
});

describe('the endpoint devices script against real veth devices (a network namespace of its own)', () => {
  const root = spawnSync('ip', ['netns', 'list']).status === 0 && process.getuid?.() === 0;
  const ns = `cilium-lab-devices-${process.pid}`;
  (root ? it : it.skip)('counts an lxc veth as veth from the real ip -details -oneline link show', () => {
    try {
      for (const args of [['netns', 'add', ns], ['-n', ns, 'link', 'add', 'lxc1a2b3c', 'type', 'veth', 'peer', 'name', 'eth0']]) {
        const r = spawnSync('ip', args, { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
      }
      const run = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', endpointDevicesScript()], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
      expect(run.status).toBe(0);
      expect(taggedJson(run.stdout, DEVICES_TAG)).toEqual({ netkit: 0, veth: 1, other: 0, sample: 'lxc1a2b3c: veth' });
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});
