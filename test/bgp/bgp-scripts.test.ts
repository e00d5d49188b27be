/**
 * Profile bgp's shell, run for real: the routes every instance sets up at boot (lib.sh
 * net::lab_routes) and the router's boot steps (router.sh) in network namespaces this test makes,
 * as root; the router's FRR steps against files in a temp directory and the real vtysh; and
 * apply-manifests.sh, rendered as `lab up` sends it, against a kubectl stand-in that registers
 * Cilium's definitions late (fixtures/kubectl-crds.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { bgpResources } from '../../lib/bgp/resources.js';
import { renderFrrConfig } from '../../lib/bgp/frr-config.js';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import { NODE_SCRIPTS_DIR } from '../../lib/infra/node-user-data.js';
import { applyManifestsScript } from '../../lib/lab/manifests.js';
import { renderLabScript, taggedLines } from '../../lib/lab/remote.js';
import { parseRouterState } from '../../lib/checks/bgp-state.js';
import { advertisedRanges } from '../../lib/config/bgp-rules.js';
import { BgpWorld, bgpWorldSetup } from '../checks/bgp-world.js';

const KUBECTL = fileURLToPath(new URL('./fixtures/kubectl-crds.sh', import.meta.url));
const plan = planLab(loadLabConfig({ context: { profile: 'bgp' } }));

const netnsSkip = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : spawnSync('ip', ['netns', 'list']).status !== 0 ? 'no network namespaces here' : undefined;
const vtyshSkip = spawnSync('vtysh', ['--help']).error ? 'FRR is not installed (apt-get install frr)' : undefined;
const itIf = (skip: string | undefined) => (skip === undefined ? it : (title: string, fn: () => void) => it.skip(`${title} [skipped: ${skip}]`, fn));

let work = '';
const ns = `clab-bgp${process.pid % 10000}`;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lab-bgp-scripts-'));
});
const peerNs = `${ns}-peer`;
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  spawnSync('ip', ['netns', 'del', ns]);
  spawnSync('ip', ['netns', 'del', peerNs]);
});

/** Sources a role script (its main guard keeps main from running) and runs `body`, in the test's namespace when `inNs`. */
function bash(script: string, body: string, env: Record<string, string> = {}, inNs = false) {
  const args = ['-c', `source "${join(NODE_SCRIPTS_DIR, script)}"\nset +o errexit\n${body}`];
  return spawnSync(inNs ? 'ip' : 'bash', inNs ? ['netns', 'exec', ns, 'bash', ...args] : args, {
    encoding: 'utf8',
    env: { ...process.env, LAB_LOG_FILE: join(work, 'bootstrap.log'), ...env },
  });
}

/** A fresh namespace with ens5 (its default route) and, when asked, more Ethernet interfaces: an instance's ENIs (their veth peers live in a namespace of their own). */
function freshNamespace(extra: string[] = []) {
  for (const name of [ns, peerNs]) spawnSync('ip', ['netns', 'del', name]);
  const ip = (...args: string[]) => expect(spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8' })).toMatchObject({ status: 0 });
  for (const name of [ns, peerNs]) expect(spawnSync('ip', ['netns', 'add', name]).status).toBe(0);
  for (const name of ['ens5', ...extra]) ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `peer-${name}`, 'netns', peerNs);
  ip('addr', 'add', '192.168.10.10/24', 'dev', 'ens5');
  ip('link', 'set', 'ens5', 'up');
  ip('route', 'add', 'default', 'via', '192.168.10.1', 'dev', 'ens5');
}

