/**
 * `lab down` end to end: the real command, the real adapter (SDK clients) and loopback fakes of
 * CloudFormation, EC2, the tagging API and Scheduler sharing one account state. The fakes hold what
 * blocks a real deletion: leftovers outside CloudFormation, security groups busy for a while,
 * a DeleteStack that fails, a tagging API that still lists what is gone.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_TAGS } from '../../lib/config/tags.js';
import type { RunReport } from '../../lib/lab/reporter.js';
import { LabCli } from './cli-harness.js';
import { FakeAccount, deadLetterQueueName, type FakeLab } from './fake-account.js';

let account: FakeAccount;
let cli: LabCli;

beforeEach(async () => {
  account = await FakeAccount.start();
  cli = new LabCli(account);
});
afterEach(async () => {
  await account.close();
});

/** The lab of the study, plus what Kubernetes and Cilium leave behind in its VPC. */
function labWithLeftovers(name = 'kans-w3', options: Parameters<FakeAccount['addLab']>[1] = {}): { lab: FakeLab; loneEni: string; ciliumEni: string; elbGroup: string } {
  const lab = account.addLab(name, options);
  const vpcId = lab.vpcId as string;
  // A Kubernetes-made security group (a Service type LoadBalancer's), busy for a while after the
  // ENIs using it are gone (AWS frees a group with a delay).
  const elbGroup = account.addSecurityGroup({ name: 'k8s-elb-a1b2c3', vpcId, busyForMs: 150, tags: { 'kubernetes.io/cluster/kans': 'owned' } });
  // An ENI nobody uses any more, holding the lab's group and the Kubernetes one.
  const loneEni = account.addEni({ vpcId, description: 'leftover', groups: [lab.labSecurityGroupId as string, elbGroup] });
  // A Cilium ENI-mode interface, still attached to a worker as its second interface.
  const ciliumEni = account.addEni({
    vpcId,
    description: `Cilium-CNI (${lab.instanceIds[1]})`,
    tags: { 'io.cilium/cilium-managed': 'true', 'io.cilium/cluster-name': name },
    groups: [lab.labSecurityGroupId as string],
    attachment: { id: 'eni-attach-cilium1', instanceId: lab.instanceIds[1] as string, deviceIndex: 1 },
  });
  return { lab, loneEni, ciliumEni, elbGroup };
}

