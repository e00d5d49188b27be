/**
 * `lab status`'s expiry line: when the lab expires (its schedule, which `lab extend` moves), the
 * schedule's state, and how many expiries failed (dead letters the schedule left in its queue:
 * Scheduler could not call DeleteStack after its retries). A failed expiry must not be silent:
 * the lab keeps running and costing.
 */
import { EXPIRY_SCHEDULE_GROUP } from '../config/expiry.js';
import { OUTPUTS } from '../config/outputs.js';
import type { LifecycleCloud } from './cloud.js';
import { parseAtExpression } from './extend.js';

export interface ExpiryStatus {
  /** ISO time the lab is deleted, when it has a schedule. */
  readonly expiresAt?: string;
  /** ENABLED / DISABLED, as Scheduler reports it. */
  readonly scheduleState?: string;
  /** Dead letters in the schedule's queue: expiries Scheduler could not carry out. */
  readonly failedAttempts?: number;
  readonly deadLetterQueue?: string;
  /** One line a person reads. */
  readonly summary: string;
}

/** `cloud` is asked for only when the lab has an expiry (its clients load then). */
export async function expiryStatus(getCloud: () => Promise<LifecycleCloud>, outputs: Readonly<Record<string, string>>, now: Date): Promise<ExpiryStatus> {
  const scheduleName = outputs[OUTPUTS.expirySchedule];
  if (scheduleName === undefined) return { summary: 'no expiry: the lab lives until lab down (deploy with lab deploy --ttl to give it one)' };
  const cloud = await getCloud();
  const schedule = await cloud.getSchedule(scheduleName, EXPIRY_SCHEDULE_GROUP);
  const queue = outputs[OUTPUTS.expiryDeadLetters];
  // The dead letters on their own: a reader without SQS access still sees the time and state.
  let failedAttempts: number | undefined;
  let lettersUnknown: string | undefined;
  if (queue !== undefined) {
    try {
      failedAttempts = await cloud.deadLetterCount(queue);
    } catch (error) {
      lettersUnknown = String((error as Error)?.message ?? error).split('\n')[0];
    }
  }
  const at = schedule ? parseAtExpression(schedule.expression, schedule.timezone) : undefined;
  const base = {
    ...(at ? { expiresAt: at.toISOString().replace('.000Z', 'Z') } : {}),
    ...(schedule?.state ? { scheduleState: schedule.state } : {}),
    ...(failedAttempts !== undefined ? { failedAttempts } : {}),
    ...(queue !== undefined ? { deadLetterQueue: queue } : {}),
  };
  if (!schedule) return { ...base, summary: `the expiry schedule ${EXPIRY_SCHEDULE_GROUP}/${scheduleName} is gone: nothing will delete this lab (lab down deletes it)` };
  const letters =
    queue === undefined
      ? '' // deployed before the dead-letter queue existed: nothing to say about failures
      : lettersUnknown !== undefined
        ? `, dead letters unknown (${lettersUnknown})`
        : failedAttempts === 0
          ? ', no failed attempt'
          : '';
  if (failedAttempts !== undefined && failedAttempts > 0) {
    const future = at !== undefined && at.getTime() > now.getTime();
    return {
      ...base,
      summary: future
        ? // A letter stays 14 days: after lab extend or a re-deploy, an earlier failure is history, the next expiry is what counts.
          `expires at ${base.expiresAt} (schedule ${schedule.state ?? 'state unknown'}); an earlier expiry FAILED (${failedAttempts} dead letter(s) in ${queue})`
        : `EXPIRY FAILED: Scheduler could not delete the stack (${failedAttempts} dead letter(s) in ${queue}); the lab keeps running and costing: lab down --yes deletes it`,
    };
  }
  if (at && at.getTime() <= now.getTime()) return { ...base, summary: `expired at ${base.expiresAt} (schedule ${schedule.state ?? 'state unknown'}${letters}); the deletion should be under way` };
  return { ...base, summary: `expires at ${base.expiresAt ?? schedule.expression} (schedule ${schedule.state ?? 'state unknown'}${letters})` };
}
