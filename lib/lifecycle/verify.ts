/**
 * After a delete: is anything tagged with the lab still there? The Resource Groups Tagging API
 * finds a lab's resources across services by tag, but it is eventually consistent: deleted
 * resources and terminated instances stay listed for a while (up to about an hour). So each ARN it
 * lists is checked with its own service before it is reported as left behind.
 */
import { LAB_TAGS } from '../config/tags.js';
import { sleep } from './timing.js';
import type { LifecycleCloud } from './cloud.js';

export interface TaggedFinding {
  readonly arn: string;
  readonly detail?: string;
}

export interface TagVerification {
  /** How many ARNs the tagging API listed. */
  readonly listed: number;
  /** Still there, confirmed by the owning service. */
  readonly left: readonly TaggedFinding[];
  /** Listed, but the owning service says deleted or terminated (the tagging API lagging behind). */
  readonly stale: readonly TaggedFinding[];
  /** Listed, of a type this tool cannot check: look in the console. */
  readonly unverified: readonly TaggedFinding[];
}

export async function verifyByTag(cloud: LifecycleCloud, labName: string): Promise<TagVerification> {
  const listed = await cloud.taggedResources([{ key: LAB_TAGS.lab, values: [labName] }]);
  const checks = await Promise.all(listed.map(async (r) => ({ arn: r.arn, check: await cloud.checkResource(r.arn) })));
  const pick = (state: string): TaggedFinding[] =>
    checks.filter((c) => c.check.state === state).map((c) => ({ arn: c.arn, ...(c.check.detail ? { detail: c.check.detail } : {}) }));
  return { listed: listed.length, left: pick('exists'), stale: pick('gone'), unverified: pick('unverifiable') };
}

/**
 * verifyByTag until nothing is left, or until `settleMs` have passed: a resource of a just-deleted
 * stack may still answer for a while (eventual consistency), so one look is not a verdict. Only
 * what is still there at the end is reported left; `rounds` says how many looks it took.
 */
export async function verifyByTagSettled(
  cloud: LifecycleCloud,
  labName: string,
  timing: { readonly verifySettleMs: number; readonly verifyPollMs: number },
): Promise<TagVerification & { readonly rounds: number }> {
  const deadline = Date.now() + timing.verifySettleMs;
  for (let rounds = 1; ; rounds++) {
    const verification = await verifyByTag(cloud, labName);
    if (verification.left.length === 0 || Date.now() + timing.verifyPollMs > deadline) return { ...verification, rounds };
    await sleep(timing.verifyPollMs);
  }
}

export function describeFinding(finding: TaggedFinding): string {
  return `${finding.arn}${finding.detail ? ` (${finding.detail})` : ''}`;
}
