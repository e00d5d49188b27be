/**
 * LifecycleCloud on the AWS SDK: CloudFormation (stacks, their resources and events), EC2 (the
 * lab VPC's network interfaces and security groups, instance states, stop/start), the Resource
 * Groups Tagging API (what carries a lab's tags), EventBridge Scheduler (the expiry schedule),
 * SSM (agents Online after a start), and S3, CloudWatch Logs and Lambda (whether the lab's
 * artifacts bucket, log group and auto-delete function are gone). Creating it makes no call.
 *
 * Quirks handled here, so lib/lifecycle sees plain outcomes:
 *   - DescribeStacks answers ValidationError "Stack with id X does not exist" for a missing
 *     stack (by name; by ARN a deleted stack comes back DELETE_COMPLETE for a while).
 *   - EC2 refuses a whole Describe* request when one id is unknown (InvalidXxxID.NotFound), and
 *     delete calls answer NotFound for what is already gone, DependencyViolation or
 *     InvalidNetworkInterface.InUse for what is still in use.
 *   - The tagging API lists resources for a while after they are deleted (terminated instances
 *     for up to an hour): checkResource asks the owning service. HeadBucket answers a bare 404
 *     (NotFound) for a bucket that is gone and 403 for one that exists but is not ours to see; a
 *     log group's ARN comes with or without a trailing `:*`, and DescribeLogGroups only filters
 *     by prefix, so the name must match exactly. GetFunction answers ResourceNotFoundException
 *     (404) for a function that is gone. IAM roles need no probe: GetResources does not list IAM
 *     users and roles at all (Resource Groups Tagging API reference, "Services that support the
 *     Resource Groups Tagging API").
 *   - UpdateSchedule replaces the whole schedule: every field GetSchedule returned is re-stated.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type CloudFormationClientConfig,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import {
  DeleteNetworkInterfaceCommand,
  DeleteSecurityGroupCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  EC2Client,
  StartInstancesCommand,
  StopInstancesCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { SSMClient } from '@aws-sdk/client-ssm';
import { LAB_TAGS } from '../config/tags.js';
import type {
  DeleteOutcome,
  LifecycleCloud,
  NetworkInterfaceInfo,
  ResourceCheck,
  ScheduleInfo,
  SecurityGroupInfo,
  StackFailure,
  StackInfo,
  StackResource,
  TaggedResource,
} from '../lifecycle/cloud.js';
import { createS3Client } from './artifact-store.js';
import { AgentsNotOnlineError, waitForAgentsOnline } from './ssm-runner.js';

export interface LifecycleCloudOptions {
  /** @default the SDK's default chain (AWS_REGION, the profile) */
  readonly region?: string;
  /** Endpoints per service (tests point them at loopback fakes). @default the SDK's */
  readonly endpoints?: {
    readonly cloudformation?: string;
    readonly ec2?: string;
    readonly tagging?: string;
    readonly scheduler?: string;
    readonly ssm?: string;
    readonly s3?: string;
    readonly logs?: string;
    readonly lambda?: string;
    readonly sqs?: string;
  };
  /** @default the SDK's default credential chain */
  readonly credentials?: CloudFormationClientConfig['credentials'];
  /** SDK attempts per call (throttling and 5xx are retried by the SDK). @default the SDK's (3) */
  readonly maxAttempts?: number;
  /** Pause between two DescribeInstanceInformation rounds while waiting for agents. @default 5000 ms */
  readonly agentPollIntervalMs?: number;
}

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const errorName = (error: unknown): string => (error as SdkError | undefined)?.name ?? '';
const errorMessage = (error: unknown): string => (error as SdkError | undefined)?.message ?? String(error);
const httpStatus = (error: unknown): number | undefined => (error as SdkError | undefined)?.$metadata?.httpStatusCode;
/** EC2's "no such thing" codes: InvalidInstanceID.NotFound, InvalidGroup.NotFound, InvalidAllocationID.NotFound, ... */
const isNotFound = (error: unknown): boolean => /NotFound$/.test(errorName(error));
const isStackMissing = (error: unknown): boolean => errorName(error) === 'ValidationError' && /does not exist/i.test(errorMessage(error));
const BUSY_CODES: ReadonlySet<string> = new Set(['DependencyViolation', 'InvalidNetworkInterface.InUse', 'InvalidGroup.InUse']);

