import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runCli, type LabCommand } from '../../lib/lab/cli.js';
import { deployCommandWith } from '../../lib/lab/commands/deploy.js';
import { FakeAccount } from '../lifecycle/fake-account.js';
import { cdkDeployArgs, expiryFrom, parseDuration } from '../../lib/lab/deploy.js';
import type { Output } from '../../lib/lab/reporter.js';

describe('lab deploy: expiry as an input', () => {
  it.each([
    ['90m', 5_400_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['4', '0h', '1.5h', 'soon'])('refuses %s, naming the option', (text) => {
    expect(() => parseDuration(text)).toThrow(`--ttl ${text}: write a duration such as 90m, 4h or 1d`);
  });

  it('computes the expiry in whole seconds, UTC', () => {
    expect(expiryFrom(new Date('2026-11-23T09:41:07.532Z'), 4 * 3_600_000)).toBe('2026-11-23T13:41:07Z');
  });

  it('passes the settings and the expiry to cdk, asking before broadening changes', () => {
    expect(cdkDeployArgs(['workers.count=3'], '2026-11-23T13:41:07Z', { yes: false })).toEqual([
      'deploy', '-c', 'workers.count=3', '-c', 'expiresAt=2026-11-23T13:41:07Z', '--require-approval', 'broadening',
    ]);
  });

  it('keeps an expiry the user gave', () => {
    expect(cdkDeployArgs(['expiresAt=2026-12-01T00:00:00Z'], '2026-11-23T13:41:07Z', { yes: true })).toEqual([
      'deploy', '-c', 'expiresAt=2026-12-01T00:00:00Z', '--require-approval', 'never',
    ]);
  });
});

describe('running cdk', () => {
  it("sends cdk's stdout (the stack outputs and ARN) to stderr, so a --json report on stdout stays JSON", () => {
    // given: a cdk that prints on both streams, as `cdk deploy` does
    const dir = mkdtempSync(join(tmpdir(), 'lab-run-cdk-'));
    const stub = join(dir, 'cdk');
    writeFileSync(stub, '#!/bin/sh\necho "Outputs:"\necho "Stack ARN:"\necho "deploying..." >&2\n');
    chmodSync(stub, 0o755);
    const module = fileURLToPath(new URL('../../lib/lab/deploy.ts', import.meta.url));
    // when: runCdk runs in a process of its own (its stdout is what --json writes to)
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `const { runCdk } = await import(${JSON.stringify(module)}); await runCdk(['deploy']);`], {
      env: { ...process.env, CILIUM_LAB_CDK: stub },
      encoding: 'utf8',
    });
    // then
    expect([run.status, run.stdout]).toEqual([0, '']);
    expect(run.stderr).toBe('Outputs:\nStack ARN:\ndeploying...\n');
  });
});

