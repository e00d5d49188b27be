/**
 * `lab status`'s expiry: the schedule's time and state, and the dead letters a failed expiry left
 * (Scheduler could not call DeleteStack), read with the real SDK clients from the loopback fakes
 * of Scheduler and SQS (awsJson1_0).
 */
import { runCli } from '../../lib/lab/cli.js';
import { statusCommand } from '../../lib/lab/commands/status.js';
import type { LabServices } from '../../lib/lab/services.js';
import { expiryStatus } from '../../lib/lifecycle/expiry-status.js';
import { OUTPUTS } from '../../lib/config/outputs.js';
import { FakeAccount } from './fake-account.js';

let account: FakeAccount;
beforeEach(async () => {
  account = await FakeAccount.start();
});
afterEach(async () => {
  await account.close();
});

const HOUR = 3_600_000;
const iso = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const outputsOf = (name: string) => account.stackNamed(name)?.outputs ?? {};

describe('expiryStatus', () => {
  it('says when the lab expires, the schedule state, and that no expiry failed', async () => {
    const at = iso(Date.now() + 2 * HOUR);
    account.addLab('kans', { expiresAt: at });
    const status = await expiryStatus(async () => account.cloud(), outputsOf('kans'), new Date());
    expect(status).toMatchObject({ expiresAt: at, failedAttempts: 0 });
    expect(status.summary).toBe(`expires at ${at} (schedule ENABLED, no failed attempt)`);
    expect(account.sqs.callsTo('GetQueueAttributes')).toHaveLength(1);
  });

  it('reports a failed expiry loudly: the dead letters in the queue, and how to delete the lab', async () => {
    account.addLab('kans', { expiresAt: iso(Date.now() - HOUR) });
    account.queues.set(outputsOf('kans')[OUTPUTS.expiryDeadLetters] as string, 2);
    const status = await expiryStatus(async () => account.cloud(), outputsOf('kans'), new Date());
    expect(status.failedAttempts).toBe(2);
    expect(status.summary).toMatch(/^EXPIRY FAILED: Scheduler could not delete the stack \(2 dead letter\(s\) in .*\); the lab keeps running and costing: lab down --yes deletes it$/);
  });

  it('after lab extend, shows the next expiry and an earlier failure as history, not as the state now', async () => {
    const at = iso(Date.now() + 3 * HOUR);
    account.addLab('kans', { expiresAt: at });
    account.queues.set(outputsOf('kans')[OUTPUTS.expiryDeadLetters] as string, 1);
    const status = await expiryStatus(async () => account.cloud(), outputsOf('kans'), new Date());
    expect(status.summary).toMatch(new RegExp(`^expires at ${at} \\(schedule ENABLED\\); an earlier expiry FAILED \\(1 dead letter\\(s\\) in `));
  });

  it('still shows the time and state when the dead letters cannot be read (no SQS access)', async () => {
    const at = iso(Date.now() + HOUR);
    account.addLab('kans', { expiresAt: at });
    account.queues.clear();
    const status = await expiryStatus(async () => account.cloud(), outputsOf('kans'), new Date());
    expect(status.summary).toMatch(new RegExp(`^expires at ${at} \\(schedule ENABLED, dead letters unknown \\(.*\\)\\)$`));
  });

  it('claims nothing about failures for a lab deployed before the dead-letter queue (no output)', async () => {
    const at = iso(Date.now() + HOUR);
    account.addLab('kans', { expiresAt: at });
    const outputs = { ...outputsOf('kans') };
    delete outputs[OUTPUTS.expiryDeadLetters];
    const status = await expiryStatus(async () => account.cloud(), outputs, new Date());
    expect(status.summary).toBe(`expires at ${at} (schedule ENABLED)`);
  });

  it('says a lab without expiry lives until lab down, asking no cloud at all', async () => {
    account.addLab('forever');
    let asked = false;
    const status = await expiryStatus(async () => ((asked = true), account.cloud()), outputsOf('forever'), new Date());
    expect(status.summary).toMatch(/^no expiry: the lab lives until lab down/);
    expect(asked).toBe(false);
  });

  it('notices a schedule that is gone', async () => {
    account.addLab('kans', { expiresAt: iso(Date.now() + HOUR) });
    account.schedules.clear();
    const status = await expiryStatus(async () => account.cloud(), outputsOf('kans'), new Date());
    expect(status.summary).toMatch(/expiry schedule default\/cilium-lab-kans-expiry is gone: nothing will delete this lab/);
  });
});

describe('lab status', () => {
  it('prints the expiry line after the nodes', async () => {
    account.addLab('kans', { expiresAt: iso(Date.now() - HOUR) });
    account.queues.set(outputsOf('kans')[OUTPUTS.expiryDeadLetters] as string, 1);
    const results: string[] = [];
    const services = {
      stackOutputs: async () => outputsOf('kans'),
      ec2: { instances: async () => [], instanceTypes: async () => [], images: async () => [] },
      remote: { runOnNodes: async () => [] },
    } as unknown as LabServices;
    const code = await runCli(['status', '-c', 'labName=kans'], {
      commands: [statusCommand({ createCloud: () => account.cloud() })],
      createServices: () => services,
      out: () => ({ info: () => undefined, result: (t) => results.push(t) }),
    });
    expect(code).toBe(0);
    expect(results.join('\n')).toMatch(/\nexpiry: EXPIRY FAILED: Scheduler could not delete the stack \(1 dead letter\(s\)/);
  });
});