const tagsOf = (tags: readonly Tag[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key as string, t.Value ?? '']));

function stackInfo(stack: Stack): StackInfo {
  return {
    stackId: stack.StackId ?? '',
    stackName: stack.StackName ?? '',
    status: stack.StackStatus ?? 'UNKNOWN',
    ...(stack.StackStatusReason ? { statusReason: stack.StackStatusReason } : {}),
    ...(stack.CreationTime ? { creationTime: stack.CreationTime } : {}),
    tags: Object.fromEntries((stack.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key as string, t.Value ?? ''])),
    outputs: Object.fromEntries((stack.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue !== undefined).map((o) => [o.OutputKey as string, o.OutputValue as string])),
  };
}

async function deleteOutcome(call: () => Promise<unknown>): Promise<DeleteOutcome> {
  try {
    await call();
    return { kind: 'deleted' };
  } catch (error) {
    if (isNotFound(error)) return { kind: 'gone' };
    if (BUSY_CODES.has(errorName(error))) return { kind: 'busy', reason: `${errorName(error)}: ${errorMessage(error)}` };
    throw error;
  }
}

/** The parts of an ARN: arn:partition:service:region:account:resource. */
export function parseArn(arn: string): { service: string; region: string; resource: string } | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return { service: parts[2] ?? '', region: parts[3] ?? '', resource: parts.slice(5).join(':') };
}

export class AwsLifecycleCloud implements LifecycleCloud {
  constructor(
    readonly region: string | undefined,
    private readonly cfn: CloudFormationClient,
    private readonly ec2: EC2Client,
    private readonly tagging: ResourceGroupsTaggingAPIClient,
    private readonly scheduler: SchedulerClient,
    private readonly ssm: SSMClient,
    private readonly s3: S3Client,
    private readonly logs: CloudWatchLogsClient,
    private readonly lambda: LambdaClient,
    private readonly agentPollIntervalMs?: number,
    private readonly sqs?: SQSClient,
  ) {}

  async deadLetterCount(queueUrl: string): Promise<number> {
    if (!this.sqs) throw new Error('no SQS client');
    const out = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(out.Attributes?.['ApproximateNumberOfMessages'] ?? 0) + Number(out.Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0);
  }

  async describeStack(nameOrId: string): Promise<StackInfo | undefined> {
    try {
      const stack = (await this.cfn.send(new DescribeStacksCommand({ StackName: nameOrId }))).Stacks?.[0];
      return stack ? stackInfo(stack) : undefined;
    } catch (error) {
      if (isStackMissing(error)) return undefined;
      throw error;
    }
  }

