/**
 * scripts/node/tune-nic.sh, run for real against a veth renamed ens5 inside a network namespace
 * of this test's own (MTU 9001 and a default route, like an ENA NIC in a VPC), with the
 * persistence files rendered under a temp dir. ENA itself is played by an ethtool stand-in
 * (fixtures/ethtool-ena.sh); the veth's real ethtool shows the "no channels" path.
 * Nothing is sent anywhere: the namespace's only route leads to an address nobody holds.
 */
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { readNodeScripts, renderNodeScript } from '../../lib/infra/node-user-data.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = 'scripts/node/tune-nic.sh';
const FIXTURE = fileURLToPath(new URL('./fixtures/ethtool-ena.sh', import.meta.url));
const NETPLAN = 'etc/netplan/90-cilium-lab-mtu.yaml';
const UNIT = 'etc/systemd/system/cilium-lab-nic-channels.service';

interface NicReport {
  interface: string;
  mac: string;
  mtuBefore: number;
  mtuAfter: number;
  channelsBefore: number | null;
  channelsAfter: number | null;
  channelsMax: number | null;
  driver: string;
  driverVersion: string;
  xdp: boolean;
  changed: boolean;
}

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function toolMissing(tool: string, args: string[]): string | undefined {
  const probe = spawnSync(tool, args, { encoding: 'utf8' });
  if (probe.error) return `${tool} is not installed (${probe.error.message})`;
  return probe.status === 0 ? undefined : `${tool} ${args.join(' ')} failed: ${probe.stderr.trim()}`;
}

/** Why the namespace tests cannot run here, or undefined when they can. */
function netnsSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace and a veth pair';
  return toolMissing('ip', ['netns', 'list']) ?? toolMissing('bash', ['--version']);
}

const skipReason = netnsSkipReason();
const nsIt = skipReason === undefined ? it : it.skip;
const nsTitle = (title: string): string => (skipReason === undefined ? title : `${title} [skipped: ${skipReason}]`);
const shellcheckSkip = toolMissing('shellcheck', ['--version']);

