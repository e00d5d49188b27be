/**
 * One AWS account and region behind loopback fakes of CloudFormation and EC2 (Query protocol, on
 * test/aws/fake-query-server.ts), the Resource Groups Tagging API and CloudWatch Logs
 * (awsJson1_1), EventBridge Scheduler and Lambda (restJson1), SSM (test/aws/fake-ssm-server.ts) and S3
 * (test/aws/fake-s3-server.ts), sharing one state, so the real lifecycle adapter and commands run
 * against behaviour rather than canned answers:
 *
 *   - DeleteStack takes `deleteStackMs`; at its end the stack is DELETE_FAILED when a resource it
 *     owns is still held by something outside it (an ENI or security group left in its VPC, an ENI
 *     using its security group), or when `failDeletes` asks for a failure; else DELETE_COMPLETE,
 *     and its VPC, security groups and instances (terminated, still described) are gone.
 *   - DeleteSecurityGroup answers DependencyViolation while an ENI uses the group, or for
 *     `busyForMs` after the first attempt; DeleteNetworkInterface answers InUse while attached.
 *   - The tagging API never forgets: deleted resources and terminated instances stay listed.
 *   - A lab made with `artifacts` has an S3 bucket, a Lambda function (the auto-delete provider)
 *     and its log group in its stack, gone with it. The function's IAM role is not in the tagging
 *     API's listing: GetResources does not return IAM users and roles.
 *   - Stop/StartInstances move through stopping/pending for `instanceTransitionMs`.
 *   - A stack delete leaves its instances `shutting-down` for `instanceShutdownMs` before
 *     `terminated`, and their root volumes `deleting` for `volumeDeleteMs` before they are gone
 *     (DescribeVolumes then answers InvalidVolume.NotFound): EC2 finishes after CloudFormation.
 *   - DeleteStack of a stack with termination protection answers ValidationError, as
 *     CloudFormation does ("... cannot be deleted while TerminationProtection is enabled").
 *
 * `log` records every mutating call, in order, for assertions about order.
 */
import { createLifecycleCloud } from '../../lib/aws/lifecycle-cloud.js';
import { expiryScheduleName } from '../../lib/config/expiry.js';
import { loadLabConfig } from '../../lib/config/load.js';
import { OUTPUTS } from '../../lib/config/outputs.js';
import { planLab, type LabPlan } from '../../lib/config/plan.js';
import { LAB_TAGS, NO_EXPIRY, STACK_KINDS } from '../../lib/config/tags.js';
import type { LifecycleCloud } from '../../lib/lifecycle/cloud.js';
import type { LifecycleTiming } from '../../lib/lifecycle/timing.js';
import { CFN_QUERY, EC2_QUERY, FakeQueryServer, QueryFault, listParam, type QueryParams, type XmlValue } from '../aws/fake-query-server.js';
import { FakeS3Server } from '../aws/fake-s3-server.js';
import { FakeSsmServer, type FakeNode, type FakePing, type FakeResponse } from '../aws/fake-ssm-server.js';
import { FakeJsonServer, JsonFault } from './fake-json-server.js';

export const REGION = 'ap-northeast-2';
/** The image every lab instance runs (DescribeImages: Ubuntu 22.04, ENA). */
export const FAKE_AMI = 'ami-0123456789abcdef0';
export const ACCOUNT = '000000000000';

/** The name CloudFormation gives a lab's expiry dead-letter queue here (LabExpiry's queue). */
export const deadLetterQueueName = (labName: string): string => `${labName}-ExpiryDeadLetters-AbC`;
export const CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };

/** Short timings with real timers. */
export const QUICK_TIMING: LifecycleTiming = {
  stackPollMs: 20,
  stackDeleteTimeoutMs: 4_000,
  leftoverTimeoutMs: 3_000,
  leftoverBackoffBaseMs: 10,
  leftoverBackoffMaxMs: 80,
  instancePollMs: 20,
  instanceTimeoutMs: 3_000,
  agentsTimeoutMs: 1_500,
  verifySettleMs: 1_000,
  verifyPollMs: 50,
};

export type Tags = Record<string, string>;

export interface FakeEni {
  readonly id: string;
  readonly vpcId: string;
  status: 'available' | 'in-use';
  readonly description: string;
  readonly tags: Tags;
  readonly groups: readonly string[];
  attachment?: { readonly id: string; readonly instanceId: string; readonly deviceIndex: number };
  /** Detached at this time (DetachNetworkInterface takes a moment). */
  detachedAt?: number;
  readonly requesterManaged?: boolean;
  readonly interfaceType?: string;
}

export interface FakeSecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly vpcId: string;
  readonly tags: Tags;
  /** DependencyViolation for this long after the first DeleteSecurityGroup. */
  readonly busyForMs?: number;
  firstDeleteAt?: number;
}

export interface FakeVolume {
  readonly id: string;
  readonly instanceId: string;
  readonly tags: Tags;
  state: string;
  goneAt?: number;
}

export interface FakeInstance {
  readonly id: string;
  readonly vpcId: string;
  /** What DescribeInstances tells preflight (a lab's node: its planned type and address). */
  readonly instanceType?: string;
  readonly privateIp?: string;
  readonly imageId?: string;
  state: string;
  transition?: { readonly to: string; readonly at: number };
}

export interface FakeStackResource {
  readonly logicalId: string;
  readonly physicalId?: string;
  readonly type: string;
  status: string;
}

export interface FakeStackEvent {
  readonly logicalId: string;
  readonly physicalId?: string;
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly timestamp: Date;
}

export interface FakeStack {
  readonly id: string;
  readonly name: string;
  status: string;
  readonly creationTime: Date;
  readonly tags: Tags;
  readonly outputs: Record<string, string>;
  readonly resources: FakeStackResource[];
  readonly events: FakeStackEvent[];
  readonly vpcId?: string;
  /** The next N deletes end DELETE_FAILED on the lab security group, whatever else holds. */
  failDeletes: number;
  deleteEndsAt?: number;
  terminationProtection?: boolean;
}

export interface FakeSchedule {
  Name: string;
  GroupName: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  Description?: string;
  State: string;
  Target: Record<string, unknown>;
  FlexibleTimeWindow: Record<string, unknown>;
  ActionAfterCompletion?: string;
}

