/**
 * What a re-deploy of a running lab may not change. `lab deploy` (and `lab create`) on a lab that
 * is already up compare the new settings with the LabConfig output the stack was built from and
 * refuse these changes before cdk runs: each one would leave a broken lab rather than a changed one.
 */
import type { LabConfig } from '../config/schema.js';

interface FixedSetting {
  readonly path: string;
  readonly why: string;
}

/** Settings fixed when the lab is created, with what changing them in place would break. */
export const SETTINGS_FIXED_AT_CREATE: readonly FixedSetting[] = [
  {
    path: 'profile',
    why: "a profile fixes Cilium's IPAM and datapath when Cilium is installed (running pods keep their addresses and devices) and may change the nodes' Ubuntu release, which replaces every node",
  },
  { path: 'ubuntu.release', why: 'a new Ubuntu release is a new AMI: CloudFormation replaces every node and the kubeadm cluster on them is lost' },
  { path: 'ubuntu.arch', why: 'a new architecture is a new AMI: CloudFormation replaces every node and the kubeadm cluster on them is lost' },
  { path: 'clusterPool.maskSize', why: "Cilium's operator cannot change the block size of a running pool (the mask size never changes)" },
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
  for (const { path, why } of SETTINGS_FIXED_AT_CREATE) {
    const was = at(deployed, path);
    const now = at(next, path);
    if (was === undefined || JSON.stringify(was) === JSON.stringify(now)) continue;
    problems.push(`${path}: lab ${next.labName} runs with ${path} ${shown(was)}, and this deploy asks for ${shown(now)}; ${why}; ${fix}`);
  }
  // The pool list can only grow: every pool the operator hands blocks from stays, new ones come after.
  const wasPools = at(deployed, 'clusterPool.cidrs');
  if (at(deployed, 'profile') === 'cluster-pool' && next.profile === 'cluster-pool' && Array.isArray(wasPools)) {
    const dropped = wasPools.filter((pool) => !next.clusterPool.cidrs.includes(String(pool)));
    if (dropped.length > 0) {
      problems.push(
        `clusterPool.cidrs: lab ${next.labName} hands out pod addresses from ${dropped.join(', ')}, which this deploy drops; Cilium's pool list can only grow, so keep every running pool and add new ones after them (${[...wasPools, ...next.clusterPool.cidrs.filter((p) => !wasPools.includes(p))].join(',')})`,
      );
    }
  }
  return problems;
}
