/**
 * Auto-expiry: a one-time EventBridge Scheduler schedule that deletes this lab's stack, through the
 * universal target `aws-sdk:cloudformation:deleteStack`. Every lab gets one unless its config says
 * `ttl=none` on purpose:
 *
 *   - with expiresAt (the `lab` CLI sets it to now + --ttl and passes `-c expiresAt=...`), the
 *     schedule fires then: a fixed `at(...)` in the template;
 *   - without it (a plain `cdk deploy`), the template holds the TTL and the expiry clock
 *     (`Custom::ExpiryClock`, lib/aws/expiry-clock/index.js) works out `at(now + ttl)` at deploy
 *     time, never earlier than the schedule's current time (so neither a re-deploy nor a switch
 *     between the two ways cuts short what `lab extend` set). Its attribute feeds the schedule.
 *
 * Deterministic either way: the time is an input or a deploy-time attribute, never a clock read at synth.
 *
 * Why the schedule's role may only call cloudformation:DeleteStack (no iam:PassRole, no
 * ec2:*): DeleteStack without RoleARN makes CloudFormation delete the resources with the service
 * role already associated with the stack, which the CDK CLI sets at deploy (the bootstrap's
 * cfn-exec-role), and other principals allowed to operate on the stack use that role without
 * passing it. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
 * and https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html
 * (RoleARN: "If you don't specify a value, CloudFormation uses the role that was previously
 * associated with the stack").
 *
 * No ActionAfterCompletion: AWS::Scheduler::Schedule has no such property (the Scheduler API
 * does; aws/aws-cdk#27455), and none is needed: the schedule is a resource of the stack it
 * deletes, so DeleteStack removes it, and `lab down` before expiry removes it too.
 */
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, CustomResource, CustomResourceProvider, CustomResourceProviderRuntime, Duration, Fn, Stack, Validations, aws_iam as iam, aws_scheduler as scheduler, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EXPIRY_ROLE_PATH, EXPIRY_SCHEDULE_GROUP, expiryScheduleName, schedulerAtExpression } from '../config/expiry.js';
import { OUTPUTS } from '../config/outputs.js';
import { keepProviderLogsInStack } from './provider-logs.js';

/** The Scheduler universal target that calls CloudFormation DeleteStack. */
export const DELETE_STACK_TARGET = 'arn:${AWS::Partition}:scheduler:::aws-sdk:cloudformation:deleteStack';

/** A TTL in seconds as the shortest d/h/m text (14400: 4h, 5400: 1h30m), so 4h and 240m read the same. */
export function formatTtl(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return `${d ? `${d}d` : ''}${h ? `${h}h` : ''}${m ? `${m}m` : ''}` || '0m';
}

/** When the lab expires: at a fixed time, or a TTL after its deploy. */
export type ExpiryWhen = { readonly expiresAt: string } | { readonly ttlSeconds: number; readonly ttl: string };

export type LabExpiryProps = {
  readonly labName: string;
  /** The lab tags (the expiry clock's raw provider resources get them here). */
  readonly tags: Readonly<Record<string, string>>;
} & ExpiryWhen;

/** The expiry clock's Lambda code (CommonJS, plain JavaScript, type-checked by tsc through // @ts-check). */
export const EXPIRY_CLOCK_CODE = fileURLToPath(new URL('../aws/expiry-clock', import.meta.url));
export const EXPIRY_CLOCK_TYPE = 'Custom::ExpiryClock';

/**
 * How often Scheduler retries a failed DeleteStack call, and for how long, before it gives up and
 * puts the failure in the dead-letter queue (Scheduler's RetryPolicy; maxima 185 and 86400 s).
 */
export const EXPIRY_RETRY = { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 } as const;

