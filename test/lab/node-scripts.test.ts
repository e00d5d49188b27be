/**
 * The scripts the lab CLI ships to the nodes, rendered as the CLI renders them and run for real
 * in bash: helm, kubectl and cilium are stand-ins (fixtures/kube-tools.sh), ethtool is the ENA
 * stand-in of the NIC tuning tests, openssl and python3 are the real ones. Nothing touches the
 * machine outside temp directories.
 */
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { renderCiliumValuesYaml, type HelmValues } from '../../lib/cilium/values.js';
import { ciliumInstallScript, parseHelmRelease } from '../../lib/lab/cilium.js';
import { decryptKubeconfig, kubeconfigExportScript, oneTimeKeyPair } from '../../lib/lab/kubeconfig.js';
import { nodeFactsScript, parseNodeFacts } from '../../lib/lab/preflight.js';
import { taggedLines } from '../../lib/lab/remote.js';
import { ciliumRestartScript, tuneScript } from '../../lib/lab/tune.js';
import { clusterWaitScript, parseNodeLines } from '../../lib/lab/wait.js';

const KUBE_TOOLS = fileURLToPath(new URL('./fixtures/kube-tools.sh', import.meta.url));
const ETHTOOL = fileURLToPath(new URL('../node/fixtures/ethtool-ena.sh', import.meta.url));

