/**
 * `lab down`: delete a lab completely, whatever state it is in (healthy, half-created
 * CREATE_FAILED / ROLLBACK_COMPLETE, DELETE_FAILED, already gone):
 *   1. leftovers outside CloudFormation in the lab VPC (ENIs, then security groups);
 *   2. DeleteStack and wait; on DELETE_FAILED sweep again and retry once;
 *   3. verify by tag that nothing of the lab is left (checking each ARN with its service);
 *   4. remove the local state directory.
 * A second run finds nothing and says so.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { LAB_TAGS } from '../config/tags.js';
import type { LifecycleCloud, StackInfo, StackResource } from './cloud.js';
import type { LifecycleDeps } from './deps.js';
import { describeLeftover, labVpcIds, leftoverCount, removeLeftovers, scanLeftovers, type Leftover, type LeftoverScan } from './leftovers.js';
import { deleteStack, describeFailure, type StackDeletion } from './stack-delete.js';
import { describeFinding, verifyByTagSettled, type TagVerification } from './verify.js';

export const MANAGED_BY_VALUE = 'cilium-lab';

export interface DownPlan {
  readonly labName: string;
  readonly region: string | undefined;
  /** The stack, unless there is none (or it is DELETE_COMPLETE). */
  readonly stack: StackInfo | undefined;
  readonly resources: readonly StackResource[];
  readonly scan: LeftoverScan;
  readonly stateDir: string;
  readonly stateDirExists: boolean;
}

export class NotALabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotALabError';
  }
}

export class LabNotGoneError extends Error {
  constructor(
    message: string,
    readonly report: DownReport,
  ) {
    super(message);
    this.name = 'LabNotGoneError';
  }
}

const where = (region: string | undefined): string => (region ? ` in ${region}` : '');

/** Finds the lab: its stack (refusing a stack that is not a cilium-lab one), its VPCs and the leftovers in them. */
export async function findLab(cloud: LifecycleCloud, labName: string, stateDir: string): Promise<DownPlan> {
  const found = await cloud.describeStack(labName);
  const stack = found && found.status !== 'DELETE_COMPLETE' ? found : undefined;
  if (stack && stack.tags[LAB_TAGS.managedBy] !== MANAGED_BY_VALUE) {
    throw new NotALabError(
      `stack ${labName}${where(cloud.region)} is not tagged ${LAB_TAGS.managedBy}=${MANAGED_BY_VALUE}: it was not deployed by cilium-lab, so lab down leaves it alone`,
    );
  }
  const resources = stack ? await cloud.stackResources(stack.stackId) : [];
  const vpcIds = await labVpcIds(cloud, labName, resources);
  const scan = await scanLeftovers(cloud, labName, vpcIds, resources);
  return { labName, region: cloud.region, stack, resources, scan, stateDir, stateDirExists: existsSync(stateDir) };
}

export function hasWork(plan: DownPlan): boolean {
  return plan.stack !== undefined || leftoverCount(plan.scan) > 0 || plan.stateDirExists;
}

/** What `down` would do, for the dry run (no --yes) and the log. */
export function formatPlan(plan: DownPlan): string {
  const lines = [`lab ${plan.labName}${where(plan.region)}:`];
  if (plan.stack) {
    const created = plan.stack.creationTime ? `, created ${plan.stack.creationTime.toISOString()}` : '';
    lines.push(`  stack ${plan.stack.stackName} (${plan.stack.status}${created}): DeleteStack, wait for DELETE_COMPLETE`);
  } else {
    lines.push(`  no stack ${plan.labName}`);
  }
  const items = [...plan.scan.networkInterfaces, ...plan.scan.securityGroups];
  if (items.length > 0) {
    lines.push(`  outside CloudFormation, deleted first (ENIs before security groups):`);
    lines.push(...items.map((item) => `    - ${describeLeftover(item)}`));
  } else if (plan.scan.vpcIds.length > 0) {
    lines.push(`  nothing left outside CloudFormation in ${plan.scan.vpcIds.join(', ')}`);
  }
  if (plan.scan.blockers.length > 0) {
    lines.push('  cannot be deleted by lab down (remove their owner first):');
    lines.push(...plan.scan.blockers.map((b) => `    - ${b.id}: ${b.why}`));
  }
  lines.push(plan.stateDirExists ? `  local state ${plan.stateDir}: removed` : `  no local state at ${plan.stateDir}`);
  return lines.join('\n');
}

export interface DownReport {
  readonly labName: string;
  readonly region: string | undefined;
  /** Nothing was there to delete (no stack, no leftovers, nothing tagged left). */
  readonly noop: boolean;
  readonly stack?: StackDeletion;
  /** Deleted outside CloudFormation, in order (ENIs before security groups). */
  readonly removed: readonly Leftover[];
  readonly alreadyGone: readonly Leftover[];
  /** Leftovers still busy at the deadline. */
  readonly notRemoved: readonly { readonly leftover: Leftover; readonly reason: string }[];
  readonly verification: TagVerification;
  readonly stateDirRemoved: boolean;
}