export interface LabOptions {
  readonly status?: string;
  /** ISO time (tag and schedule), or undefined for "unset" (no schedule). */
  readonly expiresAt?: string;
  readonly creationTime?: Date;
  readonly failDeletes?: number;
  /** -c settings of the deployed lab. */
  readonly deployed?: Record<string, unknown>;
  /** A half-created stack: no resources left (ROLLBACK_COMPLETE after its rollback). */
  readonly noResources?: boolean;
  readonly instanceState?: string;
  /** Without the managed-by tag (not a cilium-lab stack). */
  readonly foreign?: boolean;
  /** The cilium-lab:owner tag. @default study-group */
  readonly owner?: string;
  /** Deployed before the cilium-lab:kind tag existed (recognised by its LabConfig output). */
  readonly withoutKindTag?: boolean;
  /** With the artifacts bucket, the auto-delete Lambda function and its log group as stack resources (deleted with the stack). */
  readonly artifacts?: boolean;
}

export interface FakeLab {
  readonly name: string;
  readonly plan: LabPlan;
  readonly stack: FakeStack;
  readonly vpcId?: string;
  readonly labSecurityGroupId?: string;
  readonly instanceIds: readonly string[];
  /** With `artifacts`: the bucket's, the function's and the log group's names. */
  readonly bucket?: string;
  readonly functionName?: string;
  readonly logGroup?: string;
}

let counter = 0;
const nextId = (prefix: string): string => `${prefix}-0${(++counter).toString(16).padStart(16, '0')}`;

function filtersOf(params: QueryParams): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (let i = 1; params[`Filter.${i}.Name`] !== undefined; i++) {
    out.push({ name: params[`Filter.${i}.Name`] as string, values: listParam(params, `Filter.${i}.Value`) });
  }
  return out;
}

const tagSet = (tags: Tags): XmlValue => Object.entries(tags).map(([key, value]) => ({ key, value }));
const stateCode: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };

export class FakeAccount {
  readonly log: string[] = [];
  readonly enis = new Map<string, FakeEni>();
  readonly groups = new Map<string, FakeSecurityGroup>();
  readonly instances = new Map<string, FakeInstance>();
  readonly volumes = new Map<string, FakeVolume>();
  /** How long a deleted stack's instances stay shutting-down, and its root volumes deleting. */
  instanceShutdownMs = 0;
  volumeDeleteMs = 60;
  readonly vpcs = new Map<string, { id: string; tags: Tags }>();
  readonly stacks: FakeStack[] = [];
  /** What the tagging API lists: ARN -> tags (never forgotten). */
  readonly tagged = new Map<string, Tags>();
  readonly schedules = new Map<string, FakeSchedule>();
  readonly pings = new Map<string, FakePing[]>();
  /** CloudWatch Logs log groups by name. */
  readonly logGroups = new Set<string>();
  /** Lambda functions by name. */
  readonly functions = new Map<string, { state: string }>();
  deleteStackMs = 60;
  instanceTransitionMs = 60;
  detachMs = 40;

  private constructor(
    readonly ec2: FakeQueryServer,
    readonly cfn: FakeQueryServer,
    readonly tagging: FakeJsonServer,
    readonly scheduler: FakeJsonServer,
    readonly s3: FakeS3Server,
    readonly logs: FakeJsonServer,
    readonly lambda: FakeJsonServer,
    private ssmServer: FakeSsmServer | undefined,
    readonly sqs: FakeJsonServer,
  ) {}

  /** SQS queues by URL, with the number of messages waiting (the expiry's dead letters). */
  readonly queues = new Map<string, number>();

  getQueueUrl(body: Record<string, unknown>): unknown {
    const name = String(body['QueueName'] ?? '');
    const url = [...this.queues.keys()].find((u) => u.endsWith(`/${name}`));
    if (!url) throw new JsonFault('QueueDoesNotExist', 'The specified queue does not exist.');
    return { QueueUrl: url };
  }

