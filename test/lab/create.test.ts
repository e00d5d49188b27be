/**
 * `lab create`: deploy, up and check as the phases of one run, each part handed its own options,
 * the time to a green lab, the Hubble UI, the expiry, the cost and a JSON report; a failed part
 * keeps its reason and the message says how to get the nodes' logs. The parts here are the real
 * deploy command (with a stand-in cdk binary), and recording stand-ins for up and check (each has
 * its own end-to-end tests against the fakes).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CommandContext, type LabCommand } from '../../lib/lab/cli.js';
import { createCommand } from '../../lib/lab/commands/create.js';
import { deployCommandWith } from '../../lib/lab/commands/deploy.js';
import { upCommand } from '../../lib/lab/commands/up.js';
import { FakeAccount } from '../lifecycle/fake-account.js';
import type { RunReport } from '../../lib/lab/reporter.js';

const NOW = new Date('2026-11-23T09:00:00Z');

let dir = '';
let account: FakeAccount;
beforeAll(async () => {
  account = await FakeAccount.start();
});
afterAll(async () => {
  await account.close();
});
let cdkArgs = '';
const saved = { cdk: process.env['CILIUM_LAB_CDK'], state: process.env['CILIUM_LAB_STATE_DIR'] };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-create-'));
  cdkArgs = join(dir, 'cdk-args');
  const stub = join(dir, 'cdk');
  writeFileSync(stub, `#!/bin/sh\nprintf '%s\\n' "$@" > "${cdkArgs}"\nexit \${CDK_EXIT:-0}\n`);
  chmodSync(stub, 0o755);
  process.env['CILIUM_LAB_CDK'] = stub;
  process.env['CILIUM_LAB_STATE_DIR'] = join(dir, 'state');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env['CDK_EXIT'];
  for (const [key, value] of [['CILIUM_LAB_CDK', saved.cdk], ['CILIUM_LAB_STATE_DIR', saved.state]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** A part that records the options it got, takes a timed phase, and may fail. */
function part(name: string, options: LabCommand['options'], seen: Record<string, unknown>[], fail?: string): LabCommand {
  return {
    name,
    summary: name,
    ...(options ? { options } : {}),
    async run(ctx: CommandContext) {
      seen.push({ part: name, ...ctx.options });
      await ctx.reporter.phase(name, async () => {
        if (fail) throw new Error(fail);
      });
      return { text: name, data: { [name]: 'done' } };
    },
  };
}

async function create(argv: string[], up: LabCommand, check: LabCommand) {
  const lines: string[] = [];
  let clock = NOW.getTime();
  const code = await runCli(['create', ...argv], {
    commands: [createCommand({ deploy: deployCommandWith({ createCloud: () => account.cloud() }), up, check, now: () => new Date((clock += 7 * 60_000)) })],
    createServices: () => {
      throw new Error('the stand-ins make no AWS call');
    },
    out: () => ({ info: (l) => lines.push(l), result: (l) => lines.push(l) }),
  });
  return { code, text: lines.join('\n') };
}

const UP_OPTIONS = { 'no-xdp': { type: 'boolean' as const, description: 'x' }, mtu: { type: 'string' as const, description: 'm', default: '3498' } };
const CHECK_OPTIONS = { junit: { type: 'string' as const, description: 'j' } };