function stateDirWithKubeconfig(labName: string): string {
  const dir = cli.stateDir(labName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\n', { mode: 0o600 });
  return dir;
}

describe('lab down --yes on a healthy lab with leftovers', () => {
  it('removes ENIs, then security groups, then the stack; verifies by tag; removes the state; a second run is a no-op', async () => {
    // Given a running lab with an unattached ENI, an attached Cilium ENI and a Kubernetes security group in its VPC
    const { lab, loneEni, ciliumEni, elbGroup } = labWithLeftovers();
    const stateDir = stateDirWithKubeconfig('kans-w3');

    // When it is taken down
    const run = await cli.run(['down', '-c', 'labName=kans-w3', '--yes']);

    // Then it succeeded
    expect(run.code).toBe(0);
    const log = account.mutations();
    const index = (entry: string): number => log.indexOf(entry);
    // ...the attached Cilium ENI was detached first, both ENIs deleted before any security group
    expect(index(`DetachNetworkInterface ${ciliumEni}`)).toBeGreaterThanOrEqual(0);
    expect(index(`DeleteNetworkInterface ${ciliumEni}`)).toBeGreaterThan(index(`DetachNetworkInterface ${ciliumEni}`));
    const firstGroupCall = log.findIndex((e) => e.startsWith('DeleteSecurityGroup'));
    expect(index(`DeleteNetworkInterface ${loneEni}`)).toBeLessThan(firstGroupCall);
    expect(index(`DeleteNetworkInterface ${ciliumEni}`)).toBeLessThan(firstGroupCall);
    // ...the Kubernetes group answered DependencyViolation first and was deleted once free, before DeleteStack
    expect(log).toContain(`DeleteSecurityGroup ${elbGroup} DependencyViolation`);
    expect(index(`DeleteSecurityGroup ${elbGroup}`)).toBeLessThan(index('DeleteStack kans-w3'));
    // ...the stack's own group and the VPC's default group were left to CloudFormation
    expect(log.filter((e) => e.includes(lab.labSecurityGroupId as string))).toEqual([]);
    expect(log.filter((e) => e.startsWith('DeleteStack'))).toEqual(['DeleteStack kans-w3']);
    // ...the stack and the VPC are gone
    expect(account.stackNamed('kans-w3')).toBeUndefined();
    expect(account.vpcs.has(lab.vpcId as string)).toBe(false);
    // ...and the report says what was removed, that nothing is left, and that the local state went
    expect(run.result).toContain(`network-interface ${loneEni}`);
    expect(run.result).toContain(`network-interface ${ciliumEni}`);
    expect(run.result).toMatch(new RegExp(`security-group ${elbGroup}.*created by Kubernetes`));
    expect(run.result).toMatch(/stack kans-w3 \(was CREATE_COMPLETE\): deleted/);
    expect(run.result).toMatch(/by tag cilium-lab:lab=kans-w3: \d+ listed, 0 left/);
    expect(run.result).toContain('local state: removed');
    expect(existsSync(stateDir)).toBe(false);

    // When it runs again
    const before = account.mutations().length;
    const again = await cli.run(['down', '-c', 'labName=kans-w3', '--yes']);
    // Then it deletes nothing and says so
    expect(again.code).toBe(0);
    expect(again.result).toMatch(/nothing to delete: no stack kans-w3, no leftovers in a lab VPC, nothing tagged cilium-lab:lab=kans-w3 left/);
    expect(account.mutations().length).toBe(before);
  });

  it('keeps phase timings in the JSON report', async () => {
    labWithLeftovers('json-lab');
    const run = await cli.run(['down', '-c', 'labName=json-lab', '--yes', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.result) as RunReport & { result: { removed: { id: string }[]; stack: { attempts: number } } };
    expect(report.ok).toBe(true);
    expect(report.phases.map((p) => [p.name, p.status])).toEqual([
      ['find lab', 'ok'],
      ['remove leftovers', 'ok'],
      ['delete stack', 'ok'],
      ['verify by tag', 'ok'],
      ['remove local state', 'skipped'],
    ]);
    for (const phase of report.phases) expect(typeof phase.durationMs).toBe('number');
    // DeleteStack takes 60 ms in the fake: the timing of that phase shows it
    expect(report.phases.find((p) => p.name === 'delete stack')?.durationMs).toBeGreaterThanOrEqual(50);
    expect(report.result.removed).toHaveLength(3);
    expect(report.result.stack.attempts).toBe(1);
  });
});

describe('lab down without --yes', () => {
  it('lists what it would delete, exits 2 and deletes nothing', async () => {
    // Given a lab with leftovers and a local state directory
    const { loneEni, ciliumEni, elbGroup } = labWithLeftovers();
    const stateDir = stateDirWithKubeconfig('kans-w3');
    // When down runs without --yes
    const run = await cli.run(['down', '-c', 'labName=kans-w3']);
    // Then it exits 2, naming the stack, each leftover and the state directory
    expect(run.code).toBe(2);
    expect(run.result).toContain('stack kans-w3 (CREATE_COMPLETE');
    for (const id of [loneEni, ciliumEni, elbGroup]) expect(run.result).toContain(id);
    expect(run.result).toContain(stateDir);
    expect(run.result).toContain('nothing was deleted: run again with --yes');
    // ...and changed nothing
    expect(account.mutations()).toEqual([]);
    expect(account.cfn.callsTo('DeleteStack')).toEqual([]);
    expect(existsSync(stateDir)).toBe(true);
  });

  it('exits 0 when there is nothing at all to delete', async () => {
    const run = await cli.run(['down', '-c', 'labName=never-there']);
    expect(run.code).toBe(0);
    expect(run.result).toMatch(/no stack never-there/);
    expect(run.result).toMatch(/nothing to delete/);
  });

  it('names an ENI a load balancer owns as something it cannot delete', async () => {
    const lab = account.addLab('lb-lab');
    const lbEni = account.addEni({ vpcId: lab.vpcId as string, description: 'ELB app/k8s-default-web/123', requesterManaged: true, interfaceType: 'interface', status: 'in-use', attachment: { id: 'ela-attach-1', instanceId: 'amazon-elb', deviceIndex: 1 } });
    const run = await cli.run(['down', '-c', 'labName=lb-lab']);
    expect(run.code).toBe(2);
    expect(run.result).toMatch(new RegExp(`cannot be deleted by lab down[\\s\\S]*${lbEni}: managed by an AWS service`));
  });
});

describe('lab down on stacks in other states', () => {
  it('is fine when the stack is already gone', async () => {
    // Given no stack and nothing tagged
    // When down runs
    const run = await cli.run(['down', '-c', 'labName=gone-lab', '--yes']);
    // Then it succeeds without deleting anything
    expect(run.code).toBe(0);
    expect(run.result).toContain('nothing to delete');
    expect(account.cfn.callsTo('DeleteStack')).toEqual([]);
  });

  it('deletes a half-created stack (ROLLBACK_COMPLETE, nothing left in it)', async () => {
    account.addLab('half-lab', { status: 'ROLLBACK_COMPLETE', noResources: true });
    const run = await cli.run(['down', '-c', 'labName=half-lab', '--yes']);
    expect(run.code).toBe(0);
    expect(run.result).toMatch(/stack half-lab \(was ROLLBACK_COMPLETE\): deleted/);
    expect(account.stackNamed('half-lab')).toBeUndefined();
  });

  it('sweeps again and retries once when the first DeleteStack ends DELETE_FAILED, naming what failed', async () => {
    // Given a lab whose first deletion fails on its security group
    account.addLab('flaky-lab', { failDeletes: 1 });
    // When down runs
    const run = await cli.run(['down', '-c', 'labName=flaky-lab', '--yes']);
    // Then a second DeleteStack went through
    expect(run.code).toBe(0);
    expect(account.mutations().filter((e) => e.startsWith('DeleteStack'))).toEqual(['DeleteStack flaky-lab', 'DeleteStack flaky-lab']);
    expect(account.stackNamed('flaky-lab')).toBeUndefined();
    // ...the leftovers were looked for again between the two (ListStackResources once for the plan, once for the retry)
    expect(account.cfn.callsTo('ListStackResources').length).toBe(2);
    // ...and the report names what the first attempt could not delete, from the stack events
    expect(run.result).toContain('deleted on the second DeleteStack');
    const named = run.result.split('the first DeleteStack could not delete:')[1] ?? '';
    expect(named).toMatch(/- NetworkLabSecurityGroup \(AWS::EC2::SecurityGroup sg-[0-9a-f]+\): resource sg-[0-9a-f]+ has a dependent object/);
    expect(named).toMatch(/- NetworkVpc \(AWS::EC2::VPC vpc-[0-9a-f]+\): The vpc '.*' has dependencies/);
  });

  it('fails after the second DELETE_FAILED, naming the resources CloudFormation reported', async () => {
    account.addLab('stuck-lab', { failDeletes: 2 });
    const run = await cli.run(['down', '-c', 'labName=stuck-lab', '--yes', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.result) as RunReport;
    expect(report.error).toMatch(/stack stuck-lab could not be deleted \(DELETE_FAILED twice/);
    expect(report.error).toMatch(/NetworkLabSecurityGroup \(AWS::EC2::SecurityGroup/);
    expect(report.error).toMatch(/NetworkVpc \(AWS::EC2::VPC vpc-[0-9a-f]+\): The vpc/);
    expect(report.phases.find((p) => p.name === 'delete stack')?.status).toBe('failed');
    expect(account.mutations().filter((e) => e.startsWith('DeleteStack'))).toHaveLength(2);
  });

  it('refuses a stack of that name that cilium-lab did not deploy', async () => {
    account.addLab('someone-else', { foreign: true });
    const run = await cli.run(['down', '-c', 'labName=someone-else', '--yes']);
    expect(run.code).toBe(1);
    expect(run.result).toContain(`is not tagged ${LAB_TAGS.managedBy}=cilium-lab`);
    expect(account.cfn.callsTo('DeleteStack')).toEqual([]);
  });
});

describe('verification by tag', () => {
  it('does not report what the tagging API still lists after deletion (terminated instances), but does report what really is left', async () => {
    // Given a lab, and an instance someone launched outside the stack with the lab's tag
    const lab = account.addLab('tagged-lab');
    account.instances.set('i-0stray000000000001', { id: 'i-0stray000000000001', vpcId: 'vpc-elsewhere', state: 'running' });
    account.tagged.set(account.arn('ec2', 'instance/i-0stray000000000001'), { [LAB_TAGS.lab]: 'tagged-lab' });
    // When down runs
    const run = await cli.run(['down', '-c', 'labName=tagged-lab', '--yes', '--json']);
    // Then the stack went, but down fails on the one resource still there
    expect(run.code).toBe(1);
    expect(account.stackNamed('tagged-lab')).toBeUndefined();
    const report = JSON.parse(run.result) as RunReport;
    expect(report.error).toContain('LEFT: arn:aws:ec2:ap-northeast-2:000000000000:instance/i-0stray000000000001 (running)');
    // ...the lab's own terminated instances, still listed by the tagging API, are not reported as left
    for (const id of lab.instanceIds) {
      expect(report.error).not.toContain(`LEFT: arn:aws:ec2:ap-northeast-2:000000000000:instance/${id}`);
      expect(report.error).toContain(`instance/${id} (terminated)`);
    }
    expect(report.error).toMatch(/listed but already deleted \(the tagging API lags\)/);
    // ...and the secret, which it cannot check, is named as such
    expect(report.error).toMatch(/not checkable here, look in the console: arn:aws:secretsmanager:.*JoinSecret/);
    // ...each ARN was checked with EC2 (DescribeInstances per instance)
    expect(account.ec2.callsTo('DescribeInstances').length).toBeGreaterThanOrEqual(lab.instanceIds.length + 1);
  });
});

describe('verification by tag through EC2 finishing after CloudFormation', () => {
  it('counts a root volume still deleting as gone (it ends deleted without help)', async () => {
    account.volumeDeleteMs = 60_000; // longer than the whole run
    const lab = account.addLab('volume-lab');
    const run = await cli.run(['down', '-c', 'labName=volume-lab', '--yes', '--json']);
    expect(run.code).toBe(0);
    expect([...account.volumes.values()].map((v) => v.state)).toEqual(lab.instanceIds.map(() => 'deleting'));
    const report = JSON.parse(run.result) as RunReport & { result: { verification: { stale: { arn: string; detail?: string }[] } } };
    expect(report.result.verification.stale.filter((s) => s.arn.includes(':volume/')).map((s) => s.detail)).toEqual(lab.instanceIds.map(() => 'deleting'));
  });

  it('looks again while instances are still shutting down, instead of reporting them left', async () => {
    account.instanceShutdownMs = 300;
    account.addLab('slow-lab');
    const run = await cli.run(['down', '-c', 'labName=slow-lab', '--yes', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.result) as RunReport;
    const verify = report.phases.find((p) => p.name === 'verify by tag');
    expect(verify?.detail).toMatch(/0 left, .* \(after [2-9]\d* looks\)/);
  });

  it('still reports what stays after the settle time, naming it', async () => {
    account.instanceShutdownMs = 60_000;
    account.addLab('stuck-lab');
    const run = await cli.run(['down', '-c', 'labName=stuck-lab', '--yes', '--json']);
    expect(run.code).toBe(1);
    expect((JSON.parse(run.result) as RunReport).error).toMatch(/LEFT: arn:aws:ec2:.*:instance\/i-\w+ \(shutting-down\)/);
  });
});

describe("the expiry's dead-letter queue after lab down", () => {
  it('is checked with SQS and reported as deleted, not as "not checkable"', async () => {
    account.addLab('expiring', { expiresAt: `${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}Z` });
    const run = await cli.run(['down', '-c', 'labName=expiring', '--yes', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.result) as RunReport & { result: { verification: { stale: { arn: string; detail?: string }[]; unverified: { arn: string }[] } } };
    expect(report.result.verification.stale).toContainEqual({ arn: account.arn('sqs', deadLetterQueueName('expiring')), detail: 'QueueDoesNotExist' });
    expect(report.result.verification.unverified.map((u) => u.arn)).not.toContain(account.arn('sqs', deadLetterQueueName('expiring')));
  });
});
