/**
 * The `lab` CLI with the post-deploy commands: help and usage errors never reach AWS, bad lab
 * settings fail before any AWS call, a missing stack says how to deploy one.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POST_DEPLOY_COMMANDS } from '../../lib/lab/commands/post-deploy.js';
import { FakeLab } from './harness.js';

const NAMES = ['up', 'preflight', 'tune', 'cilium', 'wait', 'status', 'kubeconfig'];

let lab: FakeLab;
beforeAll(async () => {
  lab = await FakeLab.start();
});
afterAll(async () => {
  await lab.close();
});

describe('the post-deploy commands', () => {
  it('are registered in the order a user runs them', () => {
    expect(POST_DEPLOY_COMMANDS.map((c) => c.name)).toEqual(NAMES);
  });

  it.each(NAMES)('%s --help prints its usage and options without creating any AWS client', async (name) => {
    const before = lab.servicesCreated;
    const run = await lab.run([name, '--help']);
    expect(run.code).toBe(0);
    expect(run.result).toMatch(new RegExp(`^npm run lab -- ${name} \\[options\\]`));
    const command = POST_DEPLOY_COMMANDS.find((c) => c.name === name);
    for (const option of Object.keys(command?.options ?? {})) expect(run.result).toContain(`--${option}`);
    expect(lab.servicesCreated).toBe(before);
  });

  it.each(NAMES)('%s exits 2 on an unknown option', async (name) => {
    const run = await lab.run([name, '--frobnicate']);
    expect(run.code).toBe(2);
    expect(run.result).toMatch(/Unknown option '--frobnicate'/);
  });

  it.each(NAMES)('%s with a bad -c value fails before any AWS call', async (name) => {
    const before = { services: lab.servicesCreated, calls: lab.totalCalls() };
    const run = await lab.run([name, '-c', 'workers.count=many']);
    expect(run.code).toBe(2);
    expect(run.result).toContain('workers.count: must be a whole number from 1 to 50');
    expect(lab.servicesCreated).toBe(before.services);
    expect(lab.totalCalls()).toBe(before.calls);
  });

  it('says how to deploy when there is no such lab', async () => {
    const run = await lab.run(['status', '-c', 'labName=kans-w3']);
    expect(run.code).toBe(1);
    expect(run.result).toMatch(/there is no stack kans-w3 in eu-west-1: deploy with npx cdk deploy/);
  });
});

describe('scripts/lab.ts', () => {
  const entry = fileURLToPath(new URL('../../scripts/lab.ts', import.meta.url));
  /** As `npm run lab` runs it (package.json): node with tsx's loader, no tsx CLI process in between. */
  const lab = (args: string[], env: Record<string, string>) => execa(process.execPath, ['--import', 'tsx', entry, ...args], { reject: false, env, extendEnv: false, cwd: fileURLToPath(new URL('../..', import.meta.url)) });

  it('lists the commands with --help and exits 2 with no command, without AWS credentials', async () => {
    const env = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' };
    const help = await lab(['--help'], env);
    expect(help.exitCode).toBe(0);
    for (const name of NAMES) expect(help.stdout).toContain(`  ${name.padEnd(12)} `);
    const none = await lab([], env);
    expect(none.exitCode).toBe(2);
  });

  it('loads neither the AWS SDK nor client-node for --help, a usage error or a bad -c value (they load on first use)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-imports-'));
    const recorder = fileURLToPath(new URL('./fixtures/record-imports.mjs', import.meta.url));
    const env = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' };
    for (const [i, args] of [['--help'], ['up', '--frobnicate'], ['down', '-c', 'workers.count=many'], ['check', '--help']].entries()) {
      const file = join(dir, `imports-${i}.txt`);
      const run = await execa(process.execPath, ['--import', recorder, '--import', 'tsx', entry, ...args], { reject: false, env: { ...env, RECORD_IMPORTS_FILE: file }, extendEnv: false });
      expect(run.exitCode === 0 || run.exitCode === 1 || run.exitCode === 2).toBe(true);
      const loaded = readFileSync(file, 'utf8').split('\n');
      expect(loaded.some((url) => url.endsWith('/lib/lab/cli.ts'))).toBe(true); // the recorder works
      expect(loaded.filter((url) => /@aws-sdk|@kubernetes\/client-node|\/lib\/aws\/|\/lib\/kube\/kube-client/.test(url))).toEqual([]);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails a bad -c value with exit 2 (a refusal) before any AWS call (no credentials needed)', async () => {
    const env = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' };
    const run = await lab(['up', '-c', 'cilium.version=1.99.0'], env);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toMatch(/lab up failed: cilium-lab: the lab configuration is invalid/);
  });
});