const missing = (tool: string, args: string[]): string | undefined => {
  const probe = spawnSync(tool, args, { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? `${tool} ${args.join(' ')} is not available` : undefined;
};
const pythonYamlSkip = missing('python3', ['-c', 'import yaml']);
const opensslSkip = missing('openssl', ['version']);
const shellcheckSkip = missing('shellcheck', ['--version']);
const itIf = (skip: string | undefined) => (title: string, fn: () => Promise<void>) =>
  skip === undefined ? it(title, fn) : it.skip(`${title} [skipped: ${skip}]`, fn);

let work = '';
let bin = '';
let log = '';
let kubeconfig = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lab-node-scripts-'));
  bin = join(work, 'bin');
  mkdirSync(bin);
  for (const tool of ['helm', 'kubectl', 'cilium']) symlinkSync(KUBE_TOOLS, join(bin, tool));
  kubeconfig = join(work, 'admin.conf');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeEach(() => {
  log = join(work, `calls-${Math.random().toString(16).slice(2)}.log`);
  writeFileSync(log, '');
});

interface Ran {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a rendered script as the agent would (`bash -c`), with the stand-ins first on PATH. */
async function run(script: string, env: Record<string, string> = {}): Promise<Ran> {
  const result = await execa('bash', ['-c', script, 'cilium-lab-remote'], {
    reject: false,
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: work, LAB_KUBECONFIG: kubeconfig, STUB_LOG: log, LAB_NODE_NAME: 'k8s-s', ...env },
    extendEnv: false,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const calls = (): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean);

describe('every script the CLI ships', () => {
  const scripts: [string, string][] = [
    ['node-facts.sh', nodeFactsScript()],
    ['tune-nic.sh', tuneScript({ mtu: 3498, xdp: true })],
    ['cilium-restart.sh', ciliumRestartScript()],
    ['cluster-wait.sh', clusterWaitScript()],
    ['kubeconfig-export.sh', kubeconfigExportScript(oneTimeKeyPair().publicKeyPem)],
    ['cilium-install.sh', ciliumInstallScript({ version: '1.16.3', values: { debug: { enabled: true } }, yaml: 'debug:\n  enabled: true\n', sources: [] })],
  ];

  it.each(scripts)('%s renders self-contained (no source line, no template marker) and passes bash -n', async (_name, script) => {
    expect(script).not.toMatch(/^source /m);
    expect(script).not.toMatch(/# lab:(include|values begin|standalone-only)/);
    await expect(execa('bash', ['-n'], { input: script })).resolves.toMatchObject({ exitCode: 0 });
  });

  (shellcheckSkip === undefined ? it.each(scripts) : it.skip.each(scripts))('%s passes shellcheck as rendered', async (name, script) => {
    const file = join(work, `rendered-${name}`);
    writeFileSync(file, script);
    const result = await execa('shellcheck', ['-S', 'warning', file], { reject: false });
    expect(String(result.stdout)).toBe('');
  });
});

describe('node-facts.sh', () => {
  it('reports the kernel release and the driver and version ethtool -i gives for the NIC', async () => {
    const state = join(work, 'ethtool-state');
    mkdirSync(state, { recursive: true });
    const ethtool = join(work, 'ethtool');
    copyFileSync(ETHTOOL, ethtool);
    chmodSync(ethtool, 0o755);
    const result = await run(nodeFactsScript(), { LAB_FACTS_INTERFACE: 'lo', LAB_FACTS_ETHTOOL: ethtool, FAKE_ETHTOOL_STATE_DIR: state, FAKE_ETHTOOL_DRIVER_VERSION: '2.1.0K' });
    expect(result.exitCode).toBe(0);
    const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
    expect(parseNodeFacts(result.stdout)).toEqual({ kernel, interface: 'lo', driver: 'ena', driverVersion: '2.1.0K', mtu: Number(readFileSync('/sys/class/net/lo/mtu', 'utf8').trim()) });
  });

  it('reports an unknown driver (empty) when ethtool is missing, rather than failing', async () => {
    const result = await run(nodeFactsScript(), { LAB_FACTS_INTERFACE: 'lo', LAB_FACTS_ETHTOOL: join(work, 'no-such-ethtool') });
    expect(result.exitCode).toBe(0);
    expect(parseNodeFacts(result.stdout)).toMatchObject({ driver: '', driverVersion: '' });
    expect(result.stderr).toContain('is not installed');
  });

  it('exits 4 naming the NIC when there is none to read', async () => {
    const result = await run(nodeFactsScript(), { LAB_FACTS_INTERFACE: 'nonexistent0' });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('no NIC to read: nonexistent0');
  });
});

describe('cilium-install.sh', () => {
  const CHART_VALUES = [
    'debug:',
    '  enabled: false',
    'bpf:',
    '  masquerade: false',
    '  # -- doc of a key documented as a comment (helm-docs)',
    '  # hostLegacyRouting: false',
    'podAnnotations: {}',
    'k8sServiceHost: ""',
    '',
  ].join('\n');
  const SCHEMA = JSON.stringify({ properties: { hubble: { properties: { relay: { properties: { enabled: { type: 'boolean' } } } } } } });

  const prepared = (values: HelmValues) => ({ version: '1.16.3', values, yaml: renderCiliumValuesYaml(values, 'test'), sources: ['test'] });
  const chartEnv = () => {
    const values = join(work, 'chart-values.yaml');
    const schema = join(work, 'chart-schema.json');
    writeFileSync(values, CHART_VALUES);
    writeFileSync(schema, SCHEMA);
    return { STUB_CHART_VALUES: values, STUB_CHART_SCHEMA: schema, STUB_VALUES_COPY: join(work, 'installed-values.yaml') };
  };
  /** The install script of a one-key release, run against the stand-in chart with the given knobs. */
  const installWith = (knobs: Record<string, string> = {}) => run(ciliumInstallScript(prepared({ debug: { enabled: true } })), { ...chartEnv(), ...knobs });

  itIf(pythonYamlSkip)('checks every key against the pulled chart, then runs helm upgrade --install with the pinned version and the values', async () => {
    // Given values whose keys are in values.yaml, in a helm-docs comment, under an open map, and only in the schema
    const values = { debug: { enabled: true }, bpf: { masquerade: true, hostLegacyRouting: false }, podAnnotations: { 'example.com/x': 'y' }, k8sServiceHost: '192.168.10.10', hubble: { relay: { enabled: true } } };
    // When the install script runs
    const result = await run(ciliumInstallScript(prepared(values)), chartEnv());
    // Then it added the repo, pulled the pinned chart, installed it with the values, and reported the release
    expect(result.stderr).toContain('all 6 keys are in the pulled chart');
    expect(result.exitCode).toBe(0);
    const made = calls();
    expect(made[0]).toBe('helm repo add cilium https://helm.cilium.io --force-update');
    expect(made[1]).toMatch(/^helm pull cilium\/cilium --version 1\.16\.3 --untar --untardir \S+\/chart$/);
    // no pending release to recover; the chart that was checked (the pulled directory) is the one installed
    expect(made[2]).toBe('helm status cilium --namespace kube-system --output json');
    expect(made[3]).toMatch(/^helm upgrade --install cilium \S+\/chart\/cilium --namespace kube-system -f \S+\/values\.yaml --wait --timeout 10m$/);
    // then every component the release has rolled out (the agent DaemonSet and the operator here)
    expect(made.filter((c) => c.includes('rollout status'))).toEqual([
      expect.stringMatching(/^kubectl --namespace kube-system rollout status daemonset\/cilium --timeout \d+s$/),
      expect.stringMatching(/^kubectl --namespace kube-system rollout status deployment\/cilium-operator --timeout \d+s$/),
    ]);
    expect(parseYaml(readFileSync(join(work, 'installed-values.yaml'), 'utf8'))).toEqual(values);
    expect(parseHelmRelease(result.stdout)).toMatchObject({ revision: '2', status: 'deployed' });
  });

  itIf(pythonYamlSkip)('stops before helm upgrade when the pulled chart lacks a key, naming it', async () => {
    const result = await run(ciliumInstallScript(prepared({ debug: { enabled: true }, bpf: { hostRouting: true } })), chartEnv());
    expect(result.exitCode).toBe(3);
    expect(taggedLines(result.stdout, 'CILIUM_LAB_UNKNOWN_KEY')).toEqual(['bpf.hostRouting']);
    expect(result.stderr).toContain('nothing was installed');
    expect(calls().some((c) => c.startsWith('helm upgrade'))).toBe(false);
  });

  itIf(pythonYamlSkip)('fails with helm upgrade\'s own status when the install fails', async () => {
    const result = await installWith({ STUB_UPGRADE_EXIT: '1' });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).not.toContain('CILIUM_LAB_HELM');
  });

  (pythonYamlSkip === undefined ? it.each : it.skip.each)([
    ['pending-install', 'helm uninstall cilium --namespace kube-system --wait --timeout 3m', 'uninstalled a release left pending-install'],
    ['pending-upgrade', 'helm rollback cilium --namespace kube-system --wait --timeout 3m', 'rolled back a release left pending-upgrade'],
    ['pending-rollback', 'helm rollback cilium --namespace kube-system --wait --timeout 3m', 'rolled back a release left pending-rollback'],
  ])('recovers a release an interrupted run left %s before upgrading, saying what it did', async (status, recovery, said) => {
    const result = await installWith({ STUB_RELEASE_STATUS: status });
    expect(result.exitCode).toBe(0);
    const made = calls();
    expect(made.indexOf(recovery)).toBeGreaterThan(-1);
    expect(made.indexOf(recovery)).toBeLessThan(made.findIndex((c) => c.startsWith('helm upgrade')));
    expect(taggedLines(result.stdout, 'CILIUM_LAB_RECOVERED')).toEqual([said]);
  });

  itIf(pythonYamlSkip)('leaves a deployed release alone', async () => {
    const result = await installWith({ STUB_RELEASE_STATUS: 'deployed' });
    expect(result.exitCode).toBe(0);
    expect(calls().some((c) => /helm (uninstall|rollback)/.test(c))).toBe(false);
  });

  itIf(pythonYamlSkip)('refuses a pulled chart of another version than the one checked for, installing nothing', async () => {
    const result = await installWith({ STUB_CHART_VERSION: '1.16.4' });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("the pulled chart is version '1.16.4', not 1.16.3");
    expect(calls().some((c) => c.startsWith('helm upgrade'))).toBe(false);
  });

  itIf(pythonYamlSkip)('fails when a component does not roll out after Helm is done, naming each pod that is not ready, its node and why', async () => {
    const result = await installWith({
      STUB_COMPONENTS: 'daemonset/cilium daemonset/cilium-envoy deployment/cilium-operator deployment/hubble-relay',
      STUB_ROLLOUT_FAIL: 'daemonset/cilium',
      // |-separated as the jsonpath prints it: name|node|phase|ready per container|waiting reason per container
      STUB_PODS: 'cilium-x7k2p|k8s-s|Running|true|\ncilium-b9q4m|k8s-w1|Running|false|CrashLoopBackOff\ncilium-h3v8d||Pending||\ncilium-m2n1z|k8s-w2|Running|true false| ImagePullBackOff\n',
    });
    expect(result.exitCode).toBe(6);
    expect(taggedLines(result.stdout, 'CILIUM_LAB_NOT_READY')).toEqual([
      'daemonset/cilium cilium-b9q4m k8s-w1 CrashLoopBackOff',
      'daemonset/cilium cilium-h3v8d unscheduled Pending',
      'daemonset/cilium cilium-m2n1z k8s-w2 ImagePullBackOff',
    ]);
    expect(result.stderr).toContain('not rolled out: daemonset/cilium');
    // every present component was waited for; hubble-ui, absent here, was skipped
    expect(calls().filter((c) => c.includes('rollout status')).map((c) => c.split(' ')[5])).toEqual(['daemonset/cilium', 'deployment/cilium-operator', 'daemonset/cilium-envoy', 'deployment/hubble-relay']);
    expect(result.stdout).not.toContain('CILIUM_LAB_HELM');
  });

  (pythonYamlSkip === undefined ? it.each : it.skip.each)([
    ['a release without the agent DaemonSet', { STUB_COMPONENTS: 'deployment/cilium-operator' }, 'daemonset/cilium'],
    ['an optional component the API could not be asked about', { STUB_API_DOWN: 'deployment/hubble-relay' }, 'deployment/hubble-relay'],
  ])('fails the rollout, not skips it, for %s', async (_case, knobs, failed) => {
    const result = await installWith(knobs);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toContain(`not rolled out: ${failed}`);
    expect(result.stdout).not.toContain('CILIUM_LAB_HELM');
  });

  itIf(pythonYamlSkip)('when helm itself gives up, still names the pods that are not ready, and fails with helm\'s status', async () => {
    const result = await installWith({
      STUB_UPGRADE_EXIT: '1',
      STUB_PODS: 'cilium-b9q4m|k8s-w1|Running|false|CrashLoopBackOff\n',
    });
    expect(result.exitCode).toBe(1);
    expect(taggedLines(result.stdout, 'CILIUM_LAB_NOT_READY')).toContain('daemonset/cilium cilium-b9q4m k8s-w1 CrashLoopBackOff');
    expect(result.stderr).toContain('helm upgrade --install cilium failed (exit 1)');
  });

  itIf(pythonYamlSkip)('keeps its own exit status when the pod report itself fails (kubectl get pods answering an error)', async () => {
    const result = await installWith({
      STUB_ROLLOUT_FAIL: 'daemonset/cilium',
      STUB_PODS_EXIT: '1',
    });
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toContain('not rolled out: daemonset/cilium');
  });

  itIf(pythonYamlSkip)('leaves a helm still running on the node alone (an operation in progress, not a leftover), saying so', async () => {
    const pgrep = join(work, 'pgrep-bin');
    mkdirSync(pgrep, { recursive: true });
    writeFileSync(join(pgrep, 'pgrep'), '#!/bin/sh\necho 4242\n', { mode: 0o755 });
    const result = await installWith({ STUB_RELEASE_STATUS: 'pending-upgrade', PATH: `${pgrep}:${bin}:${process.env.PATH}` });
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain('another helm is running on this node');
    expect(calls().some((c) => /helm (rollback|uninstall|upgrade)/.test(c))).toBe(false);
  });

  it('refuses to run without the admin kubeconfig', async () => {
    const result = await installWith({ LAB_KUBECONFIG: join(work, 'missing.conf') });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('missing.conf is not readable');
  });
});

describe('cilium-restart.sh', () => {
  it('restarts nothing when the cilium daemonset is not there', async () => {
    const result = await run(ciliumRestartScript(), { STUB_CILIUM_DS: 'absent' });
    expect(result.exitCode).toBe(0);
    expect(taggedLines(result.stdout, 'CILIUM_LAB_AGENTS')).toEqual(['absent']);
    expect(calls().some((c) => c.includes('rollout'))).toBe(false);
  });

  it('restarts the agents and waits for the rollout when Cilium is installed', async () => {
    const result = await run(ciliumRestartScript(), { STUB_CILIUM_DS: 'present' });
    expect(result.exitCode).toBe(0);
    expect(taggedLines(result.stdout, 'CILIUM_LAB_AGENTS')).toEqual(['restarted']);
    expect(calls().slice(1)).toEqual(['kubectl --namespace kube-system rollout restart daemonset/cilium', 'kubectl --namespace kube-system rollout status daemonset/cilium --timeout 5m']);
  });

  it('exits 5 when the restarted agents do not come back', async () => {
    const result = await run(ciliumRestartScript(), { STUB_CILIUM_DS: 'present', STUB_ROLLOUT_EXIT: '1' });
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain('were not all ready within 5m');
  });
});

describe('cluster-wait.sh', () => {
  const nodes = 'CILIUM_LAB_NODE k8s-s True\\nCILIUM_LAB_NODE k8s-w1 False\\n';

  it('waits for cilium status and the nodes, then lists every node', async () => {
    const result = await run(clusterWaitScript(), { STUB_NODES: nodes });
    expect(result.exitCode).toBe(0);
    expect([...parseNodeLines(result.stdout)]).toEqual([
      ['k8s-s', 'True'],
      ['k8s-w1', 'False'],
    ]);
    expect(calls()[0]).toBe('cilium status --wait --wait-duration 5m');
    expect(calls()[1]).toBe('kubectl wait --for=condition=Ready node --all --timeout=5m');
  });

  it('still lists the nodes when a wait fails, and exits 1', async () => {
    const result = await run(clusterWaitScript(), { STUB_NODES: nodes, STUB_STATUS_EXIT: '1', STUB_WAIT_EXIT: '1' });
    expect(result.exitCode).toBe(1);
    expect(parseNodeLines(result.stdout).size).toBe(2);
    expect(result.stderr).toContain('KubeProxyReplacement');
  });
});

describe('kubeconfig-export.sh', () => {
  itIf(opensslSkip)('sends the kubeconfig encrypted for the CLI alone, and the CLI decrypts it', async () => {
    const secret = 'apiVersion: v1\nkind: Config\nusers:\n- name: kubernetes-admin\n  user:\n    client-key-data: U0VDUkVULUtFWQ==\n';
    const conf = join(work, 'secret-admin.conf');
    writeFileSync(conf, secret);
    const { publicKeyPem, privateKey } = oneTimeKeyPair();
    const script = kubeconfigExportScript(publicKeyPem);
    const result = await run(script, { LAB_KUBECONFIG: conf });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain('client-key-data');
    expect(result.stdout).not.toContain('U0VDUkVULUtFWQ==');
    const payload = taggedLines(result.stdout, 'CILIUM_LAB_KUBECONFIG').at(-1) ?? '';
    expect(decryptKubeconfig(payload, privateKey)).toBe(secret);
    // Another key pair cannot read it
    expect(() => decryptKubeconfig(payload, oneTimeKeyPair().privateKey)).toThrow(/cannot decrypt/);
    expect(existsSync(conf)).toBe(true);
  });
});
