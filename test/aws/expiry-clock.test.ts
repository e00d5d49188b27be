/**
 * The expiry clock's Lambda code (lib/aws/expiry-clock/index.js), run as Lambda runs it (the
 * CommonJS module, required) with the real @aws-sdk/client-scheduler against the Scheduler fake
 * of FakeAccount: now + ttl, never earlier than the schedule's current time, nothing to do on delete.
 */
import { createRequire } from 'node:module';
import { expiryScheduleName } from '../../lib/config/expiry.js';
import { CREDENTIALS, FakeAccount, REGION } from '../lifecycle/fake-account.js';
import { JsonFault } from '../lifecycle/fake-json-server.js';

const require = createRequire(import.meta.url);
const clockModule = require('../../lib/aws/expiry-clock/index.js') as {
  expiryClock(event: unknown, deps: { client: unknown; now: () => number }): Promise<{ PhysicalResourceId: string; Data?: { AtExpression: string; ExpiresAt: string } }>;
};
const { SchedulerClient } = require('@aws-sdk/client-scheduler') as typeof import('@aws-sdk/client-scheduler');

const NOW = Date.parse('2026-12-02T10:00:00.750Z');
const LAB = 'kans-w8';
const props = { TtlSeconds: '14400', ScheduleName: expiryScheduleName(LAB), ScheduleGroup: 'default' };

let account: FakeAccount;
let client: InstanceType<typeof SchedulerClient>;
beforeAll(async () => {
  account = await FakeAccount.start();
  client = new SchedulerClient({ region: REGION, endpoint: account.scheduler.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
});
afterAll(() => account.close());
beforeEach(() => account.schedules.clear());

const clock = (event: Record<string, unknown>) => clockModule.expiryClock(event, { client, now: () => NOW });
const gets = () => account.scheduler.calls.filter((c) => c.method === 'GET').length;

function scheduleAt(expression: string, timezone = 'UTC'): void {
  account.addLab(LAB, { expiresAt: '2026-12-02T12:00:00Z' });
  const key = `default/${expiryScheduleName(LAB)}`;
  account.schedules.set(key, { ...(account.schedules.get(key) as NonNullable<ReturnType<typeof account.schedules.get>>), ScheduleExpression: expression, ScheduleExpressionTimezone: timezone });
}

describe('the expiry clock', () => {
  it('sets a new lab to now + ttl, in whole seconds, UTC', async () => {
    const result = await clock({ RequestType: 'Create', ResourceProperties: props });
    expect(result).toEqual({ PhysicalResourceId: 'cilium-lab-kans-w8-expiry-clock', Data: { AtExpression: 'at(2026-12-02T14:00:00)', ExpiresAt: '2026-12-02T14:00:00Z' } });
  });

  it('keeps a later time the schedule already has (lab extend, or a lab deploy with its own expiresAt)', async () => {
    scheduleAt('at(2026-12-02T20:30:00)');
    const result = await clock({ RequestType: 'Create', ResourceProperties: props });
    expect(result.Data?.AtExpression).toBe('at(2026-12-02T20:30:00)');
  });

  it('moves an earlier time to now + the new ttl on update', async () => {
    scheduleAt('at(2026-12-02T11:00:00)');
    const result = await clock({ RequestType: 'Update', PhysicalResourceId: 'cilium-lab-kans-w8-expiry-clock', ResourceProperties: { ...props, TtlSeconds: '7200' } });
    expect(result).toEqual({ PhysicalResourceId: 'cilium-lab-kans-w8-expiry-clock', Data: { AtExpression: 'at(2026-12-02T12:00:00)', ExpiresAt: '2026-12-02T12:00:00Z' } });
  });

  it('ignores a schedule that is not a one-time UTC schedule', async () => {
    scheduleAt('at(2026-12-02T20:30:00)', 'Asia/Seoul');
    expect((await clock({ RequestType: 'Create', ResourceProperties: props })).Data?.AtExpression).toBe('at(2026-12-02T14:00:00)');
  });

  it('does nothing on delete (the schedule goes with the stack)', async () => {
    const before = gets();
    expect(await clock({ RequestType: 'Delete', PhysicalResourceId: 'cilium-lab-kans-w8-expiry-clock', ResourceProperties: props })).toEqual({ PhysicalResourceId: 'cilium-lab-kans-w8-expiry-clock' });
    expect(gets()).toBe(before);
  });

  it.each([['0'], ['4h'], ['1.5'], [undefined]])('fails the deploy on TtlSeconds %s, naming it', async (ttl) => {
    await expect(clock({ RequestType: 'Create', ResourceProperties: { ...props, TtlSeconds: ttl } })).rejects.toThrow(/ExpiryClock: TtlSeconds ".*" is not a whole number of seconds above 0/);
  });

  it('fails the deploy when Scheduler cannot be read (never guesses an expiry)', async () => {
    account.getScheduleFault = new JsonFault('AccessDeniedException', 'User is not authorized to perform: scheduler:GetSchedule', 403);
    try {
      await expect(clock({ RequestType: 'Create', ResourceProperties: props })).rejects.toThrow(/scheduler:GetSchedule/);
    } finally {
      account.getScheduleFault = undefined;
    }
  });
});
