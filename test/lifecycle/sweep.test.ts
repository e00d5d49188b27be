/**
 * `lab sweep`: finds the region's cilium-lab stacks by tag, picks the expired ones (schedule time
 * over tag; creation time when there is no expiry), and takes each down.
 */
import type { RunReport } from '../../lib/lab/reporter.js';
import { findExpiredLabs } from '../../lib/lifecycle/sweep.js';
import { LabCli } from './cli-harness.js';
import { FakeAccount } from './fake-account.js';

let account: FakeAccount;
let cli: LabCli;

beforeEach(async () => {
  account = await FakeAccount.start();
  cli = new LabCli(account);
});
afterEach(async () => {
  await account.close();
});

const HOUR = 60 * 60_000;
const iso = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/** Five labs and a deleted one the tagging API still lists. */
function population(): void {
  const now = Date.now();
  // expired: its expiry (tag and schedule) passed an hour ago
  account.addLab('expired-lab', { expiresAt: iso(now - HOUR) });
  // extended: the tag says past, but `lab extend` moved the schedule two hours ahead
  account.addLab('extended-lab', { expiresAt: iso(now - HOUR) });
  const schedule = account.schedules.get('default/cilium-lab-extended-lab-expiry');
  if (schedule) schedule.ScheduleExpression = `at(${iso(now + 2 * HOUR).slice(0, 19)})`;
  // forgotten: no expiry, created five hours ago
  account.addLab('forgotten-lab', { creationTime: new Date(now - 5 * HOUR) });
  // young: no expiry, created an hour ago
  account.addLab('young-lab', { creationTime: new Date(now - HOUR) });
  // future: expires in three hours
  account.addLab('future-lab', { expiresAt: iso(now + 3 * HOUR) });
  // deleted long ago, still listed by the tagging API
  const old = account.addLab('deleted-lab', { noResources: true });
  old.stack.status = 'DELETE_COMPLETE';
}

describe('findExpiredLabs', () => {
  it('sweeps past expiries and old labs without one; keeps extended, young and future labs; skips stale listings', async () => {
    population();
    const findings = await findExpiredLabs(account.cloud(), { olderThanMs: 3 * HOUR }, new Date());
    expect(findings.expired.map((c) => c.labName).sort()).toEqual(['expired-lab', 'forgotten-lab']);
    expect(findings.kept.map((c) => c.labName).sort()).toEqual(['extended-lab', 'future-lab', 'young-lab']);
    expect(findings.stale).toEqual([expect.stringContaining(':stack/deleted-lab/')]);
    const extended = findings.kept.find((c) => c.labName === 'extended-lab');
    expect(extended?.expirySource).toBe('schedule');
    expect(findings.expired.find((c) => c.labName === 'forgotten-lab')?.why).toMatch(/^no expiry, created 5h(\d+s)? ago \(older than 3h\)$/);
  });

  it('falls back to the expiry tag when the schedule is gone', async () => {
    account.addLab('tag-only', { expiresAt: iso(Date.now() - HOUR) });
    account.schedules.clear();
    const findings = await findExpiredLabs(account.cloud(), { olderThanMs: 3 * HOUR }, new Date());
    expect(findings.expired.map((c) => [c.labName, c.expirySource])).toEqual([['tag-only', 'tag']]);
  });
});

