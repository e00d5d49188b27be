/** `lab extend`: the new at() expression (pure), and the schedule moved in the fake Scheduler. */
import { ExtendError, MIN_LEAD_MS, movedDescription, newExpiry, parseAtExpression } from '../../lib/lifecycle/extend.js';
import { formatDuration, parseDuration } from '../../lib/lifecycle/timing.js';
import { LAB_TAGS } from '../../lib/config/tags.js';
import { LabCli } from './cli-harness.js';
import { FakeAccount } from './fake-account.js';

describe('newExpiry (pure)', () => {
  const current = new Date('2026-11-23T22:00:00Z');
  const now = new Date('2026-11-23T20:00:00Z');

  it.each([
    [{ by: '2h' }, '2026-11-24T00:00:00Z', 'at(2026-11-24T00:00:00)'],
    [{ by: '90m' }, '2026-11-23T23:30:00Z', 'at(2026-11-23T23:30:00)'],
    [{ by: '1h30m' }, '2026-11-23T23:30:00Z', 'at(2026-11-23T23:30:00)'],
    [{ by: '1d' }, '2026-11-24T22:00:00Z', 'at(2026-11-24T22:00:00)'],
    [{ until: '2026-11-25T08:15:00Z' }, '2026-11-25T08:15:00Z', 'at(2026-11-25T08:15:00)'],
    [{ until: '2026-11-23T21:00:00.750Z' }, '2026-11-23T21:00:00Z', 'at(2026-11-23T21:00:00)'],
  ])('%j from 22:00 -> %s', (request, expiresAt, expression) => {
    expect(newExpiry(current, request, now)).toEqual({ expiresAt, expression });
  });

  it('refuses a new expiry in the past or too close to now', () => {
    expect(() => newExpiry(current, { until: '2026-11-23T19:00:00Z' }, now)).toThrow(ExtendError);
    expect(() => newExpiry(current, { until: new Date(now.getTime() + MIN_LEAD_MS - 1000).toISOString() }, now)).toThrow(/not at least 5m from now/);
    // an expiry that already passed, pushed by too little, is still in the past
    expect(() => newExpiry(new Date('2026-11-23T18:00:00Z'), { by: '1h' }, now)).toThrow(/2026-11-23T19:00:00.000Z is not at least/);
  });

  it('refuses what is not a duration or a UTC time', () => {
    expect(() => newExpiry(current, { by: 'two hours' }, now)).toThrow(/--by: "two hours" is not a duration/);
    expect(() => newExpiry(current, { until: '2026-11-25 08:15' }, now)).toThrow(/--until: .* is not an ISO 8601 UTC time/);
    expect(() => newExpiry(current, { until: '2026-11-25T08:15:00+09:00' }, now)).toThrow(/--until/);
  });

  it('parses at() in UTC only', () => {
    expect(parseAtExpression('at(2026-11-23T22:00:00)', 'UTC')?.toISOString()).toBe('2026-11-23T22:00:00.000Z');
    expect(parseAtExpression('at(2026-11-23T22:00:00)')?.toISOString()).toBe('2026-11-23T22:00:00.000Z');
    expect(parseAtExpression('at(2026-11-23T22:00:00)', 'Asia/Seoul')).toBeUndefined();
    expect(parseAtExpression('rate(5 minutes)', 'UTC')).toBeUndefined();
  });

  it('rewrites the time in the description', () => {
    expect(movedDescription("cilium-lab x: delete the lab's stack at 2026-11-23T22:00:00Z", '2026-11-24T00:00:00Z')).toBe("cilium-lab x: delete the lab's stack at 2026-11-24T00:00:00Z");
    expect(movedDescription(undefined, '2026-11-24T00:00:00Z')).toBeUndefined();
  });

  it('parses and prints durations', () => {
    expect(parseDuration('3h')).toBe(3 * 3_600_000);
    expect(parseDuration('1d2h3m4s')).toBe(((26 * 60 + 3) * 60 + 4) * 1000);
    expect(parseDuration('0h')).toBeUndefined();
    expect(parseDuration('3x')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(formatDuration(9_000_000)).toBe('2h30m');
  });
});

describe('lab extend', () => {
  let account: FakeAccount;
  let cli: LabCli;
  beforeEach(async () => {
    account = await FakeAccount.start();
    cli = new LabCli(account);
  });
  afterEach(async () => {
    await account.close();
  });

  const inAnHour = (): string => `${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}Z`;

  it('--by 2h moves the schedule two hours, keeping its target, role, time zone and window', async () => {
    // Given a lab that expires in an hour
    const expiresAt = inAnHour();
    account.addLab('kans-w3', { expiresAt });
    const before = structuredClone(account.schedules.get('default/cilium-lab-kans-w3-expiry'));
    // When it is extended by two hours
    const run = await cli.run(['extend', '-c', 'labName=kans-w3', '--by', '2h']);
    // Then the schedule fires two hours later
    expect(run.code).toBe(0);
    const expected = new Date(new Date(expiresAt).getTime() + 2 * 3_600_000);
    const expression = `at(${expected.toISOString().slice(0, 19)})`;
    const after = account.schedules.get('default/cilium-lab-kans-w3-expiry');
    expect(after?.ScheduleExpression).toBe(expression);
    // ...with everything else as it was (UpdateSchedule resets what it is not given)
    expect(after?.Target).toEqual(before?.Target);
    expect(after?.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(after?.ScheduleExpressionTimezone).toBe('UTC');
    expect(after?.State).toBe('ENABLED');
    expect(after?.Description).toBe(`cilium-lab kans-w3: delete the lab's stack at ${expected.toISOString().slice(0, 19)}Z`);
    expect(account.mutations()).toEqual([`UpdateSchedule default/cilium-lab-kans-w3-expiry ${expression}`]);
    // ...the stack's tag keeps the deploy-time value, and the output says so
    expect(account.stackNamed('kans-w3')?.tags[LAB_TAGS.expiresAt]).toBe(expiresAt);
    expect(run.result).toContain(`now expires at ${expected.toISOString().slice(0, 19)}Z (was ${new Date(expiresAt).toISOString()})`);
    expect(run.result).toContain(`The stack tag ${LAB_TAGS.expiresAt} keeps ${expiresAt}`);
    expect(run.result).toContain(`-c expiresAt=${expected.toISOString().slice(0, 19)}Z`);
  });

  it('--until sets the time given', async () => {
    account.addLab('kans-w3', { expiresAt: inAnHour() });
    const until = `${new Date(Date.now() + 5 * 3_600_000).toISOString().slice(0, 19)}Z`;
    const run = await cli.run(['extend', '-c', 'labName=kans-w3', '--until', until]);
    expect(run.code).toBe(0);
    expect(account.schedules.get('default/cilium-lab-kans-w3-expiry')?.ScheduleExpression).toBe(`at(${until.slice(0, 19)})`);
  });

  it('says so when the lab has no expiry schedule, changing nothing', async () => {
    account.addLab('forever-lab');
    const run = await cli.run(['extend', '-c', 'labName=forever-lab', '--by', '2h']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('has no expiry schedule default/cilium-lab-forever-lab-expiry');
    expect(account.scheduler.callsTo('PUT /schedules')).toEqual([]);
  });

  it.each(['DELETE_IN_PROGRESS', 'DELETE_FAILED'])('refuses a lab whose stack is %s (being deleted), changing nothing', async (status) => {
    account.addLab('going-lab', { expiresAt: `${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}Z`, status });
    const run = await cli.run(['extend', '-c', 'labName=going-lab', '--by', '2h']);
    expect(run.code).toBe(1);
    expect(run.result).toContain(`stack going-lab in ap-northeast-2 is ${status}: the lab is being deleted`);
    expect(account.scheduler.callsTo('PUT /schedules')).toEqual([]);
  });

  it('says so when there is no such lab', async () => {
    const run = await cli.run(['extend', '-c', 'labName=no-lab', '--by', '2h']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('there is no stack no-lab in ap-northeast-2');
  });

  it.each([[[]], [['--by', '2h', '--until', '2026-11-24T00:00:00Z']], [['--by', 'soon']], [['--until', 'tomorrow']]])('refuses %j before any AWS call', async (args) => {
    const run = await cli.run(['extend', '-c', 'labName=kans-w3', ...args]);
    expect(run.code).toBe(2);
    expect(cli.cloudsCreated).toBe(0);
    expect(account.totalCalls()).toBe(0);
  });
});