  async stackResources(nameOrId: string): Promise<StackResource[]> {
    const resources: StackResource[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.cfn.send(new ListStackResourcesCommand({ StackName: nameOrId, ...(token ? { NextToken: token } : {}) }));
        for (const r of page.StackResourceSummaries ?? []) {
          resources.push({
            logicalId: r.LogicalResourceId ?? '',
            type: r.ResourceType ?? '',
            ...(r.PhysicalResourceId ? { physicalId: r.PhysicalResourceId } : {}),
            ...(r.ResourceStatus ? { status: r.ResourceStatus } : {}),
          });
        }
        token = page.NextToken;
      } while (token);
    } catch (error) {
      if (isStackMissing(error)) return [];
      throw error;
    }
    return resources;
  }

  async deleteStack(nameOrId: string): Promise<void> {
    await this.cfn.send(new DeleteStackCommand({ StackName: nameOrId }));
  }

  async deleteFailures(stackId: string, since: Date): Promise<StackFailure[]> {
    const failures: StackFailure[] = [];
    let token: string | undefined;
    // Events come newest first: stop paging once they are older than `since`.
    for (let pages = 0; pages < 20; pages++) {
      const page = await this.cfn.send(new DescribeStackEventsCommand({ StackName: stackId, ...(token ? { NextToken: token } : {}) }));
      let older = false;
      for (const event of page.StackEvents ?? []) {
        const timestamp = event.Timestamp ?? new Date(0);
        if (timestamp < since) {
          older = true;
          continue;
        }
        if (event.ResourceStatus !== 'DELETE_FAILED') continue;
        failures.push({
          logicalId: event.LogicalResourceId ?? '',
          type: event.ResourceType ?? '',
          timestamp,
          ...(event.PhysicalResourceId ? { physicalId: event.PhysicalResourceId } : {}),
          ...(event.ResourceStatusReason ? { reason: event.ResourceStatusReason } : {}),
        });
      }
      token = page.NextToken;
      if (older || !token) break;
    }
    return failures;
  }

  async labVpcIds(labName: string): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: `tag:${LAB_TAGS.lab}`, Values: [labName] }], ...(token ? { NextToken: token } : {}) }));
      ids.push(...(page.Vpcs ?? []).flatMap((v) => (v.VpcId ? [v.VpcId] : [])));
      token = page.NextToken;
    } while (token);
    return ids;
  }

  async networkInterfaces(vpcId: string): Promise<NetworkInterfaceInfo[]> {
    const out: NetworkInterfaceInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], ...(token ? { NextToken: token } : {}) }));
      for (const eni of page.NetworkInterfaces ?? []) {
        if (!eni.NetworkInterfaceId) continue;
        const attachment = eni.Attachment;
        out.push({
          id: eni.NetworkInterfaceId,
          status: eni.Status ?? 'unknown',
          description: eni.Description ?? '',
          tags: tagsOf(eni.TagSet),
          requesterManaged: eni.RequesterManaged === true,
          ...(eni.VpcId ? { vpcId: eni.VpcId } : {}),
          ...(attachment?.AttachmentId ? { attachmentId: attachment.AttachmentId } : {}),
          ...(attachment?.InstanceId ? { instanceId: attachment.InstanceId } : {}),
          ...(attachment?.DeviceIndex !== undefined ? { deviceIndex: attachment.DeviceIndex } : {}),
          ...(eni.InterfaceType ? { interfaceType: eni.InterfaceType } : {}),
        });
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  async securityGroups(vpcId: string): Promise<SecurityGroupInfo[]> {
    const out: SecurityGroupInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], ...(token ? { NextToken: token } : {}) }));
      for (const group of page.SecurityGroups ?? []) {
        if (!group.GroupId) continue;
        out.push({ id: group.GroupId, name: group.GroupName ?? '', tags: tagsOf(group.Tags), ...(group.VpcId ? { vpcId: group.VpcId } : {}) });
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  async detachNetworkInterface(attachmentId: string): Promise<void> {
    try {
      await this.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId, Force: true }));
    } catch (error) {
      // Already detached or detaching: the delete that follows retries until it is free.
      if (isNotFound(error) || errorName(error) === 'IncorrectState') return;
      throw error;
    }
  }

  deleteNetworkInterface(id: string): Promise<DeleteOutcome> {
    return deleteOutcome(() => this.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id })));
  }

  deleteSecurityGroup(id: string): Promise<DeleteOutcome> {
    return deleteOutcome(() => this.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })));
  }

  async instanceStates(instanceIds: readonly string[]): Promise<Record<string, string>> {
    const unique = [...new Set(instanceIds)];
    const describe = async (ids: string[]): Promise<Record<string, string>> => {
      const states: Record<string, string> = {};
      let token: string | undefined;
      do {
        const page = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids, ...(token ? { NextToken: token } : {}) }));
        for (const reservation of page.Reservations ?? []) {
          for (const instance of reservation.Instances ?? []) {
            if (instance.InstanceId) states[instance.InstanceId] = instance.State?.Name ?? 'unknown';
          }
        }
        token = page.NextToken;
      } while (token);
      return states;
    };
    if (unique.length === 0) return {};
    try {
      return await describe(unique);
    } catch (error) {
      if (!isNotFound(error) || unique.length === 1) {
        if (isNotFound(error)) return {};
        throw error;
      }
    }
    // One unknown id fails the whole request: ask for each alone.
    const each = await Promise.all(
      unique.map(async (id) => {
        try {
          return await describe([id]);
        } catch (error) {
          if (isNotFound(error)) return {};
          throw error;
        }
      }),
    );
    return Object.assign({}, ...each) as Record<string, string>;
  }

  async stopInstances(instanceIds: readonly string[]): Promise<void> {
    await this.ec2.send(new StopInstancesCommand({ InstanceIds: [...instanceIds] }));
  }

  async startInstances(instanceIds: readonly string[]): Promise<void> {
    await this.ec2.send(new StartInstancesCommand({ InstanceIds: [...instanceIds] }));
  }

  async taggedResources(filters: readonly { key: string; values: readonly string[] }[], resourceTypes?: readonly string[]): Promise<TaggedResource[]> {
    const out: TaggedResource[] = [];
    let token: string | undefined;
    do {
      const page = await this.tagging.send(
        new GetResourcesCommand({
          TagFilters: filters.map((f) => ({ Key: f.key, Values: [...f.values] })),
          ...(resourceTypes && resourceTypes.length > 0 ? { ResourceTypeFilters: [...resourceTypes] } : {}),
          ResourcesPerPage: 100,
          ...(token ? { PaginationToken: token } : {}),
        }),
      );
      for (const mapping of page.ResourceTagMappingList ?? []) {
        if (!mapping.ResourceARN) continue;
        out.push({ arn: mapping.ResourceARN, tags: Object.fromEntries((mapping.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])) });
      }
      // The API ends the listing with an empty PaginationToken, not a missing one.
      token = page.PaginationToken || undefined;
    } while (token);
    return out;
  }

  async checkResource(arn: string): Promise<ResourceCheck> {
    const parsed = parseArn(arn);
    if (!parsed) return { state: 'unverifiable', detail: 'not an ARN' };
    if (parsed.service === 'cloudformation' && parsed.resource.startsWith('stack/')) {
      const stack = await this.describeStack(arn);
      if (!stack || stack.status === 'DELETE_COMPLETE') return { state: 'gone', detail: 'stack DELETE_COMPLETE' };
      return { state: 'exists', detail: `stack ${stack.status}` };
    }
    if (parsed.service === 's3') return this.checkBucket(parsed.resource);
    if (parsed.service === 'logs') return this.checkLogGroup(parsed.resource);
    if (parsed.service === 'lambda') return this.checkFunction(arn, parsed.resource);
    if (parsed.service === 'sqs') return this.checkQueue(parsed.resource, arn);
    if (parsed.service !== 'ec2') return { state: 'unverifiable', detail: `no check for ${parsed.service} resources` };
    const [type, id] = parsed.resource.split('/');
    if (!type || !id) return { state: 'unverifiable', detail: `unexpected EC2 resource ${parsed.resource}` };
    const probe = EC2_PROBES[type];
    if (!probe) return { state: 'unverifiable', detail: `no check for EC2 ${type}` };
    try {
      return await probe(this.ec2, id);
    } catch (error) {
      if (isNotFound(error)) return { state: 'gone', detail: errorName(error) };
      throw error;
    }
  }

  /** `arn:aws:sqs:<region>:<account>:<name>` (the expiry's dead-letter queue): GetQueueUrl. */
  private async checkQueue(name: string, arn: string): Promise<ResourceCheck> {
    if (!this.sqs) return { state: 'unverifiable', detail: 'no SQS client' };
    const account = arn.split(':')[4];
    try {
      await this.sqs.send(new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }));
      return { state: 'exists' };
    } catch (error) {
      // SQS answers QueueDoesNotExist (AWS.SimpleQueueService.NonExistentQueue in the query era).
      if (/QueueDoesNotExist|NonExistentQueue/.test(errorName(error)) || /NonExistentQueue/.test(errorMessage(error))) return { state: 'gone', detail: 'QueueDoesNotExist' };
      throw error;
    }
  }

  /** `arn:aws:s3:::<bucket>`: HeadBucket. */
  private async checkBucket(bucket: string): Promise<ResourceCheck> {
    if (!bucket || bucket.includes('/')) return { state: 'unverifiable', detail: `no check for S3 resource ${bucket}` };
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return { state: 'exists' };
    } catch (error) {
      const name = errorName(error);
      if (httpStatus(error) === 404 || name === 'NotFound' || name === 'NoSuchBucket') return { state: 'gone', detail: 'NoSuchBucket' };
      // The name is taken, but HeadBucket may not look: another account's bucket, or no s3:ListBucket.
      if (httpStatus(error) === 403 || name === 'Forbidden' || name === 'AccessDenied') return { state: 'exists', detail: 'owned by another account or no access' };
      throw error;
    }
  }

  /** `arn:aws:logs:<region>:<account>:log-group:<name>[:*]`: DescribeLogGroups by prefix, then the exact name. */
  private async checkLogGroup(resource: string): Promise<ResourceCheck> {
    const name = /^log-group:([^:]+)(?::\*)?$/.exec(resource)?.[1];
    if (!name) return { state: 'unverifiable', detail: `unexpected CloudWatch Logs resource ${resource}` };
    let token: string | undefined;
    do {
      const page = await this.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, ...(token ? { nextToken: token } : {}) }));
      if ((page.logGroups ?? []).some((group) => group.logGroupName === name)) return { state: 'exists' };
      token = page.nextToken;
    } while (token);
    return { state: 'gone', detail: 'not listed by CloudWatch Logs' };
  }

  /** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`: GetFunction by the ARN. */
  private async checkFunction(arn: string, resource: string): Promise<ResourceCheck> {
    if (!/^function:[^:]+(?::[^:]+)?$/.test(resource)) return { state: 'unverifiable', detail: `no check for Lambda resource ${resource}` };
    try {
      const state = (await this.lambda.send(new GetFunctionCommand({ FunctionName: arn }))).Configuration?.State;
      return { state: 'exists', ...(state ? { detail: state } : {}) };
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return { state: 'gone', detail: 'ResourceNotFoundException' };
      throw error;
    }
  }

  async getSchedule(name: string, groupName: string): Promise<ScheduleInfo | undefined> {
    let schedule;
    try {
      schedule = await this.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw error;
    }
    return {
      name: schedule.Name ?? name,
      groupName: schedule.GroupName ?? groupName,
      expression: schedule.ScheduleExpression ?? '',
      targetArn: schedule.Target?.Arn ?? '',
      roleArn: schedule.Target?.RoleArn ?? '',
      ...(schedule.ScheduleExpressionTimezone ? { timezone: schedule.ScheduleExpressionTimezone } : {}),
      ...(schedule.Description !== undefined ? { description: schedule.Description } : {}),
      ...(schedule.State ? { state: schedule.State } : {}),
    };
  }

  async moveSchedule(name: string, groupName: string, expression: string, description: string | undefined): Promise<void> {
    const current = await this.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
    if (!current.Target || !current.FlexibleTimeWindow) {
      throw new Error(`schedule ${groupName}/${name} has no target or flexible time window; GetSchedule answered incompletely`);
    }
    await this.scheduler.send(
      new UpdateScheduleCommand({
        Name: name,
        GroupName: groupName,
        ScheduleExpression: expression,
        Target: current.Target,
        FlexibleTimeWindow: current.FlexibleTimeWindow,
        ...(current.ScheduleExpressionTimezone ? { ScheduleExpressionTimezone: current.ScheduleExpressionTimezone } : {}),
        ...(description !== undefined ? { Description: description } : current.Description !== undefined ? { Description: current.Description } : {}),
        ...(current.State ? { State: current.State } : {}),
        ...(current.StartDate ? { StartDate: current.StartDate } : {}),
        ...(current.EndDate ? { EndDate: current.EndDate } : {}),
        ...(current.KmsKeyArn ? { KmsKeyArn: current.KmsKeyArn } : {}),
        ...(current.ActionAfterCompletion ? { ActionAfterCompletion: current.ActionAfterCompletion } : {}),
      }),
    );
  }

  async agentsNotOnline(instanceIds: readonly string[], deadline: number): Promise<Record<string, string>> {
    try {
      await waitForAgentsOnline(this.ssm, instanceIds, deadline, this.agentPollIntervalMs !== undefined ? { pollIntervalMs: this.agentPollIntervalMs } : {});
      return {};
    } catch (error) {
      if (error instanceof AgentsNotOnlineError) return { ...error.notOnline };
      throw error;
    }
  }
}

