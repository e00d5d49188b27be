/**
 * The expiry contract between LabStack (which creates the one-time schedule) and the `lab` CLI
 * (which sets expiresAt at deploy and moves it with `lab extend`). Pure: no AWS, no clock, so
 * synth stays deterministic (expiresAt is an input, never `Date.now()`).
 */

/** Every expiry schedule lives in the account's `default` schedule group. */
export const EXPIRY_SCHEDULE_GROUP = 'default';

/** IAM path of the roles the expiry schedules assume (lets the CI role pass exactly these). */
export const EXPIRY_ROLE_PATH = '/cilium-lab/';

/** The name of a lab's expiry schedule: `cilium-lab-<labName>-expiry` (<= 64 chars, [\w.-]). */
export function expiryScheduleName(labName: string): string {
  return `cilium-lab-${labName}-expiry`;
}

/**
 * EventBridge Scheduler's one-time expression for an expiresAt: `at(yyyy-mm-ddThh:mm:ss)`, in
 * UTC (the schedule sets ScheduleExpressionTimezone UTC). LabConfig already holds expiresAt to
 * ISO 8601 with `Z` and whole seconds at least; at() takes no zone and no fraction, so the zone
 * is dropped and a fraction truncated (the lab expires up to 1 s early).
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#one-time
 */
export function schedulerAtExpression(expiresAt: string): string {
  const time = new Date(expiresAt);
  if (!/Z$/.test(expiresAt) || Number.isNaN(time.getTime())) {
    throw new Error(`expiresAt: "${expiresAt}" is not an ISO 8601 UTC time such as 2026-11-23T22:00:00Z`);
  }
  const expression = `at(${time.toISOString().slice(0, 19)})`;
  if (!/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/.test(expression)) {
    throw new Error(`expiresAt: "${expiresAt}" has no four-digit year; write it like 2026-11-23T22:00:00Z`);
  }
  return expression;
}
