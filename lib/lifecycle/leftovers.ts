/**
 * What blocks a lab's stack deletion from outside CloudFormation (aws-cdk#12130, eksctl#1960,
 * cilium#21409): network interfaces and security groups that Kubernetes, Cilium (ENI mode) or a
 * person created in the lab VPC. CloudFormation cannot delete the lab's security group, subnets or
 * VPC while they exist, so `down` removes them first: ENIs before security groups (an ENI holds
 * its groups), each retried while AWS answers "still in use" (DependencyViolation), with backoff,
 * until a deadline.
 */
import { LAB_TAGS } from '../config/tags.js';
import type { DeleteOutcome, LifecycleCloud, NetworkInterfaceInfo, SecurityGroupInfo, StackResource } from './cloud.js';
import { backoffMs, sleep, type LifecycleTiming } from './timing.js';

/**
 * Cilium's ENI IPAM describes its interfaces "Cilium-CNI (<instance id>)" and tags them
 * io.cilium/cilium-managed=true and io.cilium/cluster-name=<cluster.name> (cilium/cilium
 * Documentation/network/concepts/ipam/eni.rst "ENI Creation"; chart value eni.gcTags).
 */
export const CILIUM_ENI_DESCRIPTION_PREFIX = 'Cilium-CNI';
export const CILIUM_TAG_PREFIX = 'io.cilium/';

export interface Leftover {
  readonly kind: 'network-interface' | 'security-group';
  readonly id: string;
  readonly vpcId?: string;
  /** Why it counts as a leftover (shown to the user). */
  readonly why: string;
  /** For an attached ENI: detached (with force) before the delete. */
  readonly attachmentId?: string;
}

/** What AWS will not let this tool delete (a load balancer's ENI): the user must remove its owner. */
export interface Blocker {
  readonly id: string;
  readonly why: string;
}

export interface LeftoverScan {
  readonly vpcIds: readonly string[];
  readonly networkInterfaces: readonly Leftover[];
  readonly securityGroups: readonly Leftover[];
  readonly blockers: readonly Blocker[];
}

export function leftoverCount(scan: LeftoverScan): number {
  return scan.networkInterfaces.length + scan.securityGroups.length;
}

/** Why an ENI in the lab VPC is a leftover, or undefined when it belongs to the stack or an instance's primary interface. */
export function eniLeftoverReason(eni: NetworkInterfaceInfo, labName: string): string | undefined {
  const reasons: string[] = [];
  if (eni.status === 'available') reasons.push('not attached (available)');
  if (eni.description.startsWith(CILIUM_ENI_DESCRIPTION_PREFIX)) reasons.push(`description "${eni.description}"`);
  const ciliumTag = Object.keys(eni.tags).find((key) => key.startsWith(CILIUM_TAG_PREFIX));
  if (ciliumTag) reasons.push(`tag ${ciliumTag}`);
  if (eni.tags[LAB_TAGS.lab] === labName) reasons.push(`tag ${LAB_TAGS.lab}=${labName}`);
  if (reasons.length === 0) return undefined;
  // An instance's primary interface goes with the instance: CloudFormation terminates it.
  if (eni.status !== 'available' && eni.deviceIndex === 0) return undefined;
  return reasons.join(', ');
}

/** The physical ids of the stack's own resources of a type (CloudFormation deletes those itself). */
function stackIds(resources: readonly StackResource[], type: string): Set<string> {
  return new Set(resources.filter((r) => r.type === type && r.physicalId).map((r) => r.physicalId as string));
}

/** The lab's VPCs: the stack's own (while the stack exists) and any tagged with the lab (when it is gone). */
export async function labVpcIds(cloud: LifecycleCloud, labName: string, resources: readonly StackResource[]): Promise<string[]> {
  const fromStack = [...stackIds(resources, 'AWS::EC2::VPC')];
  const tagged = await cloud.labVpcIds(labName);
  return [...new Set([...fromStack, ...tagged])].sort();
}

/**
 * Finds the leftovers in the lab's VPCs: ENIs that are unattached, Cilium's, or tagged with the
 * lab (not the stack's own, not an instance's primary one), and security groups the stack did not
 * create (never the VPC's `default` group, which goes with the VPC).
 */