type Probe = (ec2: EC2Client, id: string) => Promise<ResourceCheck>;

const exists = (found: boolean, detail?: string): ResourceCheck =>
  found ? { state: 'exists', ...(detail ? { detail } : {}) } : { state: 'gone', detail: 'not listed by its service' };

/** Per EC2 resource type (the ARN's `type/id`): does it still exist? A NotFound error means gone. */
const EC2_PROBES: Readonly<Record<string, Probe>> = {
  instance: async (ec2, id) => {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const state = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id)?.State?.Name;
    if (state === undefined) return { state: 'gone', detail: 'not listed by EC2' };
    // A terminated instance stays visible for about an hour and costs nothing.
    return state === 'terminated' ? { state: 'gone', detail: 'terminated' } : { state: 'exists', detail: state };
  },
  'network-interface': async (ec2, id) => {
    const eni = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces?.[0];
    return exists(eni !== undefined, eni?.Status);
  },
  'security-group': async (ec2, id) => exists(((await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups ?? []).length > 0),
  vpc: async (ec2, id) => exists(((await ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }))).Vpcs ?? []).length > 0),
  subnet: async (ec2, id) => exists(((await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets ?? []).length > 0),
  'internet-gateway': async (ec2, id) => exists(((await ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] }))).InternetGateways ?? []).length > 0),
  'route-table': async (ec2, id) => exists(((await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }))).RouteTables ?? []).length > 0),
  'launch-template': async (ec2, id) => exists(((await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }))).LaunchTemplates ?? []).length > 0),
  'elastic-ip': async (ec2, id) => exists(((await ec2.send(new DescribeAddressesCommand({ AllocationIds: [id] }))).Addresses ?? []).length > 0),
  volume: async (ec2, id) => {
    const volume = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0];
    // `deleting` ends in `deleted` without anyone's help (EC2 VolumeState); a stack delete leaves
    // its root volumes there for a while.
    if (!volume || volume.State === 'deleted' || volume.State === 'deleting') return { state: 'gone', detail: volume?.State ?? 'not listed by EC2' };
    return { state: 'exists', ...(volume.State ? { detail: volume.State } : {}) };
  },
};