describe('net::lab_routes: the routes via the router every instance sets up at boot', () => {
  itIf(netnsSkip)('sets each route on the default-route interface now, keeps them in a netplan file for later boots, and a rerun changes nothing', () => {
    freshNamespace();
    const dir = join(work, 'netplan-routes');
    mkdirSync(dir, { recursive: true });
    const routes = plan.controlPlane.routes.map((r) => `${r.to} via ${r.via}`).join(',');
    expect(routes).toBe('172.16.0.0/16 via 192.168.10.200,10.20.0.0/24 via 192.168.10.200');
    for (let run = 0; run < 2; run++) {
      const result = bash('testpc.sh', `LAB_ROUTES='${routes}'; LAB_NETPLAN_DIR='${dir}'; net::lab_routes`, {}, true);
      expect({ status: result.status, stderr: result.stderr.replace(/^.*\] route .*\n/gm, '') }).toEqual({ status: 0, stderr: '' });
    }
    const table = spawnSync('ip', ['-n', ns, '-4', 'route', 'show'], { encoding: 'utf8' }).stdout;
    expect(table).toMatch(/^172\.16\.0\.0\/16 via 192\.168\.10\.200 dev ens5/m);
    expect(table).toMatch(/^10\.20\.0\.0\/24 via 192\.168\.10\.200 dev ens5/m);
    expect(table.match(/via 192\.168\.10\.200/g)).toHaveLength(2);
    const file = join(dir, '90-cilium-lab-routes.yaml');
    expect(parseYaml(readFileSync(file, 'utf8'))).toEqual({
      network: { version: 2, ethernets: { ens5: { routes: [{ to: '172.16.0.0/16', via: '192.168.10.200' }, { to: '10.20.0.0/24', via: '192.168.10.200' }] } } },
    });
    // netplan warns about files others can read
    expect(spawnSync('stat', ['-c', '%a', file], { encoding: 'utf8' }).stdout.trim()).toBe('600');
  });

  it('does nothing without routes (every profile but bgp), and refuses an entry that is not "CIDR via GATEWAY", naming it', () => {
    const dir = join(work, 'netplan-none');
    mkdirSync(dir, { recursive: true });
    expect(bash('testpc.sh', `LAB_ROUTES=''; LAB_NETPLAN_DIR='${dir}'; net::lab_routes; echo "status $?"; ls "${dir}"`).stdout).toBe('status 0\n');
    // a good entry then a bad one: refused before anything is written or routed
    const bad = bash('testpc.sh', `LAB_ROUTES='10.20.0.0/24 via 192.168.10.200,172.16.0.0/16 192.168.10.200'; LAB_NETPLAN_DIR='${dir}'; net::default_route_interface() { echo ens5; }; ip() { echo "ip $*" >&2; }; net::lab_routes`);
    expect(bad.status).toBe(11);
    expect(bad.stderr).toMatch(/LAB_ROUTES entry '172\.16\.0\.0\/16 192\.168\.10\.200' is not 'CIDR via GATEWAY'/);
    expect(bad.stderr).not.toMatch(/^ip /m);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("router.sh: the router's boot", () => {
  itIf(netnsSkip)('finds the second interface CloudFormation attaches, gives it its address now and in a netplan file matched by MAC', () => {
    freshNamespace(['ens6']);
    const dir = join(work, 'netplan-router');
    mkdirSync(dir, { recursive: true });
    const clock = join(work, 'clock-router');
    writeFileSync(clock, '1000\n');
    const result = bash('router.sh', `LAB_NETPLAN_DIR='${dir}'; lab::deadline_start 60; router::second_interface; echo "status $?"`, { LAB_FAKE_CLOCK_FILE: clock }, true);
    expect(result.stdout).toBe('status 0\n');
    expect(spawnSync('ip', ['-n', ns, '-4', 'addr', 'show', 'ens6'], { encoding: 'utf8' }).stdout).toMatch(/inet 192\.168\.20\.200\/24/);
    const nsMac = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/sys/class/net/ens6/address'], { encoding: 'utf8' }).stdout.trim();
    expect(parseYaml(readFileSync(join(dir, '91-cilium-lab-router.yaml'), 'utf8'))).toEqual({
      network: { version: 2, ethernets: { ens6: { match: { macaddress: nsMac }, 'set-name': 'ens6', dhcp4: false, addresses: ['192.168.20.200/24'] } } },
    });
  });

  itIf(netnsSkip)('waits for the second interface within the deadline, and stops at once when there are several to choose from', () => {
    freshNamespace();
    const clock = join(work, 'clock-wait');
    writeFileSync(clock, '1000\n');
    const none = bash('router.sh', 'lab::deadline_start 30; router::second_interface; echo "status $? ${LAB_LAST_ERROR}"', { LAB_FAKE_CLOCK_FILE: clock }, true);
    expect(none.stdout).toBe('status 1 wait for the second network interface: still failing after 6 attempts when the bootstrap deadline passed\n');
    expect(Number(readFileSync(clock, 'utf8'))).toBe(1030);
    freshNamespace(['ens6', 'ens7']);
    const two = bash('router.sh', 'lab::deadline_start 30; router::second_interface; echo "status $? ${LAB_LAST_ERROR}"', { LAB_FAKE_CLOCK_FILE: clock }, true);
    expect(two.stdout).toMatch(/^status 1 wait for the second network interface: more than one interface besides ens5: ens6 ens7 \(attempt 1; not retried\)$/m);
  });

  itIf(netnsSkip)('forwards between its interfaces, hashes ECMP on layer 4 and sends no ICMP redirects', () => {
    freshNamespace();
    const dir = join(work, 'sysctl');
    mkdirSync(dir, { recursive: true });
    const result = bash('router.sh', `ROUTER_SYSCTL_DIR='${dir}'; router::forwarding; echo "status $?"; sysctl -n net.ipv4.ip_forward net.ipv4.fib_multipath_hash_policy net.ipv4.conf.all.send_redirects`, {}, true);
    expect(result.stdout).toBe('status 0\n1\n1\n0\n');
  });

  it('keeps cloud-init from rendering the network again (a hotplug on 24.04, a later boot): the second ENI stays as router.sh set it', () => {
    const dir = join(work, 'cloud-cfg');
    mkdirSync(dir, { recursive: true });
    expect(bash('router.sh', `ROUTER_CLOUD_CFG_DIR='${dir}'; router::keep_network_config; echo "status $?"`).stdout).toBe('status 0\n');
    expect(parseYaml(readFileSync(join(dir, '99-cilium-lab-router-network.cfg'), 'utf8'))).toEqual({ updates: { network: { when: ['boot-new-instance'] } } });
    // before the router waits for its second ENI
    const main = readFileSync(join(NODE_SCRIPTS_DIR, 'router.sh'), 'utf8');
    expect(main.indexOf('  router::keep_network_config\n')).toBeGreaterThan(0);
    expect(main.indexOf('  router::keep_network_config\n')).toBeLessThan(main.indexOf('  router::second_interface\n'));
  });

  it("writes the lab's FRR configuration and switches bgpd on in FRR's daemons file", () => {
    const dir = join(work, 'etc-frr');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'daemons'), 'bgpd=no\nospfd=no\nzebra=yes\n');
    const conf = renderFrrConfig(plan);
    const result = bash('router.sh', `ROUTER_FRR_DIR='${dir}'; LAB_FRR_CONF_B64='${Buffer.from(conf).toString('base64')}'; router::write_frr_config; echo "status $?"`);
    expect(result.stdout).toBe('status 0\n');
    expect(readFileSync(join(dir, 'frr.conf'), 'utf8')).toBe(conf);
    expect(readFileSync(join(dir, 'daemons'), 'utf8')).toBe('bgpd=yes\nospfd=no\nzebra=yes\n');
  });

  it('signals ready only once bgpd runs the lab configuration (its router-id, a neighbour per node), and names a half-applied one', () => {
    const dir = mkdtempSync(join(work, 'bgpd-'));
    mkdirSync(join(dir, 'bin'));
    // vtysh answering as FRR 8.4 does (no router-id until frrinit has applied frr.conf); reads counted in a file
    const summary = (routerId: string, peers: number) => JSON.stringify({ ipv4Unicast: { routerId, as: 65000, peerCount: peers, peers: {} } });
    writeFileSync(join(dir, 'answers'), [summary('', 0), summary('192.168.10.200', 3)].join('\n'));
    writeFileSync(join(dir, 'bin', 'vtysh'), `#!/usr/bin/env bash\nn=$(( $(cat '${dir}/reads' 2>/dev/null || echo 0) + 1 )); echo $n > '${dir}/reads'\nsed -n "$(( n < 2 ? n : 2 ))p" '${dir}/answers'\n`, { mode: 0o755 });
    const clock = join(dir, 'clock');
    writeFileSync(clock, '1000\n');
    const env = { PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`, LAB_FAKE_CLOCK_FILE: clock };
    expect(bash('router.sh', 'lab::deadline_start 60; router::check_bgpd; echo "status $?"', env).stdout).toBe('status 0\n');
    expect(Number(readFileSync(clock, 'utf8'))).toBe(1002); // it waited for the configuration once
    // frr.conf with three neighbours, bgpd running with two
    writeFileSync(join(dir, 'answers'), summary('192.168.10.200', 2));
    writeFileSync(join(dir, 'reads'), '0');
    const half = bash('router.sh', 'lab::deadline_start 60; router::check_bgpd', env);
    expect(half.status).toBe(14);
    expect(half.stderr).toMatch(/bgpd has 2 neighbours, not the 3 Kubernetes nodes of frr\.conf: FRR did not apply all of it/);
  });

  itIf(vtyshSkip)("stops the boot with FRR's own words when the configuration has a line FRR refuses", () => {
    const dir = join(work, 'etc-frr-check');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'frr.conf'), renderFrrConfig(plan));
    expect(bash('router.sh', `ROUTER_FRR_DIR='${dir}'; router::check_frr_config; echo "status $?"`).stdout).toBe('status 0\n');
    writeFileSync(join(dir, 'frr.conf'), renderFrrConfig(plan).replace(' bgp log-neighbor-changes', ' bgp log-neighbour-changes'));
    const refused = bash('router.sh', `ROUTER_FRR_DIR='${dir}'; router::check_frr_config`);
    expect(refused.status).toBe(13);
    expect(refused.stderr).toMatch(/FRR refuses .*frr\.conf: .*Unknown command.*bgp log-neighbour-changes/);
  });
});

describe('apply-manifests.sh, as `lab up` sends it', () => {
  const resources = (version: string) => bgpResources(planLab(loadLabConfig({ context: { profile: 'bgp', 'cilium.version': version, 'kubernetes.version': '1.30.14' } })));

  function runApply(version: string, served: Readonly<Record<string, string>>, establishAfter = 0) {
    const dir = mkdtempSync(join(work, 'kubectl-'));
    const crds = join(dir, 'crds');
    mkdirSync(crds);
    for (const [name, versions] of Object.entries(served)) writeFileSync(join(crds, name), versions);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    spawnSync('ln', ['-s', KUBECTL, join(bin, 'kubectl')]);
    writeFileSync(join(dir, 'admin.conf'), 'apiVersion: v1\nkind: Config\n');
    const clock = join(dir, 'clock');
    writeFileSync(clock, '1000\n');
    const result = spawnSync('bash', ['-c', applyManifestsScript(resources(version)), 'cilium-lab-remote'], {
      encoding: 'utf8',
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir, LAB_KUBECONFIG: join(dir, 'admin.conf'), LAB_NODE_NAME: 'k8s-s', LAB_LOG_FILE: join(dir, 'log'), LAB_FAKE_CLOCK_FILE: clock, STUB_CRD_DIR: crds, STUB_ESTABLISH_AFTER: String(establishAfter), STUB_APPLIED: join(dir, 'applied.yaml'), STUB_LOG: join(dir, 'calls') },
    });
    return { ...result, applied: () => readFileSync(join(dir, 'applied.yaml'), 'utf8'), seconds: Number(readFileSync(clock, 'utf8')) - 1000 };
  }
  const all = (versions: string) => ({
    'ciliumbgpclusterconfigs.cilium.io': versions,
    'ciliumbgppeerconfigs.cilium.io': versions,
    'ciliumbgpadvertisements.cilium.io': versions,
    'ciliumloadbalancerippools.cilium.io': versions,
  });

  it('waits for the definitions to be Established, then applies every object server-side, naming each', () => {
    const ran = runApply('1.18.12', all('v2,v2alpha1'), 2);
    expect({ status: ran.status, stderr: ran.status === 0 ? '' : ran.stderr }).toEqual({ status: 0, stderr: '' });
    expect(taggedLines(ran.stdout, 'CILIUM_LAB_CRD')).toEqual(Object.keys(all('')).map((name) => `${name} v2,v2alpha1`));
    expect(taggedLines(ran.stdout, 'CILIUM_LAB_APPLIED')).toEqual([
      'ciliumbgpclusterconfig.cilium.io/cilium-lab-nodes-subnet serverside-applied',
      'ciliumbgpclusterconfig.cilium.io/cilium-lab-test-subnet serverside-applied',
      'ciliumbgppeerconfig.cilium.io/cilium-lab-router serverside-applied',
      'ciliumbgpadvertisement.cilium.io/cilium-lab-bgp serverside-applied',
      'ciliumloadbalancerippool.cilium.io/cilium-lab-bgp serverside-applied',
    ]);
    expect(ran.seconds).toBeGreaterThan(0); // it waited (the stand-in's first reads were not Established)
    expect(ran.applied()).toContain('peerAddress: 192.168.20.200');
  });

  it('refuses, naming the definition and both versions, when Cilium serves an older version than the lab renders (nothing applied)', () => {
    const ran = runApply('1.18.12', all('v2alpha1'));
    expect(ran.status).toBe(3);
    expect(taggedLines(ran.stdout, 'CILIUM_LAB_CRD_VERSION_MISSING')).toEqual(['ciliumbgpclusterconfigs.cilium.io v2']);
    expect(ran.stderr).toMatch(/ciliumbgpclusterconfigs\.cilium\.io serves v2alpha1, not v2, which the lab renders for this Cilium version/);
    expect(taggedLines(ran.stdout, 'CILIUM_LAB_APPLIED')).toEqual([]);
  });

  it('gives up within its wait when the definitions never appear (BGP control plane off), saying where to look', () => {
    const ran = runApply('1.16.3', {});
    expect(ran.status).toBe(4);
    expect(ran.stderr).toMatch(/ciliumbgpclusterconfigs\.cilium\.io did not appear Established within 180s: is Cilium's operator running, with the feature on/);
    expect(ran.seconds).toBe(180);
  });
});

describe('bgp-router-state.sh, on the largest lab', () => {
  it("fits SSM's 24,000 characters of stdout with 51 nodes and two LoadBalancer IPs, cut to what the checks read", () => {
    // the documents FRR and ip print for a lab of 50 workers (the lab's maximum), from the lab world
    const big = planLab(loadLabConfig({ context: { profile: 'bgp', 'workers.count': 50 } }));
    const world = new BgpWorld(bgpWorldSetup(big, advertisedRanges(big.config)));
    world.establishAfterReads = 0;
    world.applyResources(bgpResources(big).objects as unknown as Record<string, unknown>[]);
    world.localBackends = (node) => node === 'k8s-w1' || node === 'k8s-w50';
    const service = (name: string, local: boolean) => ({ metadata: { name, labels: { advertise: 'bgp' } }, spec: { externalTrafficPolicy: local ? 'Local' : 'Cluster' } });
    const [clusterIp, localIp] = [world.assign(service('webpod-bgp', false)), world.assign(service('webpod-bgp-local', true))];
    const docs = world.routerDocs();
    // FRR's full documents carry many more fields per peer and path (the recorded real ones: ~1.6 KB a node)
    const dir = mkdtempSync(join(work, 'router-state-'));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(docs.summary, null, 2));
    writeFileSync(join(dir, 'table.json'), JSON.stringify(docs.table, null, 2));
    writeFileSync(join(dir, 'kernel.json'), JSON.stringify(docs.kernel));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'vtysh'), `#!/usr/bin/env bash\ncase "$2" in\n  'show bgp summary json') cat '${dir}/summary.json' ;;\n  'show ip bgp json') cat '${dir}/table.json' ;;\n  *) exit 1 ;;\nesac\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'bin', 'ip'), `#!/usr/bin/env bash\ncat '${dir}/kernel.json'\n`, { mode: 0o755 });
    const ran = spawnSync('bash', ['-c', renderLabScript('bgp-router-state.sh'), 'cilium-lab-remote'], { encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` } });
    expect({ status: ran.status, stderr: ran.stderr }).toEqual({ status: 0, stderr: '' });
    expect(ran.stdout.length).toBeLessThan(24_000);
    const state = parseRouterState(ran.stdout);
    expect(state.missing).toEqual([]);
    expect(state.peers.filter((p) => p.state === 'Established')).toHaveLength(51);
    expect(state.prefixes.find((p) => p.prefix === `${clusterIp}/32`)?.usedNextHops).toHaveLength(51);
    expect(state.prefixes.find((p) => p.prefix === `${localIp}/32`)?.usedNextHops).toHaveLength(2);
    expect(state.kernel.get(clusterIp as string)).toHaveLength(51);
  });
});