  getQueueAttributes(body: Record<string, unknown>): unknown {
    const url = String(body['QueueUrl'] ?? '');
    const waiting = this.queues.get(url);
    if (waiting === undefined) throw new JsonFault('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return { Attributes: { ApproximateNumberOfMessages: String(waiting), ApproximateNumberOfMessagesNotVisible: '0' } };
  }

  static async start(): Promise<FakeAccount> {
    const account: { current?: FakeAccount } = {};
    const a = (): FakeAccount => account.current as FakeAccount;
    const ec2 = await FakeQueryServer.start({ ...EC2_QUERY, handlers: ec2Handlers(a) });
    const cfn = await FakeQueryServer.start({ ...CFN_QUERY, handlers: cfnHandlers(a) });
    const tagging = await FakeJsonServer.start({
      dialect: 'awsJson1_1',
      targetPrefix: 'ResourceGroupsTaggingAPI_20170126',
      handlers: { GetResources: (req) => a().getResources(req.body) },
    });
    const scheduler = await FakeJsonServer.start({
      dialect: 'restJson1',
      handlers: {
        'GET /schedules': (req) => a().getSchedule(req.path, req.query),
        'PUT /schedules': (req) => a().updateSchedule(req.path, req.body),
      },
    });
    const s3 = await FakeS3Server.start();
    const logs = await FakeJsonServer.start({
      dialect: 'awsJson1_1',
      targetPrefix: 'Logs_20140328',
      handlers: { DescribeLogGroups: (req) => a().describeLogGroups(req.body) },
    });
    const lambda = await FakeJsonServer.start({
      dialect: 'restJson1',
      handlers: { 'GET /2015-03-31': (req) => a().getFunction(req.path) },
    });
    const sqs = await FakeJsonServer.start({
      dialect: 'awsJson1_0',
      targetPrefix: 'AmazonSQS',
      handlers: { GetQueueAttributes: (req) => a().getQueueAttributes(req.body), GetQueueUrl: (req) => a().getQueueUrl(req.body) },
    });
    account.current = new FakeAccount(ec2, cfn, tagging, scheduler, s3, logs, lambda, undefined, sqs);
    return account.current;
  }

  /**
   * The SSM fake for this account's instances, also those added later (a lab the rehearsal's cdk
   * stand-in deploys mid-run): pings per instance (default Online); `respond` answers the scripts
   * sent to them (by instance id).
   */
  async startSsm(respond?: (instanceId: string, script: string) => FakeResponse): Promise<FakeSsmServer> {
    const nodeOf = (id: string): FakeNode => ({ ping: this.pings.get(id) ?? ['Online'], ...(respond ? { respond: (script: string) => respond(id, script) } : {}) });
    const instances = this.instances;
    const nodes = new Proxy({} as Record<string, FakeNode>, {
      get: (_, id) => (typeof id === 'string' && instances.has(id) ? nodeOf(id) : undefined),
      has: (_, id) => typeof id === 'string' && instances.has(id),
      ownKeys: () => [...instances.keys()],
      getOwnPropertyDescriptor: (_, id) => (typeof id === 'string' && instances.has(id) ? { enumerable: true, configurable: true, value: nodeOf(id) } : undefined),
    });
    this.ssmServer = await FakeSsmServer.start({ nodes });
    return this.ssmServer;
  }

  get ssm(): FakeSsmServer | undefined {
    return this.ssmServer;
  }

  endpoints(): { cloudformation: string; ec2: string; tagging: string; scheduler: string; s3: string; logs: string; lambda: string; sqs: string; ssm?: string } {
    return {
      cloudformation: this.cfn.endpoint,
      ec2: this.ec2.endpoint,
      tagging: this.tagging.endpoint,
      scheduler: this.scheduler.endpoint,
      s3: this.s3.endpoint,
      logs: this.logs.endpoint,
      lambda: this.lambda.endpoint,
      sqs: this.sqs.endpoint,
      ...(this.ssmServer ? { ssm: this.ssmServer.endpoint } : {}),
    };
  }

  /** The real adapter on these fakes. */
  cloud(): LifecycleCloud {
    return createLifecycleCloud({ region: REGION, endpoints: this.endpoints(), credentials: CREDENTIALS, maxAttempts: 1, agentPollIntervalMs: 20 });
  }

  /** Every call any fake saw. */
  totalCalls(): number {
    const fakes = [this.ec2, this.cfn, this.tagging, this.scheduler, this.s3, this.logs, this.lambda, this.sqs, ...(this.ssmServer ? [this.ssmServer] : [])];
    return fakes.reduce((sum, fake) => sum + fake.calls.length, 0);
  }

  mutations(): string[] {
    return [...this.log];
  }

  async close(): Promise<void> {
    await Promise.all([this.ec2.close(), this.cfn.close(), this.tagging.close(), this.scheduler.close(), this.s3.close(), this.logs.close(), this.lambda.close(), this.sqs.close(), this.ssmServer?.close()]);
  }

  arn(service: string, resource: string): string {
    return `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  }

  /** An S3 bucket the tagging API lists with these tags (`foreign`: HeadBucket answers 403). Returns its ARN. */
  addBucket(name: string, tags: Tags, options: { foreign?: boolean } = {}): string {
    this.s3.createBucket(name, options);
    const arn = `arn:aws:s3:::${name}`;
    this.tagged.set(arn, tags);
    return arn;
  }

  /** A log group the tagging API lists with these tags, its ARN with or without the trailing `:*`. Returns that ARN. */
  addLogGroup(name: string, tags: Tags, options: { arnWithStar?: boolean } = {}): string {
    this.logGroups.add(name);
    const arn = this.arn('logs', `log-group:${name}${options.arnWithStar ? ':*' : ''}`);
    this.tagged.set(arn, tags);
    return arn;
  }

  /** A Lambda function the tagging API lists with these tags (state: GetFunction's Configuration.State). Returns its ARN. */
  addFunction(name: string, tags: Tags, options: { state?: string } = {}): string {
    this.functions.set(name, { state: options.state ?? 'Active' });
    const arn = this.arn('lambda', `function:${name}`);
    this.tagged.set(arn, tags);
    return arn;
  }

  /** The CI access stack as CiAccessStack makes it: managed-by and kind=ci-access tags, no lab tag, termination protection, created long ago. */
  addCiAccessStack(name = 'CiliumLabCiAccess'): FakeStack {
    const tags: Tags = { [LAB_TAGS.managedBy]: 'cilium-lab', [LAB_TAGS.kind]: STACK_KINDS.ciAccess };
    const stack: FakeStack = {
      id: this.arn('cloudformation', `stack/${name}/${nextId('uuid').slice(5)}`),
      name,
      status: 'CREATE_COMPLETE',
      creationTime: new Date(Date.now() - 90 * 24 * 60 * 60_000),
      tags,
      outputs: { RoleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-NightlyRole-AbC` },
      resources: [],
      events: [],
      failDeletes: 0,
      terminationProtection: true,
    };
    this.stacks.push(stack);
    this.tagged.set(stack.id, tags);
    return stack;
  }

  /** A deployed lab as LabStack makes it: VPC (with its default group), the lab security group, instances, outputs, tags, the expiry schedule. */
  addLab(name: string, options: LabOptions = {}): FakeLab {
    const plan = planLab(loadLabConfig({ context: { labName: name, region: REGION, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}), ...options.deployed } }));
    const tags: Tags = options.foreign
      ? { project: 'something-else' }
      : {
          [LAB_TAGS.lab]: name,
          [LAB_TAGS.owner]: options.owner ?? 'study-group',
          [LAB_TAGS.expiresAt]: options.expiresAt ?? NO_EXPIRY,
          [LAB_TAGS.managedBy]: 'cilium-lab',
          ...(options.withoutKindTag ? {} : { [LAB_TAGS.kind]: STACK_KINDS.lab }),
        };
    const stackId = this.arn('cloudformation', `stack/${name}/${nextId('uuid').slice(5)}`);
    const resources: FakeStackResource[] = [];
    const instanceIds: string[] = [];
    let vpcId: string | undefined;
    let labSecurityGroupId: string | undefined;
    if (!options.noResources) {
      vpcId = nextId('vpc');
      this.vpcs.set(vpcId, { id: vpcId, tags });
      this.tagged.set(this.arn('ec2', `vpc/${vpcId}`), tags);
      const defaultGroup = nextId('sg');
      this.groups.set(defaultGroup, { id: defaultGroup, name: 'default', vpcId, tags: {} });
      labSecurityGroupId = nextId('sg');
      this.groups.set(labSecurityGroupId, { id: labSecurityGroupId, name: `${name}-LabSecurityGroup-ABC`, vpcId, tags: { ...tags, 'aws:cloudformation:stack-name': name } });
      this.tagged.set(this.arn('ec2', `security-group/${labSecurityGroupId}`), tags);
      resources.push({ logicalId: 'NetworkVpc', physicalId: vpcId, type: 'AWS::EC2::VPC', status: 'CREATE_COMPLETE' });
      resources.push({ logicalId: 'NetworkLabSecurityGroup', physicalId: labSecurityGroupId, type: 'AWS::EC2::SecurityGroup', status: 'CREATE_COMPLETE' });
      for (const node of plan.instances) {
        const id = nextId('i');
        instanceIds.push(id);
        this.instances.set(id, { id, vpcId, instanceType: node.instanceType, privateIp: node.privateIp, imageId: FAKE_AMI, state: options.instanceState ?? 'running' });
        this.tagged.set(this.arn('ec2', `instance/${id}`), { ...tags, Name: node.name });
        // Its root volume, tagged like the instance (the tagging API lists it).
        const volumeId = nextId('vol');
        this.volumes.set(volumeId, { id: volumeId, instanceId: id, tags, state: 'in-use' });
        this.tagged.set(this.arn('ec2', `volume/${volumeId}`), tags);
        // The primary interface goes with the instance (device index 0): never a leftover.
        const eni = nextId('eni');
        this.enis.set(eni, { id: eni, vpcId, status: 'in-use', description: '', tags: {}, groups: [labSecurityGroupId], attachment: { id: nextId('eni-attach'), instanceId: id, deviceIndex: 0 } });
        resources.push({ logicalId: `Node${node.name.replace(/[^a-zA-Z0-9]/g, '')}Instance`, physicalId: id, type: 'AWS::EC2::Instance', status: 'CREATE_COMPLETE' });
      }
      // A type the lifecycle cannot check with its owner: reported "not checkable", never "left".
      this.tagged.set(this.arn('secretsmanager', `secret:${name}-JoinSecret-AbCdEf`), tags);
    }
    let bucket: string | undefined;
    let functionName: string | undefined;
    let logGroup: string | undefined;
    if (options.artifacts && !options.noResources) {
      bucket = `cilium-lab-${name}-${ACCOUNT}-${REGION}`;
      functionName = `${name}-ArtifactsCleanup-XyZ`;
      logGroup = `/aws/lambda/${functionName}`;
      this.addBucket(bucket, tags);
      this.addFunction(functionName, tags);
      this.addLogGroup(logGroup, tags, { arnWithStar: true });
      resources.push({ logicalId: 'ArtifactsBucket', physicalId: bucket, type: 'AWS::S3::Bucket', status: 'CREATE_COMPLETE' });
      // Its IAM role (AWS::IAM::Role) carries the lab tags too, but the tagging API never lists roles.
      resources.push({ logicalId: 'ArtifactsCleanupHandler', physicalId: functionName, type: 'AWS::Lambda::Function', status: 'CREATE_COMPLETE' });
      resources.push({ logicalId: 'ArtifactsCleanupLogGroup', physicalId: logGroup, type: 'AWS::Logs::LogGroup', status: 'CREATE_COMPLETE' });
    }
    const outputs: Record<string, string> = {};
    if (!options.noResources) {
      // What LabStack writes (lib/infra/lab-stack.ts), so the post-deploy commands find the lab too.
      outputs[OUTPUTS.controlPlanePublicIp] = '203.0.113.10';
      outputs[OUTPUTS.nodeAddresses] = plan.instances.map((n) => `${n.name}=${n.privateIp}`).join(',');
      outputs[OUTPUTS.labConfig] = JSON.stringify(plan.config);
      outputs[OUTPUTS.kubernetesVersion] = plan.kubernetes.version;
      outputs[OUTPUTS.ciliumVersion] = plan.config.cilium.version;
      if (bucket) outputs[OUTPUTS.artifactsBucket] = bucket;
      plan.instances.forEach((node, i) => (outputs[OUTPUTS.nodeOutput(node.name, 'InstanceId')] = instanceIds[i] as string));
      if (options.expiresAt) {
        outputs[OUTPUTS.expirySchedule] = expiryScheduleName(name);
        // The schedule's dead-letter queue (LabExpiry), empty.
        const queueUrl = `${this.sqs.endpoint}/${ACCOUNT}/${deadLetterQueueName(name)}`;
        this.queues.set(queueUrl, 0);
        // The queue carries the lab tags (the tagging API lists it) and goes with the stack.
        this.tagged.set(this.arn('sqs', deadLetterQueueName(name)), tags);
        outputs[OUTPUTS.expiryDeadLetters] = queueUrl;
      }
    }
    const stack: FakeStack = {
      id: stackId,
      name,
      status: options.status ?? 'CREATE_COMPLETE',
      creationTime: options.creationTime ?? new Date(Date.now() - 60 * 60_000),
      tags,
      outputs,
      resources,
      events: [],
      failDeletes: options.failDeletes ?? 0,
      ...(vpcId ? { vpcId } : {}),
    };
    this.stacks.push(stack);
    this.tagged.set(stackId, tags);
    if (options.expiresAt) {
      this.schedules.set(`default/${expiryScheduleName(name)}`, {
        Name: expiryScheduleName(name),
        GroupName: 'default',
        ScheduleExpression: `at(${options.expiresAt.slice(0, 19)})`,
        ScheduleExpressionTimezone: 'UTC',
        Description: `cilium-lab ${name}: delete the lab's stack at ${options.expiresAt}`,
        State: 'ENABLED',
        Target: {
          Arn: 'arn:aws:scheduler:::aws-sdk:cloudformation:deleteStack',
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/cilium-lab/${name}-ExpiryRole-XYZ`,
          Input: JSON.stringify({ StackName: stackId }),
          RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
        },
        FlexibleTimeWindow: { Mode: 'OFF' },
      });
    }
    return { name, plan, stack, ...(vpcId ? { vpcId } : {}), ...(labSecurityGroupId ? { labSecurityGroupId } : {}), instanceIds, ...(bucket ? { bucket } : {}), ...(functionName ? { functionName } : {}), ...(logGroup ? { logGroup } : {}) };
  }

  addEni(eni: Omit<FakeEni, 'id' | 'status' | 'groups' | 'description' | 'tags'> & Partial<Pick<FakeEni, 'status' | 'groups' | 'description' | 'tags'>>): string {
    const id = nextId('eni');
    this.enis.set(id, { id, status: eni.attachment ? 'in-use' : 'available', groups: [], description: '', tags: {}, ...eni });
    return id;
  }

  addSecurityGroup(group: Omit<FakeSecurityGroup, 'id' | 'tags'> & { tags?: Tags }): string {
    const id = nextId('sg');
    this.groups.set(id, { id, tags: {}, ...group });
    return id;
  }

  stackNamed(name: string): FakeStack | undefined {
    return this.stacks.find((s) => s.name === name && s.status !== 'DELETE_COMPLETE');
  }

  // ----- lazily advanced time -----

  settle(): void {
    const now = Date.now();
    for (const instance of this.instances.values()) {
      if (instance.transition && now >= instance.transition.at) {
        instance.state = instance.transition.to;
        delete instance.transition;
      }
    }
    for (const volume of [...this.volumes.values()]) {
      if (volume.goneAt !== undefined && now >= volume.goneAt) this.volumes.delete(volume.id);
    }
    for (const eni of this.enis.values()) {
      if (eni.detachedAt !== undefined && now >= eni.detachedAt) {
        eni.status = 'available';
        delete eni.attachment;
        delete eni.detachedAt;
      }
    }
    for (const stack of this.stacks) {
      if (stack.status === 'DELETE_IN_PROGRESS' && stack.deleteEndsAt !== undefined && now >= stack.deleteEndsAt) this.finishDelete(stack);
    }
  }

  private finishDelete(stack: FakeStack): void {
    delete stack.deleteEndsAt;
    const when = new Date();
    for (const url of [...this.queues.keys()]) if (url.endsWith(`/${deadLetterQueueName(stack.name)}`)) this.queues.delete(url);
    // Instances go first, whatever happens after.
    for (const r of stack.resources.filter((r) => r.type === 'AWS::EC2::Instance' && r.status !== 'DELETE_COMPLETE')) {
      const instance = this.instances.get(r.physicalId ?? '');
      for (const volume of this.volumes.values()) {
        if (volume.instanceId !== r.physicalId) continue;
        volume.state = 'deleting';
        volume.goneAt = Date.now() + this.volumeDeleteMs;
      }
      if (instance) {
        if (this.instanceShutdownMs > 0) {
          instance.state = 'shutting-down';
          instance.transition = { to: 'terminated', at: Date.now() + this.instanceShutdownMs };
        } else {
          instance.state = 'terminated';
        }
      }
      for (const [id, eni] of this.enis) {
        if (!eni.attachment || eni.attachment.instanceId !== r.physicalId) continue;
        // The primary interface goes with the instance; a secondary one (Cilium ENI mode) stays, detached.
        if (eni.attachment.deviceIndex === 0) {
          this.enis.delete(id);
        } else {
          eni.status = 'available';
          delete eni.attachment;
        }
      }
      r.status = 'DELETE_COMPLETE';
    }
    const failures: { logicalId: string; physicalId?: string; type: string; reason: string }[] = [];
    const stackGroup = stack.resources.find((r) => r.type === 'AWS::EC2::SecurityGroup');
    const vpc = stack.resources.find((r) => r.type === 'AWS::EC2::VPC');
    const groupHeld = stackGroup && [...this.enis.values()].some((e) => e.groups.includes(stackGroup.physicalId ?? ''));
    if (stackGroup && stackGroup.status !== 'DELETE_COMPLETE' && (groupHeld || stack.failDeletes > 0)) {
      failures.push({ logicalId: stackGroup.logicalId, physicalId: stackGroup.physicalId as string, type: stackGroup.type, reason: `resource ${stackGroup.physicalId} has a dependent object (Service: Ec2, Status Code: 400, Error Code: DependencyViolation)` });
    }
    if (stack.failDeletes > 0) stack.failDeletes--;
    const vpcHeld =
      vpc &&
      ([...this.enis.values()].some((e) => e.vpcId === vpc.physicalId) ||
        [...this.groups.values()].some((g) => g.vpcId === vpc.physicalId && g.name !== 'default' && g.id !== stackGroup?.physicalId));
    if (vpc && (vpcHeld || failures.length > 0)) {
      failures.push({ logicalId: vpc.logicalId, physicalId: vpc.physicalId as string, type: vpc.type, reason: `The vpc '${vpc.physicalId}' has dependencies and cannot be deleted. (Service: Ec2, Status Code: 400, Error Code: DependencyViolation)` });
    }
    if (failures.length > 0) {
      for (const f of failures) stack.events.push({ ...f, status: 'DELETE_FAILED', timestamp: when });
      stack.events.push({ logicalId: stack.name, physicalId: stack.id, type: 'AWS::CloudFormation::Stack', status: 'DELETE_FAILED', reason: `The following resource(s) failed to delete: [${failures.map((f) => f.logicalId).join(', ')}].`, timestamp: when });
      stack.status = 'DELETE_FAILED';
      return;
    }
    for (const r of stack.resources) {
      if (r.type === 'AWS::EC2::SecurityGroup') this.groups.delete(r.physicalId ?? '');
      if (r.type === 'AWS::S3::Bucket') this.s3.deleteBucket(r.physicalId ?? '');
      if (r.type === 'AWS::Logs::LogGroup') this.logGroups.delete(r.physicalId ?? '');
      if (r.type === 'AWS::Lambda::Function') this.functions.delete(r.physicalId ?? '');
      if (r.type === 'AWS::EC2::VPC') {
        this.vpcs.delete(r.physicalId ?? '');
        for (const [id, g] of this.groups) if (g.vpcId === r.physicalId) this.groups.delete(id);
      }
      r.status = 'DELETE_COMPLETE';
    }
    stack.status = 'DELETE_COMPLETE';
    stack.events.push({ logicalId: stack.name, physicalId: stack.id, type: 'AWS::CloudFormation::Stack', status: 'DELETE_COMPLETE', timestamp: when });
  }

  // ----- CloudFormation -----

  findStack(nameOrId: string): FakeStack {
    const stack = nameOrId.startsWith('arn:') ? this.stacks.find((s) => s.id === nameOrId) : this.stackNamed(nameOrId);
    if (!stack) throw new QueryFault('ValidationError', `Stack with id ${nameOrId} does not exist`);
    return stack;
  }

  deleteStack(nameOrId: string): void {
    let stack: FakeStack;
    try {
      stack = this.findStack(nameOrId);
    } catch {
      return; // DeleteStack of a missing stack succeeds
    }
    this.log.push(`DeleteStack ${stack.name}`);
    if (stack.terminationProtection) throw new QueryFault('ValidationError', `Stack [${stack.name}] cannot be deleted while TerminationProtection is enabled`);
    if (stack.status === 'DELETE_COMPLETE' || stack.status === 'DELETE_IN_PROGRESS') return;
    stack.status = 'DELETE_IN_PROGRESS';
    stack.deleteEndsAt = Date.now() + this.deleteStackMs;
  }

  // ----- tagging -----

  getResources(body: Record<string, unknown>): unknown {
    const filters = (body['TagFilters'] ?? []) as { Key: string; Values?: string[] }[];
    const types = (body['ResourceTypeFilters'] ?? []) as string[];
    const perPage = Number(body['ResourcesPerPage'] ?? 50);
    if (perPage < 1 || perPage > 100) throw new JsonFault('InvalidParameterException', 'ResourcesPerPage must be 1..100');
    const matches = [...this.tagged].filter(([arn, tags]) => {
      if (!filters.every((f) => tags[f.Key] !== undefined && (!f.Values || f.Values.length === 0 || f.Values.includes(tags[f.Key] as string)))) return false;
      if (types.length === 0) return true;
      const [, , service, , , resource] = arn.split(':');
      return types.some((t) => {
        const [s, r] = t.split(':');
        return s === service && (r === undefined || (resource ?? '').startsWith(`${r}/`));
      });
    });
    // Two per page, so the adapter must follow PaginationToken.
    const offset = Number(body['PaginationToken'] || 0);
    const page = matches.slice(offset, offset + 2);
    const next = offset + 2 < matches.length ? String(offset + 2) : '';
    return {
      PaginationToken: next,
      ResourceTagMappingList: page.map(([arn, tags]) => ({ ResourceARN: arn, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) })),
    };
  }

  // ----- CloudWatch Logs -----

  describeLogGroups(body: Record<string, unknown>): unknown {
    const prefix = String(body['logGroupNamePrefix'] ?? '');
    const limit = Number(body['limit'] ?? 50);
    if (limit < 1 || limit > 50) throw new JsonFault('InvalidParameterException', 'limit must be 1..50');
    const matches = [...this.logGroups].filter((name) => name.startsWith(prefix)).sort();
    // Two per page, so the adapter must follow nextToken.
    const offset = Number(body['nextToken'] ?? 0);
    const page = matches.slice(offset, offset + Math.min(limit, 2));
    return {
      logGroups: page.map((name) => ({ logGroupName: name, arn: this.arn('logs', `log-group:${name}:*`), logGroupArn: this.arn('logs', `log-group:${name}`), creationTime: 1_795_000_000_000, storedBytes: 0 })),
      ...(offset + page.length < matches.length ? { nextToken: String(offset + page.length) } : {}),
    };
  }

  // ----- Lambda -----

  /** GET /2015-03-31/functions/{FunctionName}: a name, a full ARN or a partial one (account:function:name), optionally qualified. */
  getFunction(path: string): unknown {
    const match = /^\/2015-03-31\/functions\/([^/]+)$/.exec(path);
    if (!match) throw new JsonFault('UnknownOperationException', `no Lambda operation at ${path}`, 404);
    const given = match[1] as string;
    const parts = given.split(':');
    let name: string | undefined;
    if (given.startsWith('arn:')) {
      // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>], of this account and region only
      if (parts[2] === 'lambda' && parts[3] === REGION && parts[4] === ACCOUNT && parts[5] === 'function') name = parts[6];
    } else if (parts.length >= 3 && parts[1] === 'function') {
      if (parts[0] === ACCOUNT) name = parts[2];
    } else {
      name = parts[0];
    }
    const fn = name !== undefined ? this.functions.get(name) : undefined;
    if (!fn || name === undefined) {
      throw new JsonFault('ResourceNotFoundException', `Function not found: ${this.arn('lambda', `function:${name ?? given}`)}`, 404, { Type: 'User' });
    }
    return {
      Configuration: {
        FunctionName: name,
        FunctionArn: this.arn('lambda', `function:${name}`),
        Runtime: 'nodejs22.x',
        Handler: '__entrypoint__.handler',
        Role: `arn:aws:iam::${ACCOUNT}:role/${name}-Role`,
        State: fn.state,
        LastUpdateStatus: 'Successful',
        PackageType: 'Zip',
        Version: '$LATEST',
      },
      Code: { RepositoryType: 'S3', Location: 'https://awslambda-ap-ne-2-tasks.s3.ap-northeast-2.amazonaws.com/snapshots/fake' },
      Tags: this.tagged.get(this.arn('lambda', `function:${name}`)) ?? {},
    };
  }

  // ----- scheduler -----

  /** When set, every GetSchedule answers this fault (say AccessDeniedException). */
  getScheduleFault: JsonFault | undefined;

  getSchedule(path: string, query: URLSearchParams): unknown {
    if (this.getScheduleFault) throw this.getScheduleFault;
    const name = path.split('/')[2] ?? '';
    const group = query.get('groupName') ?? 'default';
    const schedule = this.schedules.get(`${group}/${name}`);
    if (!schedule) throw new JsonFault('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return {
      Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${name}`,
      CreationDate: 1_795_000_000,
      LastModificationDate: 1_795_000_000,
      ...schedule,
    };
  }

  updateSchedule(path: string, body: Record<string, unknown>): unknown {
    const name = path.split('/')[2] ?? '';
    const group = String(body['GroupName'] ?? 'default');
    const key = `${group}/${name}`;
    if (!this.schedules.has(key)) throw new JsonFault('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    const target = body['Target'] as Record<string, unknown> | undefined;
    if (typeof body['ScheduleExpression'] !== 'string' || !target?.['Arn'] || !target['RoleArn'] || !body['FlexibleTimeWindow']) {
      throw new JsonFault('ValidationException', 'ScheduleExpression, Target (Arn, RoleArn) and FlexibleTimeWindow are required', 400);
    }
    this.log.push(`UpdateSchedule ${key} ${String(body['ScheduleExpression'])}`);
    const next: FakeSchedule = {
      Name: name,
      GroupName: group,
      ScheduleExpression: body['ScheduleExpression'],
      State: String(body['State'] ?? 'ENABLED'),
      Target: target,
      FlexibleTimeWindow: body['FlexibleTimeWindow'] as Record<string, unknown>,
      ...(body['ScheduleExpressionTimezone'] ? { ScheduleExpressionTimezone: String(body['ScheduleExpressionTimezone']) } : {}),
      ...(body['Description'] !== undefined ? { Description: String(body['Description']) } : {}),
      ...(body['ActionAfterCompletion'] ? { ActionAfterCompletion: String(body['ActionAfterCompletion']) } : {}),
    };
    this.schedules.set(key, next);
    return { ScheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${key}` };
  }
}

function cfnHandlers(a: () => FakeAccount): Record<string, (params: QueryParams) => XmlValue> {
  return {
    DescribeStacks: (params) => {
      const account = a();
      account.settle();
      const stack = account.findStack(params['StackName'] ?? '');
      return {
        Stacks: [
          {
            StackId: stack.id,
            StackName: stack.name,
            CreationTime: stack.creationTime.toISOString(),
            StackStatus: stack.status,
            ...(stack.status === 'DELETE_FAILED' ? { StackStatusReason: stack.events.filter((e) => e.type === 'AWS::CloudFormation::Stack').at(-1)?.reason } : {}),
            Tags: Object.entries(stack.tags).map(([Key, Value]) => ({ Key, Value })),
            Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          },
        ],
      };
    },
    ListStackResources: (params) => {
      const account = a();
      account.settle();
      const stack = account.findStack(params['StackName'] ?? '');
      return {
        StackResourceSummaries: stack.resources.map((r) => ({
          LogicalResourceId: r.logicalId,
          PhysicalResourceId: r.physicalId,
          ResourceType: r.type,
          ResourceStatus: r.status,
          LastUpdatedTimestamp: new Date().toISOString(),
        })),
      };
    },
    DeleteStack: (params) => {
      a().deleteStack(params['StackName'] ?? '');
      return {};
    },
    DescribeStackEvents: (params) => {
      const account = a();
      account.settle();
      const stack = account.findStack(params['StackName'] ?? '');
      return {
        StackEvents: [...stack.events].reverse().map((e, i) => ({
          StackId: stack.id,
          EventId: `event-${i}`,
          StackName: stack.name,
          LogicalResourceId: e.logicalId,
          PhysicalResourceId: e.physicalId,
          ResourceType: e.type,
          Timestamp: e.timestamp.toISOString(),
          ResourceStatus: e.status,
          ResourceStatusReason: e.reason,
        })),
      };
    },
  };
}

function ec2Handlers(a: () => FakeAccount): Record<string, (params: QueryParams) => XmlValue> {
  const eniXml = (eni: FakeEni): XmlValue => ({
    networkInterfaceId: eni.id,
    vpcId: eni.vpcId,
    status: eni.status,
    description: eni.description,
    requesterManaged: eni.requesterManaged ?? false,
    ...(eni.interfaceType ? { interfaceType: eni.interfaceType } : {}),
    groupSet: eni.groups.map((groupId) => ({ groupId, groupName: a().groups.get(groupId)?.name ?? '' })),
    tagSet: tagSet(eni.tags),
    ...(eni.attachment ? { attachment: { attachmentId: eni.attachment.id, instanceId: eni.attachment.instanceId, deviceIndex: eni.attachment.deviceIndex, status: eni.detachedAt ? 'detaching' : 'attached' } } : {}),
  });
  const byVpc = (params: QueryParams): string[] | undefined => filtersOf(params).find((f) => f.name === 'vpc-id')?.values;
  const instancesXml = (ids: string[], previous?: Record<string, string>): XmlValue =>
    ids.map((id) => {
      const instance = a().instances.get(id) as FakeInstance;
      return {
        instanceId: id,
        currentState: { code: stateCode[instance.state] ?? 0, name: instance.state },
        previousState: { code: stateCode[previous?.[id] ?? instance.state] ?? 0, name: previous?.[id] ?? instance.state },
      };
    });
  const known = (ids: string[]): void => {
    const unknown = ids.filter((id) => !a().instances.has(id));
    if (unknown.length > 0) throw new QueryFault('InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
  };
  /**
   * Stop/StartInstances as EC2 answers them: an instance in a `from` state goes to `via`, then to
   * `to` after the account's transition time; one in a `refused` state fails the whole call
   * (IncorrectInstanceState); any other is left as it is. The answer has each previous state.
   */
  const power =
    (rule: { action: string; verb: string; refused: readonly string[]; from: readonly string[]; via: string; to: string }) =>
    (params: QueryParams): XmlValue => {
      const account = a();
      account.settle();
      const ids = listParam(params, 'InstanceId');
      known(ids);
      const previous: Record<string, string> = {};
      for (const id of ids) {
        const instance = account.instances.get(id) as FakeInstance;
        previous[id] = instance.state;
        if (rule.refused.includes(instance.state)) {
          throw new QueryFault('IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be ${rule.verb}.`);
        }
        if (rule.from.includes(instance.state)) {
          instance.state = rule.via;
          instance.transition = { to: rule.to, at: Date.now() + account.instanceTransitionMs };
        }
      }
      account.log.push(`${rule.action} ${ids.join(' ')}`);
      return { instancesSet: instancesXml(ids, previous) };
    };
  return {
    DescribeVpcs: (params) => {
      const account = a();
      account.settle();
      const ids = listParam(params, 'VpcId');
      const missing = ids.filter((id) => !account.vpcs.has(id));
      if (missing.length > 0) throw new QueryFault('InvalidVpcID.NotFound', `The vpc ID '${missing[0]}' does not exist`);
      const tagFilters = filtersOf(params).filter((f) => f.name.startsWith('tag:'));
      const vpcs = [...account.vpcs.values()].filter(
        (v) => (ids.length === 0 || ids.includes(v.id)) && tagFilters.every((f) => f.values.includes(v.tags[f.name.slice(4)] ?? '\u0000')),
      );
      return { vpcSet: vpcs.map((v) => ({ vpcId: v.id, state: 'available', tagSet: tagSet(v.tags) })) };
    },
    DescribeNetworkInterfaces: (params) => {
      const account = a();
      account.settle();
      const ids = listParam(params, 'NetworkInterfaceId');
      const missing = ids.filter((id) => !account.enis.has(id));
      if (missing.length > 0) throw new QueryFault('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${missing[0]}' does not exist`);
      const vpcs = byVpc(params);
      const enis = [...account.enis.values()].filter((e) => (ids.length === 0 || ids.includes(e.id)) && (!vpcs || vpcs.includes(e.vpcId)));
      return { networkInterfaceSet: enis.map(eniXml) };
    },
    DescribeSecurityGroups: (params) => {
      const account = a();
      account.settle();
      const ids = listParam(params, 'GroupId');
      const missing = ids.filter((id) => !account.groups.has(id));
      if (missing.length > 0) throw new QueryFault('InvalidGroup.NotFound', `The security group '${missing[0]}' does not exist`);
      const vpcs = byVpc(params);
      const groups = [...account.groups.values()].filter((g) => (ids.length === 0 || ids.includes(g.id)) && (!vpcs || vpcs.includes(g.vpcId)));
      return { securityGroupInfo: groups.map((g) => ({ groupId: g.id, groupName: g.name, vpcId: g.vpcId, groupDescription: g.name, tagSet: tagSet(g.tags) })) };
    },
    DetachNetworkInterface: (params) => {
      const account = a();
      account.settle();
      const id = params['AttachmentId'] ?? '';
      const eni = [...account.enis.values()].find((e) => e.attachment?.id === id);
      if (!eni) throw new QueryFault('InvalidAttachmentID.NotFound', `Attachment '${id}' not found`);
      account.log.push(`DetachNetworkInterface ${eni.id}`);
      eni.detachedAt ??= Date.now() + account.detachMs;
      return { return: true };
    },
    DeleteNetworkInterface: (params) => {
      const account = a();
      account.settle();
      const id = params['NetworkInterfaceId'] ?? '';
      const eni = account.enis.get(id);
      if (!eni) throw new QueryFault('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
      if (eni.status !== 'available') throw new QueryFault('InvalidNetworkInterface.InUse', `The network interface '${id}' is currently in use.`);
      account.enis.delete(id);
      account.log.push(`DeleteNetworkInterface ${id}`);
      return { return: true };
    },
    DeleteSecurityGroup: (params) => {
      const account = a();
      account.settle();
      const id = params['GroupId'] ?? '';
      const group = account.groups.get(id);
      if (!group) throw new QueryFault('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
      group.firstDeleteAt ??= Date.now();
      const usedBy = [...account.enis.values()].find((e) => e.groups.includes(id));
      if (usedBy || (group.busyForMs !== undefined && Date.now() < group.firstDeleteAt + group.busyForMs)) {
        account.log.push(`DeleteSecurityGroup ${id} DependencyViolation`);
        throw new QueryFault('DependencyViolation', `resource ${id} has a dependent object`);
      }
      account.groups.delete(id);
      account.log.push(`DeleteSecurityGroup ${id}`);
      return { return: true };
    },
    DescribeVolumes: (params) => {
      const account = a();
      account.settle();
      const ids = listParam(params, 'VolumeId');
      const missing = ids.find((id) => !account.volumes.has(id));
      if (missing) throw new QueryFault('InvalidVolume.NotFound', `The volume '${missing}' does not exist.`);
      return { volumeSet: ids.map((id) => ({ volumeId: id, status: account.volumes.get(id)?.state })) };
    },
    DescribeInstances: (params) => {
      const account = a();
      account.settle();
      const ids = listParam(params, 'InstanceId');
      known(ids);
      return {
        reservationSet: [
          {
            reservationId: 'r-0123',
            ownerId: ACCOUNT,
            instancesSet: ids.map((id) => {
              const instance = account.instances.get(id) as FakeInstance;
              return {
                instanceId: id,
                instanceState: { code: stateCode[instance.state] ?? 0, name: instance.state },
                ...(instance.imageId ? { imageId: instance.imageId } : {}),
                ...(instance.instanceType ? { instanceType: instance.instanceType } : {}),
                ...(instance.privateIp && instance.state !== 'terminated' ? { privateIpAddress: instance.privateIp } : {}),
              };
            }),
          },
        ],
      };
    },
    // Every type the lab plans is a Nitro type with ENA required (the lab's own catalog checks the rest).
    DescribeInstanceTypes: (params) => ({
      instanceTypeSet: listParam(params, 'InstanceType').map((type) => ({ instanceType: type, hypervisor: 'nitro', bareMetal: false, networkInfo: { enaSupport: 'required' } })),
    }),
    DescribeImages: (params) => ({
      imagesSet: listParam(params, 'ImageId').map((id) => ({ imageId: id, name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20261101', enaSupport: true })),
    }),
    StopInstances: power({ action: 'StopInstances', verb: 'stopped', refused: ['terminated'], from: ['running', 'pending'], via: 'stopping', to: 'stopped' }),
    StartInstances: power({ action: 'StartInstances', verb: 'started', refused: ['stopping', 'terminated'], from: ['stopped'], via: 'pending', to: 'running' }),
  };
}
