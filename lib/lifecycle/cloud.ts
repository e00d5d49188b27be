/**
 * What the lifecycle commands (down, sweep, extend, stop, start) need from AWS, as one small
 * interface. lib/aws/lifecycle-cloud.ts implements it with the SDK clients (CloudFormation, EC2,
 * Resource Groups Tagging API, EventBridge Scheduler, SSM); the logic in lib/lifecycle never sees
 * the SDK, and tests point the real adapter at loopback fakes.
 */

export type Tags = Readonly<Record<string, string>>;

/** A stack as DescribeStacks reports it. */
export interface StackInfo {
  readonly stackId: string;
  readonly stackName: string;
  /** CREATE_COMPLETE, ROLLBACK_COMPLETE, DELETE_FAILED, DELETE_COMPLETE, ... */
  readonly status: string;
  readonly statusReason?: string;
  readonly creationTime?: Date;
  readonly tags: Tags;
  readonly outputs: Readonly<Record<string, string>>;
}

/** One resource of a stack (ListStackResources). */
export interface StackResource {
  readonly logicalId: string;
  readonly physicalId?: string;
  /** AWS::EC2::VPC, AWS::EC2::SecurityGroup, ... */
  readonly type: string;
  readonly status?: string;
}

/** A DELETE_FAILED event of a stack (DescribeStackEvents): the resource CloudFormation could not delete, and why. */
export interface StackFailure {
  readonly logicalId: string;
  readonly physicalId?: string;
  readonly type: string;
  readonly reason?: string;
  readonly timestamp: Date;
}

export interface NetworkInterfaceInfo {
  readonly id: string;
  /** available, in-use, attaching, detaching, associated */
  readonly status: string;
  readonly description: string;
  readonly vpcId?: string;
  readonly tags: Tags;
  readonly attachmentId?: string;
  readonly instanceId?: string;
  readonly deviceIndex?: number;
  /** Created and managed by an AWS service (a load balancer, a NAT gateway, Lambda): only that service can delete it. */
  readonly requesterManaged: boolean;
  readonly interfaceType?: string;
}

export interface SecurityGroupInfo {
  readonly id: string;
  readonly name: string;
  readonly vpcId?: string;
  readonly tags: Tags;
}

/**
 * The outcome of a delete call: done, already gone (the NotFound error codes), or busy: the
 * resource is still in use (DependencyViolation, InvalidNetworkInterface.InUse) and the call may
 * succeed later. Any other error is thrown.
 */
export type DeleteOutcome = { readonly kind: 'deleted' } | { readonly kind: 'gone' } | { readonly kind: 'busy'; readonly reason: string };

/** One resource the Resource Groups Tagging API lists. */
export interface TaggedResource {
  readonly arn: string;
  readonly tags: Tags;
}

/**
 * Whether a resource the tagging API listed still exists, asked of the service that owns it (the
 * tagging API keeps deleted resources and terminated instances listed for a while).
 */
export type ResourceCheck =
  | { readonly state: 'exists'; readonly detail?: string }
  | { readonly state: 'gone'; readonly detail?: string }
  /** No check for this resource type: the tagging API's word alone. */
  | { readonly state: 'unverifiable'; readonly detail: string };

/** An EventBridge Scheduler schedule as GetSchedule reports it. */
export interface ScheduleInfo {
  readonly name: string;
  readonly groupName: string;
  /** at(2026-11-23T22:00:00) */
  readonly expression: string;
  readonly timezone?: string;
  readonly description?: string;
  readonly state?: string;
  readonly targetArn: string;
  readonly roleArn: string;
}

export interface LifecycleCloud {
  /** The region the clients talk to (for messages), or undefined for the SDK's default chain. */
  readonly region: string | undefined;

  // CloudFormation
  /** DescribeStacks by name or ARN; undefined when the stack does not exist. A deleted stack asked by ARN comes back DELETE_COMPLETE. */
  describeStack(nameOrId: string): Promise<StackInfo | undefined>;
  /** ListStackResources (every page); empty when the stack does not exist. */
  stackResources(nameOrId: string): Promise<StackResource[]>;
  /** DeleteStack (with the stack's own service role, as CloudFormation does when RoleARN is not given). */
  deleteStack(nameOrId: string): Promise<void>;
  /** The DELETE_FAILED resource events of a stack at or after `since`, newest first. */
  deleteFailures(stackId: string, since: Date): Promise<StackFailure[]>;

  // EC2
  /** VPCs tagged cilium-lab:lab=<labName> (found even when the stack is gone). */
  labVpcIds(labName: string): Promise<string[]>;
  networkInterfaces(vpcId: string): Promise<NetworkInterfaceInfo[]>;
  securityGroups(vpcId: string): Promise<SecurityGroupInfo[]>;
  /** DetachNetworkInterface with Force; an attachment that is already gone is fine. */
  detachNetworkInterface(attachmentId: string): Promise<void>;
  deleteNetworkInterface(id: string): Promise<DeleteOutcome>;
  deleteSecurityGroup(id: string): Promise<DeleteOutcome>;
  /** instance id -> state name (pending, running, stopping, stopped, shutting-down, terminated); unknown ids are left out. */
  instanceStates(instanceIds: readonly string[]): Promise<Record<string, string>>;
  stopInstances(instanceIds: readonly string[]): Promise<void>;
  startInstances(instanceIds: readonly string[]): Promise<void>;

  // Resource Groups Tagging API
  /** GetResources (every page) with these tag filters (AND of keys; OR of a key's values), optionally only these resource types (`cloudformation:stack`). */
  taggedResources(filters: readonly { key: string; values: readonly string[] }[], resourceTypes?: readonly string[]): Promise<TaggedResource[]>;
  /** Asks the owning service whether the resource behind an ARN still exists. */
  checkResource(arn: string): Promise<ResourceCheck>;

  // EventBridge Scheduler
  /** How many messages wait in an SQS queue (ApproximateNumberOfMessages, visible and in flight): the expiry's dead letters. */
  deadLetterCount(queueUrl: string): Promise<number>;
  /** GetSchedule; undefined when there is no such schedule. */
  getSchedule(name: string, groupName: string): Promise<ScheduleInfo | undefined>;
  /**
   * Reads the schedule again and calls UpdateSchedule re-stating every field it has (UpdateSchedule
   * replaces the whole schedule: a field left out is reset), with the new expression and description.
   */
  moveSchedule(name: string, groupName: string, expression: string, description: string | undefined): Promise<void>;

  // SSM
  /** Waits until the SSM agents are Online, at most until `deadline` (epoch ms); returns those that are not, with their last PingStatus. */
  agentsNotOnline(instanceIds: readonly string[], deadline: number): Promise<Record<string, string>>;
}
