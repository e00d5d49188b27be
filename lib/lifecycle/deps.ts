/** What the lifecycle logic is handed: the cloud, the timing, and the command's reporter. */
import type { LifecycleCloud } from './cloud.js';
import type { LifecycleTiming } from './timing.js';

export interface LifecycleDeps {
  readonly cloud: LifecycleCloud;
  readonly timing: LifecycleTiming;
  /** A timed phase (PhaseReporter.phase): its timing ends up in the JSON report. */
  phase<T>(name: string, run: () => Promise<T>, describe?: (value: T) => string): Promise<T>;
  /** A phase that did not need to run (PhaseReporter.skip). */
  skip(name: string, why: string): void;
  /** A progress line. */
  info(line: string): void;
  /** The wall clock (expiry and age decisions); timers stay real. */
  now(): Date;
}