export class LabExpiry extends Construct {
  readonly schedule: scheduler.CfnSchedule;
  readonly role: iam.Role;
  readonly scheduleName: string;
  /** Where a failed expiry goes: the schedule's dead-letter queue (`lab status` counts its messages). */
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: LabExpiryProps) {
    super(scope, id);
    this.scheduleName = expiryScheduleName(props.labName);

    // A failed expiry must not be silent: when Scheduler cannot call DeleteStack (after its
    // retries), it delivers a dead-letter event here, and `lab status` reports it.
    // https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the expiry schedule (Scheduler DeadLetterConfig); nothing consumes it but lab status, so it needs no DLQ of its own.',
    });

    this.role = new iam.Role(this, 'Role', {
      description: `cilium-lab ${props.labName}: lets EventBridge Scheduler delete this lab's stack at expiry`,
      path: EXPIRY_ROLE_PATH,
      // Confused-deputy guard: only schedules of this account may assume the role.
      // https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      }),
      inlinePolicies: {
        DeleteThisStack: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['cloudformation:DeleteStack'],
              // AWS::StackId is this stack's full ARN (name and unique id): no other stack,
              // not even a later one of the same name.
              resources: [Aws.STACK_ID],
            }),
          ],
        }),
        // The execution role delivers the dead-letter events (the Scheduler guide's DLQ permissions).
        DeliverFailedExpiry: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetters.queueArn] })],
        }),
      },
    });

    const when = 'expiresAt' in props ? `at ${props.expiresAt}` : `${formatTtl(props.ttlSeconds)} after its deploy`;
    // Everything of the schedule but its time.
    const schedule = {
      name: this.scheduleName,
      groupName: EXPIRY_SCHEDULE_GROUP,
      description: `cilium-lab ${props.labName}: delete the lab's stack ${when}`,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: Fn.sub(DELETE_STACK_TARGET),
        roleArn: this.role.roleArn,
        input: Fn.sub('{"StackName":"${AWS::StackId}"}'),
        retryPolicy: EXPIRY_RETRY,
        deadLetterConfig: { arn: this.deadLetters.queueArn },
      },
    };
    // Any change to those makes CloudFormation rewrite the whole schedule with the clock's last
    // time, which would drop a later time `lab extend` set: the clock gets them as its own
    // properties, as CloudFormation resolves them at deploy (a replaced role's new ARN included),
    // so it runs again then and keeps the later of the two.
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      ...schedule,
      scheduleExpression: 'expiresAt' in props ? schedulerAtExpression(props.expiresAt) : this.clock(props.ttlSeconds, props.tags, schedule).getAttString('AtExpression'),
    });

    new CfnOutput(this, 'DeadLetterOutput', {
      key: OUTPUTS.expiryDeadLetters,
      value: this.deadLetters.queueUrl,
      description: 'SQS queue where EventBridge Scheduler puts an expiry it could not carry out (lab status counts them)',
    });

    new CfnOutput(this, 'Output', {
      key: OUTPUTS.expirySchedule,
      value: this.scheduleName,
      description: `EventBridge Scheduler schedule (group "${EXPIRY_SCHEDULE_GROUP}") that deletes this lab ${when}; \`lab extend\` moves it (UpdateSchedule)`,
    });
  }

  /**
   * The expiry clock: a custom resource whose AtExpression is `at(now + ttl)` at deploy time, never
   * earlier than the schedule's current time. Its function may read only this lab's schedule.
   */
  private clock(ttlSeconds: number, tags: Readonly<Record<string, string>>, schedule: Readonly<Record<string, unknown>>): CustomResource {
    const stack = Stack.of(this);
    const scheduleArn = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${EXPIRY_SCHEDULE_GROUP}/${this.scheduleName}` });
    const provider = CustomResourceProvider.getOrCreateProvider(this, EXPIRY_CLOCK_TYPE, {
      codeDirectory: EXPIRY_CLOCK_CODE,
      runtime: CustomResourceProviderRuntime.NODEJS_22_X,
      description: 'cilium-lab: works out the expiry schedule\'s time (now + ttl) at deploy',
      timeout: Duration.minutes(1),
      policyStatements: [{ Effect: 'Allow', Action: 'scheduler:GetSchedule', Resource: scheduleArn }],
    });
    const providerScope = stack.node.findChild(`${EXPIRY_CLOCK_TYPE}CustomResourceProvider`);
    keepProviderLogsInStack(this, 'ClockLogs', providerScope, tags);
    Validations.of(providerScope).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'CDK\'s CustomResourceProvider gives its function the AWS managed basic execution role (CloudWatch Logs only); its one other permission is scheduler:GetSchedule on this lab\'s schedule.',
    });
    return new CustomResource(this, 'Clock', {
      serviceToken: provider.serviceToken,
      resourceType: EXPIRY_CLOCK_TYPE,
      properties: { TtlSeconds: ttlSeconds, ScheduleName: this.scheduleName, ScheduleGroup: EXPIRY_SCHEDULE_GROUP, Schedule: schedule },
    });
  }
}