/** The real LifecycleCloud, in the given region (or the SDK's default). Creating it makes no call. */
export function createLifecycleCloud(options: LifecycleCloudOptions = {}): LifecycleCloud {
  const common = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  };
  const endpoints = options.endpoints ?? {};
  const at = (endpoint: string | undefined) => (endpoint ? { endpoint } : {});
  return new AwsLifecycleCloud(
    options.region,
    new CloudFormationClient({ ...common, ...at(endpoints.cloudformation) }),
    new EC2Client({ ...common, ...at(endpoints.ec2) }),
    new ResourceGroupsTaggingAPIClient({ ...common, ...at(endpoints.tagging) }),
    new SchedulerClient({ ...common, ...at(endpoints.scheduler) }),
    new SSMClient({ ...common, ...at(endpoints.ssm) }),
    createS3Client({ ...common, ...at(endpoints.s3) }),
    new CloudWatchLogsClient({ ...common, ...at(endpoints.logs) }),
    new LambdaClient({ ...common, ...at(endpoints.lambda) }),
    options.agentPollIntervalMs,
    // With a given endpoint (tests), requests go there, not to the host of the queue URL.
    new SQSClient({ ...common, ...at(endpoints.sqs), ...(endpoints.sqs ? { useQueueUrlAsEndpoint: false } : {}) }),
  );
}
