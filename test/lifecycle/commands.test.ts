/** The lifecycle commands as CLI commands: registered, documented, and silent towards AWS on --help and bad input. */
import { LIFECYCLE_COMMANDS } from '../../lib/lab/commands/lifecycle.js';
import { LabCli } from './cli-harness.js';
import { FakeAccount } from './fake-account.js';

const NAMES = ['down', 'sweep', 'extend', 'stop', 'start', 'cost'];

let account: FakeAccount;
let cli: LabCli;
beforeAll(async () => {
  account = await FakeAccount.start();
  cli = new LabCli(account);
});
afterAll(async () => {
  await account.close();
});

describe('the lifecycle commands', () => {
  it('are exported in one list', () => {
    expect(LIFECYCLE_COMMANDS.map((c) => c.name)).toEqual(NAMES);
  });

  it.each(NAMES)('%s --help prints its usage and options without creating any AWS client', async (name) => {
    const run = await cli.run([name, '--help']);
    expect(run.code).toBe(0);
    expect(run.result).toMatch(new RegExp(`^npm run lab -- ${name} \\[options\\]`));
    for (const option of Object.keys(LIFECYCLE_COMMANDS.find((c) => c.name === name)?.options ?? {})) expect(run.result).toContain(`--${option}`);
    expect(cli.cloudsCreated).toBe(0);
    expect(account.totalCalls()).toBe(0);
  });

  it.each(NAMES)('%s with a bad -c value fails before any AWS call', async (name) => {
    const run = await cli.run([name, '-c', 'workers.count=many']);
    expect(run.code).toBe(2);
    expect(run.result).toContain('workers.count: must be a whole number from 1 to 50');
    expect(cli.cloudsCreated).toBe(0);
    expect(account.totalCalls()).toBe(0);
  });
});
