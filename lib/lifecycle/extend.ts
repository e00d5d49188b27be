/**
 * `lab extend`: moves a lab's expiry. The expiry schedule (EventBridge Scheduler, one-time
 * `at(...)` in UTC, named by lib/config/expiry.ts and the stack output ExpirySchedule) is what
 * deletes the lab, so that is what moves: GetSchedule, then UpdateSchedule with the same target
 * and role and a new `at(...)`.
 *
 * The stack's `cilium-lab:expires-at` tag keeps the time of the deploy: retagging a stack is a
 * stack update that re-tags every resource, for a label. `lab sweep` reads the schedule first, so
 * an extended lab is not swept early.
 */
import { EXPIRY_SCHEDULE_GROUP, expiryScheduleName, schedulerAtExpression } from '../config/expiry.js';
import { OUTPUTS } from '../config/outputs.js';
import { LAB_TAGS, NO_EXPIRY } from '../config/tags.js';
import type { LifecycleCloud } from './cloud.js';
import { formatDuration, parseDuration } from './timing.js';

export class ExtendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtendError';
  }
}

/** at(2026-11-23T22:00:00) in `timezone` (UTC only) -> the Date; undefined when it is not a one-time UTC expression. */
export function parseAtExpression(expression: string, timezone?: string): Date | undefined {
  if (timezone !== undefined && timezone !== 'UTC' && timezone !== 'Etc/UTC') return undefined;
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression.trim());
  if (!match) return undefined;
  const time = new Date(`${match[1]}Z`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

export type ExtendRequest = { readonly by: string } | { readonly until: string };

/** The smallest lead a new expiry must have over now, so the schedule cannot fire while it is being moved. */
export const MIN_LEAD_MS = 5 * 60_000;

/**
 * The new expiry: the current one plus `by` (a duration such as 2h or 90m), or `until` (ISO 8601
 * UTC). It must lie at least MIN_LEAD_MS in the future. Returns it as an ISO string with whole
 * seconds, and the at() expression of it.
 */
export function newExpiry(current: Date, request: ExtendRequest, now: Date): { expiresAt: string; expression: string } {
  let next: Date;
  if ('by' in request) {
    const ms = parseDuration(request.by);
    if (ms === undefined) throw new ExtendError(`--by: "${request.by}" is not a duration; write it like 2h, 90m or 1h30m`);
    next = new Date(current.getTime() + ms);
  } else {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/.test(request.until) || Number.isNaN(new Date(request.until).getTime())) {
      throw new ExtendError(`--until: "${request.until}" is not an ISO 8601 UTC time such as 2026-11-23T22:00:00Z`);
    }
    next = new Date(request.until);
  }
  if (next.getTime() < now.getTime() + MIN_LEAD_MS) {
    throw new ExtendError(`the new expiry ${next.toISOString()} is not at least ${formatDuration(MIN_LEAD_MS)} from now (${now.toISOString()}); give a later time`);
  }
  const expiresAt = `${next.toISOString().slice(0, 19)}Z`;
  return { expiresAt, expression: schedulerAtExpression(expiresAt) };
}

/** The schedule's description with its ISO time(s) replaced by the new expiry. */
export function movedDescription(description: string | undefined, expiresAt: string): string | undefined {
  if (description === undefined) return undefined;
  return description.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z/g, expiresAt);
}

export interface ExtendReport {
  readonly labName: string;
  readonly scheduleName: string;
  readonly scheduleGroup: string;
  /** The expiry before, ISO. */
  readonly from: string;
  /** The new expiry, ISO. */
  readonly to: string;
  readonly expression: string;
  /** The stack's expires-at tag, which keeps the deploy-time value. */
  readonly tagValue: string;
}

/** Moves the lab's expiry schedule (GetSchedule + UpdateSchedule with the same target and role). */
export async function extendLab(cloud: LifecycleCloud, labName: string, request: ExtendRequest, now: Date): Promise<ExtendReport> {
  const where = cloud.region ? ` in ${cloud.region}` : '';
  const stack = await cloud.describeStack(labName);
  if (!stack || stack.status === 'DELETE_COMPLETE') {
    throw new ExtendError(`there is no stack ${labName}${where}: nothing to extend (pass -c labName=... / -c region=... of the lab you deployed)`);
  }
  if (stack.status.startsWith('DELETE_')) {
    // DELETE_IN_PROGRESS (the expiry fired, or lab down runs) or DELETE_FAILED: moving the
    // schedule would promise a lab that is going away.
    throw new ExtendError(`stack ${labName}${where} is ${stack.status}: the lab is being deleted, there is nothing to extend (deploy a new one; after DELETE_FAILED run lab down to finish)`);
  }
  const scheduleName = stack.outputs[OUTPUTS.expirySchedule] ?? expiryScheduleName(labName);
  const schedule = await cloud.getSchedule(scheduleName, EXPIRY_SCHEDULE_GROUP);
  if (!schedule) {
    throw new ExtendError(
      `lab ${labName}${where} has no expiry schedule ${EXPIRY_SCHEDULE_GROUP}/${scheduleName}: it was deployed without expiresAt and lives until lab down (to give it one, deploy again with -c expiresAt=2026-11-23T22:00:00Z)`,
    );
  }
  const current = parseAtExpression(schedule.expression, schedule.timezone);
  if (!current) {
    throw new ExtendError(`schedule ${scheduleName} has the expression ${schedule.expression} (${schedule.timezone ?? 'no time zone'}), not a one-time at(...) in UTC; it was not made by cilium-lab, so lab extend leaves it alone`);
  }
  const { expiresAt, expression } = newExpiry(current, request, now);
  await cloud.moveSchedule(schedule.name, schedule.groupName, expression, movedDescription(schedule.description, expiresAt));
  return {
    labName,
    scheduleName: schedule.name,
    scheduleGroup: schedule.groupName,
    from: current.toISOString(),
    to: expiresAt,
    expression,
    tagValue: stack.tags[LAB_TAGS.expiresAt] ?? NO_EXPIRY,
  };
}

export function formatExtendReport(report: ExtendReport): string {
  return [
    `lab ${report.labName} now expires at ${report.to} (was ${report.from}): schedule ${report.scheduleGroup}/${report.scheduleName} is ${report.expression} (UTC)`,
    `The stack tag ${LAB_TAGS.expiresAt} keeps ${report.tagValue} (changing it would be a stack update); lab sweep reads the schedule first.`,
    `A later cdk deploy of this lab must pass -c expiresAt=${report.to}, or it moves the schedule back.`,
  ].join('\n');
}
