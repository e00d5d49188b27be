/**
 * `lab sweep`: the net under forgotten labs and leaked CI labs (cilium PR#35915 runs a 3-hour
 * sweeper for the same reason). Finds every cilium-lab stack of the region by tag and picks the
 * expired ones:
 *   - with an expiry: its expiry schedule's time when the schedule exists (`lab extend` moves the
 *     schedule, not the stack's tag), else the `cilium-lab:expires-at` tag; expired once past;
 *   - without one (tag "unset"): older than --older-than (CreationTime).
 * Each picked lab then goes through the `down` logic.
 *
 * Only labs are candidates: the cilium-lab:lab tag equal to the stack name and the kind tag
 * `lab` (the same two tags the CI role's DeleteStack condition asks for, so sweep never picks a
 * stack it may not delete; a rolled-back lab has no outputs but keeps its tags). The CI access
 * stack carries the managed-by tag too, but kind `ci-access` and no lab tag: sweeping it would
 * delete the nightly's own OIDC role. With an owner, only labs with that cilium-lab:owner tag are candidates
 * (the nightly sweeps its own labs, never people's labs in the same account).
 */
import { EXPIRY_SCHEDULE_GROUP, expiryScheduleName } from '../config/expiry.js';
import { OUTPUTS } from '../config/outputs.js';
import { LAB_TAGS, NO_EXPIRY, STACK_KINDS } from '../config/tags.js';
import type { LifecycleCloud, StackInfo } from './cloud.js';
import { MANAGED_BY_VALUE } from './down.js';
import { parseAtExpression } from './extend.js';
import { formatDuration } from './timing.js';

export interface SweepCandidate {
  readonly labName: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly status: string;
  readonly creationTime?: string;
  /** The expiry in force (ISO), if the lab has one. */
  readonly expiresAt?: string;
  readonly expirySource: 'schedule' | 'tag' | 'none';
  /** Why it is swept, or why it is kept. */
  readonly why: string;
}

/** Why a stack the tagging API lists is not a lab sweep may touch; undefined for a lab. */
export function notALab(stack: StackInfo): string | undefined {
  const kind = stack.tags[LAB_TAGS.kind];
  if (kind !== undefined && kind !== STACK_KINDS.lab) return `not a lab (${LAB_TAGS.kind}=${kind})`;
  if (stack.tags[LAB_TAGS.lab] !== stack.stackName) return `not a lab (no ${LAB_TAGS.lab}=${stack.stackName} tag)`;
  if (kind === undefined) return `no ${LAB_TAGS.kind}=lab tag (deployed by an older cilium-lab?): delete it with lab down -c labName=${stack.stackName}`;
  return undefined;
}

export interface SweepOptions {
  /** Only labs older than this without an expiry. */
  readonly olderThanMs: number;
  /** Only labs with this cilium-lab:owner tag (undefined: every owner). */
  readonly owner?: string;
}

export interface SweepFindings {
  readonly expired: readonly SweepCandidate[];
  readonly kept: readonly SweepCandidate[];
  /** cilium-lab stacks that are not sweep's to touch (the CI access stack, another owner's labs), with why. */
  readonly ignored: readonly { readonly stackName: string; readonly why: string }[];
  /** Listed by the tagging API but gone (DELETE_COMPLETE or unknown): the API lagging behind. */
  readonly stale: readonly string[];
}

async function effectiveExpiry(cloud: LifecycleCloud, stack: StackInfo, labName: string): Promise<{ at?: Date; source: SweepCandidate['expirySource'] }> {
  const scheduleName = stack.outputs[OUTPUTS.expirySchedule] ?? expiryScheduleName(labName);
  const schedule = await cloud.getSchedule(scheduleName, EXPIRY_SCHEDULE_GROUP);
  const fromSchedule = schedule ? parseAtExpression(schedule.expression, schedule.timezone) : undefined;
  if (fromSchedule) return { at: fromSchedule, source: 'schedule' };
  const tag = stack.tags[LAB_TAGS.expiresAt];
  if (tag && tag !== NO_EXPIRY) {
    const at = new Date(tag);
    if (!Number.isNaN(at.getTime())) return { at, source: 'tag' };
  }
  return { source: 'none' };
}

/** Lists the region's cilium-lab stacks and sorts them into expired and kept. */
export async function findExpiredLabs(cloud: LifecycleCloud, options: SweepOptions, now: Date): Promise<SweepFindings> {
  const { olderThanMs, owner } = options;
  const listed = await cloud.taggedResources([{ key: LAB_TAGS.managedBy, values: [MANAGED_BY_VALUE] }], ['cloudformation:stack']);
  const expired: SweepCandidate[] = [];
  const kept: SweepCandidate[] = [];
  const stale: string[] = [];
  const ignored: { stackName: string; why: string }[] = [];
  for (const resource of listed) {
    const stack = await cloud.describeStack(resource.arn);
    if (!stack || stack.status === 'DELETE_COMPLETE') {
      stale.push(resource.arn);
      continue;
    }
    const why = notALab(stack) ?? (owner !== undefined && stack.tags[LAB_TAGS.owner] !== owner ? `another owner's lab (${LAB_TAGS.owner}=${stack.tags[LAB_TAGS.owner] ?? 'none'})` : undefined);
    if (why !== undefined) {
      ignored.push({ stackName: stack.stackName, why });
      continue;
    }
    // The stack is named after the lab (LabStack); `down` finds it by that name.
    const labName = stack.stackName;
    const expiry = await effectiveExpiry(cloud, stack, labName);
    const base = {
      labName,
      stackName: stack.stackName,
      stackId: stack.stackId,
      status: stack.status,
      ...(stack.creationTime ? { creationTime: stack.creationTime.toISOString() } : {}),
      ...(expiry.at ? { expiresAt: expiry.at.toISOString() } : {}),
      expirySource: expiry.source,
    };
    if (expiry.at) {
      const past = expiry.at.getTime() <= now.getTime();
      const source = expiry.source === 'schedule' ? 'its expiry schedule' : `its ${LAB_TAGS.expiresAt} tag`;
      (past ? expired : kept).push({ ...base, why: `${past ? 'expired' : 'expires'} at ${expiry.at.toISOString()} (${source})` });
      continue;
    }
    const age = stack.creationTime ? now.getTime() - stack.creationTime.getTime() : undefined;
    if (age === undefined) {
      kept.push({ ...base, why: 'no expiry and no creation time' });
    } else if (age > olderThanMs) {
      expired.push({ ...base, why: `no expiry, created ${formatDuration(age)} ago (older than ${formatDuration(olderThanMs)})` });
    } else {
      kept.push({ ...base, why: `no expiry, created ${formatDuration(age)} ago` });
    }
  }
  return { expired, kept, ignored, stale };
}

export function formatFindings(findings: SweepFindings, region: string | undefined): string {
  const lines = [`cilium-lab stacks${region ? ` in ${region}` : ''}: ${findings.expired.length} to sweep, ${findings.kept.length} kept, ${findings.ignored.length} not sweep's to touch`];
  for (const c of findings.expired) lines.push(`  sweep ${c.labName} (stack ${c.stackName}, ${c.status}): ${c.why}`);
  for (const c of findings.kept) lines.push(`  keep  ${c.labName} (stack ${c.stackName}, ${c.status}): ${c.why}`);
  for (const c of findings.ignored) lines.push(`  leave ${c.stackName}: ${c.why}`);
  if (findings.stale.length > 0) lines.push(`  (${findings.stale.length} listed by the tagging API but already deleted)`);
  return lines.join('\n');
}
