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

/** How long a lab lives by default (`ttl`): a study session plus margin. */
export const DEFAULT_TTL = '4h';

/** The longest `ttl`: a lab is a study session, not a cluster to keep. */
export const MAX_TTL_DAYS = 14;

/**
 * A lifetime such as `90m`, `4h`, `1d` or `1d2h30m` in seconds, or undefined when it is not one
 * (or is zero, or longer than MAX_TTL_DAYS).
 */
export function ttlSeconds(text: string): number | undefined {
  const match = /^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?$/.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const seconds = (Number(match[1] ?? 0) * 24 * 60 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 60;
  return seconds > 0 && seconds <= MAX_TTL_DAYS * 86_400 ? seconds : undefined;
}
