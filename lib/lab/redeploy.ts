/**
 * What a re-deploy of a running lab may not change. `lab deploy` (and `lab create`) on a lab that
 * is already up compare the new settings with the LabConfig output the stack was built from and
 * refuse these changes before cdk runs: each one would leave a broken lab rather than a changed one.
 */
import { profileOf } from '../config/profiles.js';
import type { LabConfig } from '../config/schema.js';

interface FixedSetting {
  readonly path: string;
  readonly why: string;
}

/** Settings fixed when any lab is created, with what changing them in place would break (a profile adds its own: LabProfile.redeploy). */
export const SETTINGS_FIXED_AT_CREATE: readonly FixedSetting[] = [
  {
    path: 'profile',
    why: "a profile fixes Cilium's IPAM and datapath when Cilium is installed (running pods keep their addresses and devices) and may change the nodes' Ubuntu release, which replaces every node",
  },
  { path: 'ubuntu.release', why: 'a new Ubuntu release is a new AMI: CloudFormation replaces every node and the kubeadm cluster on them is lost' },
  { path: 'ubuntu.arch', why: 'a new architecture is a new AMI: CloudFormation replaces every node and the kubeadm cluster on them is lost' },
];

function at(root: unknown, path: string): unknown {
  let node = root;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

const shown = (value: unknown): string => (Array.isArray(value) ? value.join(', ') : String(value));

/**
 * The refusals for deploying `next` over a lab built from `deployed` (the stack's LabConfig
 * output, parsed JSON). A setting the deployed config does not carry (an older lab) is not judged.
 */
export function redeployRefusals(deployed: unknown, next: LabConfig): string[] {
  const problems: string[] = [];
  const fix = `lab down -c labName=${next.labName} first, or deploy this one under another labName`;
  // A profile's own settings are judged only when the profile stays (a change of profile is refused above all).
  const sameProfile = at(deployed, 'profile') === next.profile;
  const profile = profileOf(next);
  const fixed = [...SETTINGS_FIXED_AT_CREATE, ...(sameProfile ? (profile.redeploy?.fixed ?? []) : [])];
  for (const { path, why } of fixed) {
    const was = at(deployed, path);
    const now = at(next, path);
    if (was === undefined || JSON.stringify(was) === JSON.stringify(now)) continue;
    problems.push(`${path}: lab ${next.labName} runs with ${path} ${shown(was)}, and this deploy asks for ${shown(now)}; ${why}; ${fix}`);
  }
  // Lists that may only grow: every running entry stays, new ones come after.
  for (const { path, why } of sameProfile ? (profile.redeploy?.growOnly ?? []) : []) {
    const was = at(deployed, path);
    const now = at(next, path);
    if (!Array.isArray(was) || !Array.isArray(now)) continue;
    const dropped = was.filter((entry) => !now.includes(entry));
    if (dropped.length > 0) {
      problems.push(
        `${path}: lab ${next.labName} runs with ${dropped.join(', ')}, which this deploy drops; ${why}, so keep every running entry and add new ones after them (${[...was, ...now.filter((entry) => !was.includes(entry))].join(',')})`,
      );
    }
  }
  return problems;
}
