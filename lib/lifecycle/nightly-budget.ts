/**
 * The nightly teardown's time budget, computed in one place from the lifecycle timings, so the
 * workflow's step and job timeouts and the length of its AWS credentials cannot drift apart
 * (test/ci/nightly-workflow.test.ts holds the workflow to these figures).
 *
 * GitHub OIDC credentials from configure-aws-credentials last `role-duration-seconds` (default one
 * hour: its action.yml and src/index.ts DEFAULT_ROLE_DURATION at v6.2.3), at most the role's
 * MaxSessionDuration (2 h: lib/infra/ci-access-stack.ts). A teardown step that outlives its
 * credentials fails with ExpiredToken halfway through a delete, so each credential segment of the
 * job must fit its steps' worst case.
 */
import { DEFAULT_TIMING, type LifecycleTiming } from './timing.js';

/** The CI role's MaxSessionDuration (lib/infra/ci-access-stack.ts). */
export const CI_ROLE_MAX_SESSION_SECONDS = 2 * 60 * 60;

const minutes = (ms: number): number => Math.ceil(ms / 60_000);

/** The longest `lab down` can run: leftovers, DeleteStack, on DELETE_FAILED leftovers and DeleteStack again, then the settled verification. */
export function downWorstCaseMinutes(timing: LifecycleTiming = DEFAULT_TIMING): number {
  return minutes(2 * timing.leftoverTimeoutMs + 2 * timing.stackDeleteTimeoutMs + timing.verifySettleMs);
}

export interface TeardownBudget {
  /** Checkout, install, credentials. */
  readonly setupMinutes: number;
  /** The `lab down` step; `lab sweep` (its labs in parallel, each as `down`) gets the same. */
  readonly downStepMinutes: number;
  readonly sweepStepMinutes: number;
  /** The `cdk destroy` fallback, which runs only after a failed `lab down`. */
  readonly destroyStepMinutes: number;
  readonly jobMinutes: number;
  /** Credentials of the first segment (down, destroy) and, fetched again, of the sweep. */
  readonly roleDurationSeconds: number;
}

export function teardownBudget(timing: LifecycleTiming = DEFAULT_TIMING): TeardownBudget {
  const setupMinutes = 10;
  const downStepMinutes = downWorstCaseMinutes(timing) + 3;
  const destroyStepMinutes = minutes(timing.stackDeleteTimeoutMs) + 5;
  const sweepStepMinutes = downStepMinutes;
  // Segment 1: setup + down + destroy; segment 2 (new credentials): sweep. Both must fit.
  const longestSegmentMinutes = Math.max(setupMinutes + downStepMinutes + destroyStepMinutes, sweepStepMinutes + 2);
  return {
    setupMinutes,
    downStepMinutes,
    sweepStepMinutes,
    destroyStepMinutes,
    jobMinutes: setupMinutes + downStepMinutes + destroyStepMinutes + 2 + sweepStepMinutes,
    roleDurationSeconds: longestSegmentMinutes * 60,
  };
}