describe('lab create', () => {
  it('runs deploy, up and check in that order, each with its own options, and reports the time to green, the UI, the expiry and the cost', async () => {
    const seen: Record<string, unknown>[] = [];
    const run = await create(['-c', 'region=ap-northeast-2', '--ttl', '2h', '--yes', '--no-xdp', '--junit', 'out.xml', '--json'], part('up', UP_OPTIONS, seen), part('check', CHECK_OPTIONS, seen));
    expect(run.code).toBe(0);
    // deploy: cdk deploy with the expiry computed from --ttl, no approval prompt (--yes)
    const args = readFileSync(cdkArgs, 'utf8').split('\n');
    expect(args).toEqual(expect.arrayContaining(['deploy', '-c', 'region=ap-northeast-2', 'never']));
    expect(args.find((a) => a.startsWith('expiresAt='))).toMatch(/^expiresAt=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // up and check got their own options only
    expect(seen).toEqual([
      { part: 'up', 'no-xdp': true, mtu: '3498' },
      { part: 'check', junit: 'out.xml' },
    ]);
    const report = JSON.parse(run.text.slice(run.text.indexOf('{'))) as RunReport & { result: { greenAfterMs: number; costPerHour: number; expiresAt: string; reportPath: string } };
    expect(report.phases.map((p) => p.name)).toEqual(['deployed lab', 'deploy', 'up', 'check']);
    expect(report.result.greenAfterMs).toBe(7 * 60_000);
    expect(report.result.costPerHour).toBeCloseTo(0.685, 3);
    expect(existsSync(report.result.reportPath)).toBe(true);
    expect(JSON.parse(readFileSync(report.result.reportPath, 'utf8'))).toMatchObject({ command: 'create', ok: true, result: { labName: 'cilium-lab' } });
  });

  it('prints what a newcomer needs next', async () => {
    const run = await create(['-c', 'region=ap-northeast-2'], part('up', UP_OPTIONS, []), part('check', CHECK_OPTIONS, []));
    expect(run.code).toBe(0);
    expect(run.text).toMatch(/Lab cilium-lab is green after 7m/);
    expect(run.text).toMatch(/Hubble UI: npm run lab -- hubble -c labName=\S+, then open http:\/\/localhost:12000/);
    expect(run.text).toMatch(/expires: {3}\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/);
    expect(run.text).toMatch(/costs about \$0\.68 per hour/);
  });

  it('stops at a failing part, keeps its reason, skips nothing silently, and points at lab logs', async () => {
    const seen: Record<string, unknown>[] = [];
    const run = await create(['-c', 'region=ap-northeast-2'], part('up', UP_OPTIONS, seen, 'k8s-w2 (i-0abc): Failed, exit code 3\n      | XDP attach failed'), part('check', CHECK_OPTIONS, seen));
    expect(run.code).toBe(1);
    expect(seen.map((s) => s['part'])).toEqual(['up']);
    expect(run.text).toContain('lab create stopped at up: k8s-w2 (i-0abc): Failed, exit code 3');
    expect(run.text).toContain('npm run lab -- logs -c labName=cilium-lab');
  });

  it('says a failed cdk deploy has its reasons in its own output, and runs nothing after it', async () => {
    process.env['CDK_EXIT'] = '1';
    const seen: Record<string, unknown>[] = [];
    const run = await create([], part('up', UP_OPTIONS, seen), part('check', CHECK_OPTIONS, seen));
    expect(run.code).toBe(1);
    expect(seen).toEqual([]);
    expect(run.text).toMatch(/lab create stopped at deploy: [\s\S]*cdk deploy failed: its output above names each failing node/);
  });

  it('refuses a bad setting before deploying anything', async () => {
    const run = await create(['-c', 'workers.count=many'], part('up', UP_OPTIONS, []), part('check', CHECK_OPTIONS, []));
    expect(run.code).toBe(2);
    expect(existsSync(cdkArgs)).toBe(false);
  });

  it("refuses a later part's bad input (up's --values, --mtu) before deploying anything", async () => {
    for (const argv of [['--values', join(dir, 'nope.yaml')], ['--mtu', '99999']]) {
      const run = await create(argv, upCommand(), part('check', CHECK_OPTIONS, []));
      expect([run.code, existsSync(cdkArgs)]).toEqual([2, false]);
      expect(run.text).not.toMatch(/stopped at/);
    }
  });

  it("refuses deploy's own bad input (--ttl) before any AWS call, exit 2", async () => {
    const run = await create(['--ttl', 'bogus'], part('up', UP_OPTIONS, []), part('check', CHECK_OPTIONS, []));
    expect([run.code, existsSync(cdkArgs)]).toEqual([2, false]);
    expect(run.text).toMatch(/--ttl bogus: write a lifetime/);
    expect(run.text).not.toMatch(/stopped at/);
  });

  it("refuses check's --kubeconfig naming no file before deploying anything", async () => {
    const { checkCommand } = await import('../../lib/lab/commands/check.js');
    const run = await create(['--kubeconfig', join(dir, 'no-such-kubeconfig')], part('up', UP_OPTIONS, []), checkCommand());
    expect([run.code, existsSync(cdkArgs)]).toEqual([2, false]);
    expect(run.text).toMatch(/--kubeconfig \S+no-such-kubeconfig: no such file/);
  });

  it('refuses to turn a running lab into another profile, exit 2, saying nothing was deployed', async () => {
    account.addLab('running-study', {});
    const run = await create(['-c', 'labName=running-study', '-c', 'profile=netkit'], part('up', UP_OPTIONS, []), part('check', CHECK_OPTIONS, []));
    expect([run.code, existsSync(cdkArgs)]).toEqual([2, false]);
    expect(run.text).toMatch(/lab create stopped at deploy: profile: lab running-study runs with profile study, and this deploy asks for netkit; [\s\S]*nothing was deployed/);
  });

  it('exits 1, not cdk\'s own code, when cdk deploy fails', async () => {
    process.env['CDK_EXIT'] = '2';
    const run = await create([], part('up', UP_OPTIONS, []), part('check', CHECK_OPTIONS, []));
    expect(run.code).toBe(1);
  });
});
