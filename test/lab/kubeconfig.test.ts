/**
 * `lab kubeconfig`: the pure rewrite (server -> Elastic IP, context -> CiliumLab), the private
 * file, and the command end to end: the fake control plane runs the real export script (real
 * openssl), the CLI decrypts, rewrites and writes it 0600 under CILIUM_LAB_STATE_DIR.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KubeconfigError, rewriteKubeconfig, writePrivateFile } from '../../lib/lab/kubeconfig.js';
import { FakeLab } from './harness.js';

/** What kubeadm writes to /etc/kubernetes/admin.conf (keys shortened). */
const ADMIN_CONF = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://192.168.10.10:6443
  name: cilium-lab
contexts:
- context:
    cluster: cilium-lab
    user: kubernetes-admin
  name: kubernetes-admin@cilium-lab
current-context: kubernetes-admin@cilium-lab
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: Q0xJRU5ULUNFUlQ=
    client-key-data: UFJJVkFURS1LRVktTUFURVJJQUw=
`;

const REWRITE = { server: 'https://203.0.113.10:6443', contextName: 'CiliumLab' };

describe('rewriteKubeconfig', () => {
  it('points the cluster at the Elastic IP and renames the context CiliumLab, keeping the credentials', () => {
    const out = parseYaml(rewriteKubeconfig(ADMIN_CONF, REWRITE)) as Record<string, any>;
    expect(out['clusters'][0].cluster.server).toBe('https://203.0.113.10:6443');
    expect(out['clusters'][0].cluster['certificate-authority-data']).toBe('LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==');
    expect(out['contexts']).toEqual([{ context: { cluster: 'cilium-lab', user: 'kubernetes-admin' }, name: 'CiliumLab' }]);
    expect(out['current-context']).toBe('CiliumLab');
    expect(out['users'][0].user['client-key-data']).toBe('UFJJVkFURS1LRVktTUFURVJJQUw=');
  });

  it('is idempotent', () => {
    const once = rewriteKubeconfig(ADMIN_CONF, REWRITE);
    expect(rewriteKubeconfig(once, REWRITE)).toBe(once);
  });

  it('refuses a file that is not a kubeconfig without quoting it', () => {
    const broken = 'client-key-data: UFJJVkFURS1LRVktTUFURVJJQUw=\n  : : [\n';
    let message = '';
    try {
      rewriteKubeconfig(broken, REWRITE);
    } catch (error) {
      expect(error).toBeInstanceOf(KubeconfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/not valid YAML|no clusters/);
    expect(message).not.toContain('UFJJVkFURS1LRVktTUFURVJJQUw=');
    expect(() => rewriteKubeconfig('kind: Config\nclusters: []\n', REWRITE)).toThrow('has no clusters or no contexts');
  });
});

describe('writePrivateFile', () => {
  it('writes mode 0600 in a 0700 directory, replacing an older file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-private-'));
    try {
      const file = join(dir, 'state', 'lab', 'kubeconfig');
      writePrivateFile(file, 'one');
      writeFileSync(file, 'stale', { mode: 0o644 });
      writePrivateFile(file, 'two');
      expect(readFileSync(file, 'utf8')).toBe('two');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'state', 'lab')).mode & 0o777).toBe(0o700);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const opensslSkip = spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed';

describe('lab kubeconfig against fakes of SSM and CloudFormation', () => {
  let lab: FakeLab | undefined;
  let state = '';
  let conf = '';
  const saved = process.env['CILIUM_LAB_STATE_DIR'];

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'lab-state-'));
    conf = join(state, 'admin.conf');
    writeFileSync(conf, ADMIN_CONF, { mode: 0o600 });
    process.env['CILIUM_LAB_STATE_DIR'] = join(state, 'labs');
  });
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
    rmSync(state, { recursive: true, force: true });
    if (saved === undefined) delete process.env['CILIUM_LAB_STATE_DIR'];
    else process.env['CILIUM_LAB_STATE_DIR'] = saved;
  });

  /** The control plane runs the export script it receives for real, on the test's admin.conf. */
  const realExport = () => ({
    answers: {
      kubeconfig: (script: string) => {
        const ran = spawnSync('bash', ['-c', script, 'cilium-lab-remote'], { encoding: 'utf8', env: { ...process.env, LAB_KUBECONFIG: conf } });
        return { exitCode: ran.status ?? -1, stdout: ran.stdout, stderr: ran.stderr };
      },
    },
  });

  (opensslSkip === undefined ? it : it.skip)('writes the rewritten kubeconfig 0600 under the state dir and says how to use it, never printing it', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': realExport() } });
    const run = await lab.run(['kubeconfig']);
    expect(run.code).toBe(0);
    const path = join(state, 'labs', 'cilium-lab', 'kubeconfig');
    const written = parseYaml(readFileSync(path, 'utf8')) as Record<string, any>;
    expect(written['clusters'][0].cluster.server).toBe('https://203.0.113.10:6443');
    expect(written['current-context']).toBe('CiliumLab');
    expect(written['users'][0].user['client-key-data']).toBe('UFJJVkFURS1LRVktTUFURVJJQUw=');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'labs', 'cilium-lab')).mode & 0o777).toBe(0o700);
    expect(run.result).toContain(`export KUBECONFIG=${path}`);
    expect(run.result).toContain('access.operatorCidr was not set at deploy');
    // Neither the output nor what SSM carried back holds the key in clear
    expect(run.all).not.toContain('UFJJVkFURS1LRVktTUFURVJJQUw=');
    expect(run.all).not.toContain('client-key-data');
    expect(JSON.stringify(lab.ssm.calls)).not.toContain('UFJJVkFURS1LRVktTUFURVJJQUw=');
  });

  (opensslSkip === undefined ? it : it.skip)('names the operator CIDR the API is open to', async () => {
    lab = await FakeLab.start({ deployed: { 'access.operatorCidr': '198.51.100.7/32' }, nodes: { 'k8s-s': realExport() } });
    const run = await lab.run(['kubeconfig', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.result) as { result: { operatorCidr: string; context: string } };
    expect(report.result).toMatchObject({ operatorCidr: '198.51.100.7/32', context: 'CiliumLab' });
    expect(run.result).not.toContain('client-key-data');
  });

  it('fails with the node\'s error when admin.conf cannot be read, writing nothing', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { kubeconfig: { exitCode: 2, stderr: 'ERROR: /etc/kubernetes/admin.conf is not readable\n' } } } } });
    const run = await lab.run(['kubeconfig']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('/etc/kubernetes/admin.conf is not readable');
    expect(() => statSync(join(state, 'labs', 'cilium-lab', 'kubeconfig'))).toThrow();
  });
});