export async function scanLeftovers(cloud: LifecycleCloud, labName: string, vpcIds: readonly string[], resources: readonly StackResource[]): Promise<LeftoverScan> {
  const stackEnis = stackIds(resources, 'AWS::EC2::NetworkInterface');
  const stackGroups = stackIds(resources, 'AWS::EC2::SecurityGroup');
  const networkInterfaces: Leftover[] = [];
  const securityGroups: Leftover[] = [];
  const blockers: Blocker[] = [];
  for (const vpcId of vpcIds) {
    const [enis, groups] = await Promise.all([cloud.networkInterfaces(vpcId), cloud.securityGroups(vpcId)]);
    for (const eni of enis) {
      if (stackEnis.has(eni.id)) continue;
      if (eni.requesterManaged) {
        blockers.push({ id: eni.id, why: `managed by an AWS service (${eni.interfaceType ?? 'requester-managed'}, "${eni.description}"): delete the load balancer or endpoint that owns it` });
        continue;
      }
      const why = eniLeftoverReason(eni, labName);
      if (why) networkInterfaces.push({ kind: 'network-interface', id: eni.id, vpcId, why, ...(eni.status !== 'available' && eni.attachmentId ? { attachmentId: eni.attachmentId } : {}) });
    }
    for (const group of groups) {
      if (group.name === 'default' || stackGroups.has(group.id)) continue;
      securityGroups.push({ kind: 'security-group', id: group.id, vpcId, why: securityGroupReason(group) });
    }
  }
  return { vpcIds, networkInterfaces, securityGroups, blockers };
}

function securityGroupReason(group: SecurityGroupInfo): string {
  const creator = group.tags['kubernetes.io/cluster'] !== undefined || Object.keys(group.tags).some((k) => k.startsWith('kubernetes.io/cluster/')) ? ', created by Kubernetes' : '';
  return `"${group.name}" in the lab VPC, not created by the stack${creator}`;
}

export interface RemovalResult {
  /** In the order they were removed. */
  readonly removed: readonly Leftover[];
  /** Already gone when this tool came to delete them. */
  readonly alreadyGone: readonly Leftover[];
  /** Still there at the deadline, with AWS's last answer. */
  readonly failed: readonly { readonly leftover: Leftover; readonly reason: string }[];
}

/**
 * Deletes one group of leftovers, all at once, each retried while busy with exponential backoff
 * until `deadline` (epoch ms).
 */
async function removeAll(
  items: readonly Leftover[],
  remove: (item: Leftover) => Promise<DeleteOutcome>,
  deadline: number,
  timing: LifecycleTiming,
  onRemoved: (item: Leftover, outcome: 'deleted' | 'gone') => void,
): Promise<{ leftover: Leftover; reason: string }[]> {
  const failed: { leftover: Leftover; reason: string }[] = [];
  await Promise.all(
    items.map(async (item) => {
      for (let attempt = 0; ; attempt++) {
        const outcome = await remove(item);
        if (outcome.kind !== 'busy') {
          onRemoved(item, outcome.kind);
          return;
        }
        const pause = backoffMs(attempt, timing.leftoverBackoffBaseMs, timing.leftoverBackoffMaxMs);
        if (Date.now() + pause > deadline) {
          failed.push({ leftover: item, reason: outcome.reason });
          return;
        }
        await sleep(pause);
      }
    }),
  );
  return failed;
}

/**
 * Removes the leftovers: detaches attached ENIs, deletes the ENIs, then (only then) the security
 * groups. Busy resources are retried until `timing.leftoverTimeoutMs` from now.
 */
export async function removeLeftovers(cloud: LifecycleCloud, scan: LeftoverScan, timing: LifecycleTiming, info: (line: string) => void = () => {}): Promise<RemovalResult> {
  const deadline = Date.now() + timing.leftoverTimeoutMs;
  const removed: Leftover[] = [];
  const alreadyGone: Leftover[] = [];
  const record = (item: Leftover, outcome: 'deleted' | 'gone'): void => {
    (outcome === 'deleted' ? removed : alreadyGone).push(item);
    info(`  ${outcome === 'deleted' ? 'deleted' : 'already gone'}: ${item.kind} ${item.id} (${item.why})`);
  };
  for (const eni of scan.networkInterfaces) {
    if (eni.attachmentId) await cloud.detachNetworkInterface(eni.attachmentId);
  }
  const failed = await removeAll(scan.networkInterfaces, (eni) => cloud.deleteNetworkInterface(eni.id), deadline, timing, record);
  if (failed.length === 0) {
    failed.push(...(await removeAll(scan.securityGroups, (group) => cloud.deleteSecurityGroup(group.id), deadline, timing, record)));
  } else {
    // A group an undeleted ENI still holds cannot go either: say so rather than burn the deadline.
    failed.push(...scan.securityGroups.map((leftover) => ({ leftover, reason: 'not tried: a network interface in the VPC could not be deleted' })));
  }
  return { removed, alreadyGone, failed };
}

export function describeLeftover(item: Leftover): string {
  return `${item.kind} ${item.id}${item.vpcId ? ` in ${item.vpcId}` : ''}: ${item.why}`;
}