describe('what sweep may touch (the CI account holds the CI access stack and people\'s labs too)', () => {
  it('never picks the CI access stack (managed-by tag, no lab tag, older than any --older-than), nor a stack without the lab tag', async () => {
    account.addCiAccessStack();
    account.addLab('forgotten-lab', { creationTime: new Date(Date.now() - 5 * HOUR) });
    const findings = await findExpiredLabs(account.cloud(), { olderThanMs: 3 * HOUR }, new Date());
    expect(findings.expired.map((c) => c.labName)).toEqual(['forgotten-lab']);
    expect(findings.ignored).toEqual([{ stackName: 'CiliumLabCiAccess', why: 'not a lab (cilium-lab:kind=ci-access)' }]);
  });

  it('leaves a stack without the kind tag (the CI role could not delete it), saying how to delete it', async () => {
    account.addLab('older-lab', { creationTime: new Date(Date.now() - 5 * HOUR), withoutKindTag: true });
    const findings = await findExpiredLabs(account.cloud(), { olderThanMs: 3 * HOUR }, new Date());
    expect(findings.expired).toEqual([]);
    expect(findings.ignored).toEqual([{ stackName: 'older-lab', why: 'no cilium-lab:kind=lab tag (deployed by an older cilium-lab?): delete it with lab down -c labName=older-lab' }]);
  });

  it('sweeps a rolled-back lab (no outputs, kind=lab) like any other', async () => {
    account.addLab('rolled-back', { creationTime: new Date(Date.now() - 5 * HOUR), noResources: true, status: 'ROLLBACK_COMPLETE' });
    const findings = await findExpiredLabs(account.cloud(), { olderThanMs: 3 * HOUR }, new Date());
    expect(findings.expired.map((c) => c.labName)).toEqual(['rolled-back']);
  });

  it('with --owner takes only that owner\'s labs; the CI access stack survives a full sweep --yes', async () => {
    account.addCiAccessStack();
    account.addLab('nightly-1', { creationTime: new Date(Date.now() - 5 * HOUR), owner: 'github:study/cilium-lab' });
    account.addLab('alice-lab', { creationTime: new Date(Date.now() - 5 * HOUR), owner: 'alice' });
    const run = await cli.run(['sweep', '--older-than', '3h', '--owner', 'github:study/cilium-lab', '--yes']);
    expect(run.code).toBe(0);
    expect(account.mutations().filter((e) => e.startsWith('DeleteStack'))).toEqual(['DeleteStack nightly-1']);
    expect(run.result).toContain("leave alice-lab: another owner's lab (cilium-lab:owner=alice)");
    expect(run.result).toContain('leave CiliumLabCiAccess: not a lab (cilium-lab:kind=ci-access)');
    expect(account.stackNamed('CiliumLabCiAccess')?.status).toBe('CREATE_COMPLETE');
    expect(account.stackNamed('alice-lab')?.status).toBe('CREATE_COMPLETE');
  });

  it('cannot delete the CI access stack even by name: termination protection (the fake answers as CloudFormation does)', async () => {
    account.addCiAccessStack();
    await expect(account.cloud().deleteStack('CiliumLabCiAccess')).rejects.toThrow('Stack [CiliumLabCiAccess] cannot be deleted while TerminationProtection is enabled');
    expect(account.stackNamed('CiliumLabCiAccess')?.status).toBe('CREATE_COMPLETE');
  });
});

describe('lab sweep', () => {
  it('without --yes lists what it would sweep, exits 2 and deletes nothing', async () => {
    population();
    const run = await cli.run(['sweep', '--older-than', '3h']);
    expect(run.code).toBe(2);
    expect(run.result).toMatch(/sweep expired-lab \(stack expired-lab, CREATE_COMPLETE\): expired at/);
    expect(run.result).toMatch(/sweep forgotten-lab .*no expiry, created 5h/);
    expect(run.result).toMatch(/keep {2}extended-lab .*\(its expiry schedule\)/);
    expect(run.result).toContain('run again with --yes');
    expect(account.mutations()).toEqual([]);
  });

  it('with --yes takes each expired lab down, leaves the others, and a second run finds nothing', async () => {
    population();
    const run = await cli.run(['sweep', '--older-than', '3h', '--yes', '--json']);
    expect(run.code).toBe(0);
    expect(account.mutations().filter((e) => e.startsWith('DeleteStack')).sort()).toEqual(['DeleteStack expired-lab', 'DeleteStack forgotten-lab']);
    for (const gone of ['expired-lab', 'forgotten-lab']) expect(account.stackNamed(gone)).toBeUndefined();
    for (const kept of ['extended-lab', 'young-lab', 'future-lab']) expect(account.stackNamed(kept)?.status).toBe('CREATE_COMPLETE');
    const report = JSON.parse(run.result) as RunReport & { result: { swept: { labName: string }[] } };
    expect(report.result.swept.map((s) => s.labName).sort()).toEqual(['expired-lab', 'forgotten-lab']);
    // every lab's steps are timed phases of their own
    const names = report.phases.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['find labs', 'expired-lab: find lab', 'expired-lab: delete stack', 'forgotten-lab: verify by tag']));

    const again = await cli.run(['sweep', '--older-than', '3h', '--yes']);
    expect(again.code).toBe(0);
    expect(again.result).toMatch(/0 to sweep, 3 kept/);
    expect(again.result).toContain('nothing to sweep');
  });

  it('sweeps the region given by --region', async () => {
    const regions: (string | undefined)[] = [];
    const regional = new LabCli(account, {
      createCloud: (region) => {
        regions.push(region);
        return account.cloud();
      },
    });
    const run = await regional.run(['sweep', '--region', 'us-east-1'], false);
    expect(run.code).toBe(0);
    expect(regions).toEqual(['us-east-1']);
  });

  it('refuses a bad --older-than or --region before any AWS call', async () => {
    const bad = await cli.run(['sweep', '--older-than', 'three hours']);
    expect(bad.code).toBe(2);
    expect(bad.result).toContain('--older-than: "three hours" is not a duration');
    const badRegion = await cli.run(['sweep', '--region', 'Seoul']);
    expect(badRegion.code).toBe(2);
    expect(badRegion.result).toContain('--region: "Seoul" is not an AWS region name');
    expect(cli.cloudsCreated).toBe(0);
    expect(account.totalCalls()).toBe(0);
  });
});