function report(stdout: string): NicReport {
  const last = stdout.trimEnd().split('\n').at(-1) ?? '';
  expect(last).toMatch(/^CILIUM_LAB_NIC \{/);
  return JSON.parse(last.slice('CILIUM_LAB_NIC '.length)) as NicReport;
}

describe('tune-nic.sh, statically', () => {
  (shellcheckSkip === undefined ? it : it.skip)(
    shellcheckSkip === undefined ? 'passes shellcheck -x -S warning and bash -n' : `passes shellcheck [skipped: ${shellcheckSkip}]`,
    async () => {
      await expect(execa('shellcheck', ['-x', '-S', 'warning', SCRIPT], { cwd: REPO })).resolves.toMatchObject({ exitCode: 0 });
      await expect(execa('bash', ['-n', SCRIPT], { cwd: REPO })).resolves.toMatchObject({ exitCode: 0 });
      await expect(execa('shellcheck', ['-S', 'warning', FIXTURE])).resolves.toMatchObject({ exitCode: 0 });
    },
  );

  it('renders self-contained (lib.sh inlined, no source line) through the node script renderer', async () => {
    const rendered = renderNodeScript(readNodeScripts(), 'tune-nic.sh', {});
    expect(rendered).toMatch(/^log::error_exit\(\) \{$/m);
    expect(rendered).not.toMatch(/^source /m);
    await expect(execa('bash', ['-n'], { input: rendered })).resolves.toMatchObject({ exitCode: 0 });
  });
});

describe('tune-nic.sh in a network namespace', () => {
  const ns = `clab-nic-${process.pid}-${randomBytes(3).toString('hex')}`;
  let work = '';
  let ethtool = '';
  let rendered = '';
  let nsCreated = false;

  const ip = (...args: string[]) => execa('ip', ['-n', ns, ...args]);
  const mtu = async (): Promise<number> =>
    Number((await execa('ip', ['netns', 'exec', ns, 'cat', '/sys/class/net/ens5/mtu'])).stdout.trim());

  /** A fresh persistence root and stand-in state for one scenario. */
  const scenario = (name: string) => {
    const dir = join(work, name);
    mkdirSync(join(dir, 'ethtool-state'), { recursive: true });
    return {
      root: join(dir, 'root'),
      log: join(dir, 'ethtool-L.log'),
      env: (extra: Record<string, string> = {}): Record<string, string> => ({
        LAB_NIC_ROOT: join(dir, 'root'),
        LAB_NIC_ETHTOOL: ethtool,
        FAKE_ETHTOOL_STATE_DIR: join(dir, 'ethtool-state'),
        FAKE_ETHTOOL_LOG: join(dir, 'ethtool-L.log'),
        ...extra,
      }),
    };
  };

  /** Runs the script inside the namespace; LAB_NIC_ROOT is always a temp dir (never the host's /etc). */
  const tune = async (env: Record<string, string>, viaStdin = false): Promise<Run> => {
    expect(env.LAB_NIC_ROOT).toContain(work);
    const result = await execa('ip', ['netns', 'exec', ns, 'bash', ...(viaStdin ? ['-s'] : [SCRIPT])], {
      cwd: REPO,
      env: { ...env, LAB_NODE_NAME: 'test' },
      reject: false,
      ...(viaStdin ? { input: rendered } : {}),
    });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  };

  beforeAll(async () => {
    if (skipReason !== undefined) return;
    work = mkdtempSync(join(tmpdir(), 'tune-nic-'));
    ethtool = join(work, 'ethtool');
    copyFileSync(FIXTURE, ethtool);
    chmodSync(ethtool, 0o755);
    rendered = renderNodeScript(readNodeScripts(), 'tune-nic.sh', {});
    await execa('ip', ['netns', 'add', ns]);
    nsCreated = true;
    await ip('link', 'add', 'name', 'clab-a', 'type', 'veth', 'peer', 'name', 'clab-b');
    await ip('link', 'set', 'clab-a', 'name', 'ens5');
    for (const dev of ['ens5', 'clab-b']) {
      await ip('link', 'set', dev, 'mtu', '9001');
      await ip('link', 'set', dev, 'up');
    }
    await ip('addr', 'add', '10.200.0.2/24', 'dev', 'ens5');
    await ip('route', 'add', 'default', 'via', '10.200.0.1', 'dev', 'ens5');
  });

  afterAll(async () => {
    if (nsCreated) await execa('ip', ['netns', 'del', ns], { reject: false });
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  beforeEach(async () => {
    if (nsCreated) await ip('link', 'set', 'ens5', 'mtu', '9001');
  });

  nsIt(nsTitle('finds ens5 by the default route, sets MTU 3498 and half the ENA channels, and persists both'), async () => {
    const s = scenario('first-run');
    const mac = (await execa('ip', ['netns', 'exec', ns, 'cat', '/sys/class/net/ens5/address'])).stdout.trim();

    const run = await tune(s.env());
    expect(run).toMatchObject({ exitCode: 0 });
    expect(await mtu()).toBe(3498);
    expect(report(run.stdout)).toEqual({
      interface: 'ens5',
      mac,
      mtuBefore: 9001,
      mtuAfter: 3498,
      channelsBefore: 4,
      channelsAfter: 2,
      channelsMax: 4,
      driver: 'ena',
      driverVersion: '2.13.0g',
      xdp: true,
      changed: true,
    });
    expect(run.stdout).toMatch(/mtu\s+9001 -> 3498/);
    expect(readFileSync(s.log, 'utf8')).toBe('-L ens5 combined 2\n');

    const netplanFile = join(s.root, NETPLAN);
    expect(statSync(netplanFile).mode & 0o777).toBe(0o600);
    expect(parseYaml(readFileSync(netplanFile, 'utf8'))).toEqual({
      network: {
        version: 2,
        ethernets: {
          ens5: {
            match: { macaddress: mac },
            'set-name': 'ens5',
            dhcp4: true,
            mtu: 3498,
            'dhcp4-overrides': { 'use-mtu': false },
          },
        },
      },
    });
    const unit = readFileSync(join(s.root, UNIT), 'utf8');
    expect(unit).toContain('After=network-online.target');
    expect(unit).toContain(`ExecStart=${ethtool} -L ens5 combined 2`);
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(run.stdout).toContain('not enabled: LAB_NIC_ROOT is not /');
  });

  nsIt(nsTitle('changes nothing on a second run and leaves the files byte-identical'), async () => {
    const s = scenario('second-run');
    expect(await tune(s.env())).toMatchObject({ exitCode: 0 });
    const netplanFile = join(s.root, NETPLAN);
    const unitFile = join(s.root, UNIT);
    const before = { netplan: readFileSync(netplanFile), unit: readFileSync(unitFile), mtime: statSync(netplanFile).mtimeMs };

    const again = await tune(s.env());
    expect(again).toMatchObject({ exitCode: 0 });
    expect(report(again.stdout)).toMatchObject({ mtuBefore: 3498, mtuAfter: 3498, channelsBefore: 2, channelsAfter: 2, changed: false });
    expect(readFileSync(netplanFile).equals(before.netplan)).toBe(true);
    expect(readFileSync(unitFile).equals(before.unit)).toBe(true);
    expect(statSync(netplanFile).mtimeMs).toBe(before.mtime);
    expect(readFileSync(s.log, 'utf8')).toBe('-L ens5 combined 2\n');
  });

  nsIt(nsTitle('refuses an MTU above 3498 while XDP is wanted, naming the variable, before changing anything'), async () => {
    const s = scenario('mtu-4000');
    const run = await tune(s.env({ LAB_NIC_MTU: '4000' }));
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('LAB_NIC_MTU=4000 is above 3498');
    expect(run.stdout).not.toContain('CILIUM_LAB_NIC');
    expect(await mtu()).toBe(9001);
    expect(existsSync(s.root)).toBe(false);
  });

  nsIt(nsTitle('takes MTU 4000 when XDP is not wanted, and leaves the channels alone'), async () => {
    const s = scenario('no-xdp');
    const run = await tune(s.env({ LAB_NIC_MTU: '4000', LAB_NIC_XDP: 'false' }));
    expect(run).toMatchObject({ exitCode: 0 });
    expect(await mtu()).toBe(4000);
    expect(report(run.stdout)).toMatchObject({ mtuAfter: 4000, channelsBefore: 4, channelsAfter: 4, xdp: false, changed: true });
    expect(existsSync(s.log)).toBe(false);
    expect(existsSync(join(s.root, UNIT))).toBe(false);
  });

  nsIt(nsTitle('refuses an ENA driver older than 2.2.8 before changing anything'), async () => {
    const s = scenario('old-ena');
    const run = await tune(s.env({ FAKE_ETHTOOL_DRIVER_VERSION: '2.2.7' }));
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain('ENA driver 2.2.7 on ens5 is older than 2.2.8');
    expect(await mtu()).toBe(9001);
    expect(existsSync(s.log)).toBe(false);
    expect(existsSync(s.root)).toBe(false);
  });

  nsIt(nsTitle('accepts the in-tree ENA driver, which reports the kernel release as its version'), async () => {
    const s = scenario('in-tree-ena');
    const run = await tune(s.env({ FAKE_ETHTOOL_DRIVER_VERSION: '6.8.0-1021-aws' }));
    expect(run).toMatchObject({ exitCode: 0 });
    expect(report(run.stdout)).toMatchObject({ driverVersion: '6.8.0-1021-aws', mtuAfter: 3498, channelsAfter: 2 });
  });

  nsIt(nsTitle("with the veth's real ethtool (no channels), skips channels and still succeeds; rendered, on stdin"), async () => {
    const s = scenario('real-ethtool');
    const run = await tune({ LAB_NIC_ROOT: s.root }, true);
    expect(run).toMatchObject({ exitCode: 0 });
    expect(await mtu()).toBe(3498);
    expect(report(run.stdout)).toMatchObject({
      interface: 'ens5',
      driver: 'veth',
      mtuBefore: 9001,
      mtuAfter: 3498,
      channelsBefore: null,
      channelsAfter: null,
      channelsMax: null,
      changed: true,
    });
    expect(run.stderr).toContain('reports no combined channels: skipping channels');
    expect(statSync(join(s.root, NETPLAN)).mode & 0o777).toBe(0o600);
    expect(existsSync(join(s.root, UNIT))).toBe(false);
  });

  nsIt(nsTitle('refuses an interface override that does not exist'), async () => {
    const s = scenario('no-such-if');
    const run = await tune(s.env({ LAB_NIC_INTERFACE: 'ens9' }));
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain('LAB_NIC_INTERFACE=ens9: no such interface');
    expect(await mtu()).toBe(9001);
  });
});