/** Runs `down` on a lab found by findLab; every step is a timed phase (`prefix` names the lab in a sweep). */
export async function runDown(deps: LifecycleDeps, plan: DownPlan, prefix = ''): Promise<DownReport> {
  const { cloud, timing } = deps;
  const removed: Leftover[] = [];
  const alreadyGone: Leftover[] = [];
  let notRemoved: { leftover: Leftover; reason: string }[] = [];
  const indent = (line: string): void => deps.info(`${prefix}${line}`);

  const sweep = async (scan: LeftoverScan): Promise<string> => {
    const result = await removeLeftovers(cloud, scan, timing, indent);
    removed.push(...result.removed);
    alreadyGone.push(...result.alreadyGone);
    notRemoved = [...result.failed];
    for (const failure of result.failed) indent(`  still there: ${describeLeftover(failure.leftover)}: ${failure.reason}`);
    return `${result.removed.length} deleted, ${result.alreadyGone.length} already gone, ${result.failed.length} still there`;
  };

  if (leftoverCount(plan.scan) > 0) {
    await deps.phase(`${prefix}remove leftovers`, () => sweep(plan.scan), (summary) => summary);
  } else {
    deps.skip(`${prefix}remove leftovers`, plan.scan.vpcIds.length > 0 ? `none in ${plan.scan.vpcIds.join(', ')}` : 'no lab VPC');
  }

  let stack: StackDeletion | undefined;
  if (plan.stack) {
    const target = plan.stack;
    stack = await deps.phase(
      `${prefix}delete stack`,
      () =>
        deleteStack(
          cloud,
          target,
          timing,
          async () => {
            const resources = await cloud.stackResources(target.stackId);
            const vpcIds = await labVpcIds(cloud, plan.labName, resources);
            const scan = await scanLeftovers(cloud, plan.labName, vpcIds, resources);
            indent(`  leftovers now: ${leftoverCount(scan)}`);
            await sweep(scan);
          },
          indent,
        ),
      (done) => `${done.stackName} deleted${done.attempts > 1 ? ' on the second DeleteStack' : ''}`,
    );
  } else {
    deps.skip(`${prefix}delete stack`, `no stack ${plan.labName}${where(plan.region)}`);
  }

  const verification = await deps.phase(
    `${prefix}verify by tag`,
    () => verifyByTagSettled(cloud, plan.labName, timing),
    (v) =>
      `${v.listed} listed with ${LAB_TAGS.lab}=${plan.labName}: ${v.left.length} left, ${v.stale.length} already deleted, ${v.unverified.length} not checkable` +
      (v.rounds > 1 ? ` (after ${v.rounds} looks)` : ''),
  );

  let stateDirRemoved = false;
  if (existsSync(plan.stateDir)) {
    await deps.phase(`${prefix}remove local state`, () => rm(plan.stateDir, { recursive: true, force: true }), () => plan.stateDir);
    stateDirRemoved = true;
  } else {
    deps.skip(`${prefix}remove local state`, `no ${plan.stateDir}`);
  }

  const report: DownReport = {
    labName: plan.labName,
    region: plan.region,
    noop: !plan.stack && leftoverCount(plan.scan) === 0 && verification.left.length === 0,
    ...(stack ? { stack } : {}),
    removed,
    alreadyGone,
    notRemoved,
    verification,
    stateDirRemoved,
  };
  if (verification.left.length > 0 || notRemoved.length > 0) {
    throw new LabNotGoneError(`${formatDownReport(report)}\nlab ${plan.labName} is not completely gone: delete what is listed as left, then run lab down again`, report);
  }
  return report;
}

export function formatDownReport(report: DownReport): string {
  const lines: string[] = [];
  const lab = `lab ${report.labName}${where(report.region)}`;
  if (report.noop) {
    lines.push(`${lab}: nothing to delete: no stack ${report.labName}, no leftovers in a lab VPC, nothing tagged ${LAB_TAGS.lab}=${report.labName} left`);
  } else {
    lines.push(`${lab}:`);
  }
  if (report.stack) {
    lines.push(`  stack ${report.stack.stackName} (was ${report.stack.statusBefore}): deleted${report.stack.attempts > 1 ? ' on the second DeleteStack' : ''}`);
    if (report.stack.firstFailures.length > 0) {
      lines.push('  the first DeleteStack could not delete:');
      lines.push(...report.stack.firstFailures.map((f) => `    - ${describeFailure(f)}`));
    }
  }
  if (report.removed.length > 0) {
    lines.push('  deleted outside CloudFormation:');
    lines.push(...report.removed.map((item) => `    - ${describeLeftover(item)}`));
  }
  if (report.alreadyGone.length > 0) lines.push(`  already gone when deleted: ${report.alreadyGone.map((i) => i.id).join(', ')}`);
  if (report.notRemoved.length > 0) {
    lines.push('  could not delete (still in use at the deadline):');
    lines.push(...report.notRemoved.map((f) => `    - ${describeLeftover(f.leftover)}: ${f.reason}`));
  }
  const v = report.verification;
  lines.push(`  by tag ${LAB_TAGS.lab}=${report.labName}: ${v.listed} listed, ${v.left.length} left`);
  if (v.stale.length > 0) lines.push(`    ${v.stale.length} listed but already deleted (the tagging API lags): ${v.stale.map(describeFinding).join(', ')}`);
  if (v.left.length > 0) lines.push(...v.left.map((f) => `    LEFT: ${describeFinding(f)}`));
  if (v.unverified.length > 0) lines.push(...v.unverified.map((f) => `    not checkable here, look in the console: ${describeFinding(f)}`));
  if (report.stateDirRemoved) lines.push('  local state: removed');
  return lines.join('\n');
}