describe('lab CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
  const record = join(dir, 'cdk-args');
  const stub = join(dir, 'cdk');
  writeFileSync(stub, `#!/bin/sh\nprintf '%s\\n' "$@" > "${record}"\n`);
  chmodSync(stub, 0o755);

  let account: FakeAccount;
  beforeAll(async () => {
    account = await FakeAccount.start();
  });
  afterAll(async () => {
    await account.close();
  });
  // The deployed lab's expiry is read from the loopback fakes (CloudFormation, Scheduler).
  const run = async (argv: string[], commands: LabCommand[] = [deployCommandWith({ createCloud: () => account.cloud() })]) => {
    const lines: string[] = [];
    const out: Output = { info: (l) => lines.push(l), result: (l) => lines.push(l) };
    const noCloud = () => {
      throw new Error('no AWS call expected');
    };
    const code = await runCli(argv, { commands, createServices: noCloud, out: () => out });
    return { code, text: lines.join('\n') };
  };

  beforeEach(() => {
    process.env.CILIUM_LAB_CDK = stub;
    if (existsSync(record)) writeFileSync(record, '');
  });
  afterAll(() => {
    delete process.env.CILIUM_LAB_CDK;
  });

  it('runs the pinned cdk with the computed expiry', async () => {
    const { code } = await run(['deploy', '-c', 'labName=kans-w3', '--ttl', '2h', '--yes']);
    const args = readFileSync(record, 'utf8').trim().split('\n');
    expect([code, args.slice(0, 3), args.at(-2), args.at(-1)]).toEqual([0, ['deploy', '-c', 'labName=kans-w3'], '--require-approval', 'never']);
    expect(args).toContainEqual(expect.stringMatching(/^expiresAt=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/));
  });

  it('takes the lifetime from the ttl setting when --ttl is not given', async () => {
    const before = Date.now();
    const { code } = await run(['deploy', '-c', 'labName=kans-w3', '-c', 'ttl=90m', '--yes']);
    const expiresAt = readFileSync(record, 'utf8').trim().split('\n').find((a) => a.startsWith('expiresAt=')) as string;
    expect(code).toBe(0);
    expect(Date.parse(expiresAt.slice('expiresAt='.length)) - before).toBeGreaterThan(89 * 60_000);
    expect(Date.parse(expiresAt.slice('expiresAt='.length)) - before).toBeLessThanOrEqual(90 * 60_000);
  });

  it('deploys without an expiry only when told so (--ttl none), saying so, and passes ttl=none to cdk', async () => {
    const { code, text } = await run(['deploy', '-c', 'labName=kans-w3', '--ttl', 'none', '--yes']);
    const args = readFileSync(record, 'utf8').trim().split('\n');
    expect(code).toBe(0);
    expect(args).toContain('ttl=none');
    expect(args.some((a) => a.startsWith('expiresAt='))).toBe(false);
    expect(text).toMatch(/WITHOUT an expiry/);
  });

  it.each([
    [['--ttl', 'none', '-c', 'expiresAt=2030-01-01T00:00:00Z'], /ttl: none contradicts expiresAt/],
    [['--ttl', '30d'], /--ttl 30d: write a lifetime of at most 14 days/],
  ])('refuses %j before running cdk', async (argv, message) => {
    const { code, text } = await run(['deploy', ...argv]);
    expect([code, readFileSync(record, 'utf8')]).toEqual([2, '']);
    expect(text).toMatch(message);
  });

  it('refuses bad settings before running cdk', async () => {
    const { code, text } = await run(['deploy', '-c', 'workers.count=0']);
    expect([code, text.includes('workers.count: must be at least 1'), readFileSync(record, 'utf8')]).toEqual([2, true, '']);
  });

  it('refuses a malformed -c flag as a usage error', async () => {
    expect((await run(['deploy', '-c', 'workers.count'])).code).toBe(2);
  });

  it('exits 2 on an unknown option, with the command help', async () => {
    const { code, text } = await run(['deploy', '--tll', '2h']);
    expect([code, text.includes('npm run lab -- deploy [options]')]).toEqual([2, true]);
  });

  it('exits 2 on an unknown command, naming the commands', async () => {
    const { code, text } = await run(['deplyo']);
    expect([code, text]).toEqual([2, 'lab: unknown command "deplyo"; commands: deploy']);
  });

  it('prints help for a command', async () => {
    const { code, text } = await run(['deploy', '--help']);
    expect([code, text.includes('--ttl VALUE'), text.includes('default: the ttl setting, 4h')]).toEqual([0, true, true]);
  });

  it('prints the phase timings as JSON with --json', async () => {
    const { code, text } = await run(['deploy', '--json', '--yes']);
    const report = JSON.parse(text.slice(text.indexOf('{')));
    expect([code, report.ok, report.phases.map((p: { name: string; status: string }) => `${p.name}:${p.status}`)]).toEqual([0, true, ['deployed lab:ok', 'deploy:ok']]);
  });

  it('refuses an expiresAt in the past before running cdk', async () => {
    const { code, text } = await run(['deploy', '-c', 'expiresAt=2020-01-01T00:00:00Z']);
    expect(code).toBe(2);
    expect(text).toMatch(/expiresAt: 2020-01-01T00:00:00Z is not in the future/);
    expect(readFileSync(record, 'utf8')).toBe('');
  });

  it('never cuts short an expiry lab extend moved later: a re-deploy keeps the schedule\'s time', async () => {
    const later = new Date(Date.now() + 9 * 3_600_000);
    const laterIso = `${later.toISOString().slice(0, 19)}Z`;
    account.addLab('extended', { expiresAt: laterIso });
    const { code, text } = await run(['deploy', '-c', 'labName=extended', '--ttl', '4h', '--yes']);
    expect(code).toBe(0);
    expect(readFileSync(record, 'utf8').split('\n')).toContain(`expiresAt=${laterIso}`);
    expect(text).toContain(`keeping the lab's later expiry ${laterIso}`);
  });

  it('refuses a re-deploy that would change what a running lab cannot, before cdk runs (with --ttl none too)', async () => {
    account.addLab('pooled', { deployed: { profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,10.201.0.0/16' } });
    for (const argv of [['-c', 'profile=study'], ['-c', 'profile=cluster-pool', '-c', 'clusterPool.cidrs=10.201.0.0/16'], ['-c', 'profile=cluster-pool', '-c', 'clusterPool.cidrs=10.200.0.0/16,10.201.0.0/16', '-c', 'clusterPool.maskSize=25', '--ttl', 'none']]) {
      const { code, text } = await run(['deploy', '-c', 'labName=pooled', '--yes', ...argv]);
      expect([code, readFileSync(record, 'utf8')]).toEqual([2, '']);
      expect(text).toMatch(/(failed: |^)(profile|clusterPool\.cidrs|clusterPool\.maskSize): lab pooled /m);
    }
    // Growing the pool list is what Cilium allows.
    const grown = await run(['deploy', '-c', 'labName=pooled', '--yes', '-c', 'profile=cluster-pool', '-c', 'clusterPool.cidrs=10.200.0.0/16,10.201.0.0/16,10.202.0.0/16']);
    expect(grown.code).toBe(0);
  });

  it('takes now + --ttl when the lab\'s expiry is earlier than that', async () => {
    const soon = `${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}Z`;
    account.addLab('short', { expiresAt: soon });
    const { code } = await run(['deploy', '-c', 'labName=short', '--ttl', '4h', '--yes']);
    expect(code).toBe(0);
    const expiry = readFileSync(record, 'utf8').split('\n').find((a) => a.startsWith('expiresAt=')) ?? '';
    expect(new Date(expiry.slice('expiresAt='.length)).getTime()).toBeGreaterThan(Date.now() + 3.9 * 3_600_000);
  });
});
