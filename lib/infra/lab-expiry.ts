/**
 * Auto-expiry: a one-time EventBridge Scheduler schedule that deletes this lab's stack at
 * `expiresAt`, through the universal target `aws-sdk:cloudformation:deleteStack`. LabStack adds it
 * only when expiresAt is set (the `lab` CLI sets it to now + TTL and passes `-c expiresAt=...`);
 * without it there is no schedule and the lab lives until `lab down` (or `lab sweep`).
 *
 * Deterministic: the time is the expiresAt input, converted, never a clock read at synth.
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
import { Aws, CfnOutput, Duration, Fn, Validations, aws_iam as iam, aws_scheduler as scheduler, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EXPIRY_ROLE_PATH, EXPIRY_SCHEDULE_GROUP, expiryScheduleName, schedulerAtExpression } from '../config/expiry.js';
import { OUTPUTS } from '../config/outputs.js';

/** The Scheduler universal target that calls CloudFormation DeleteStack. */
export const DELETE_STACK_TARGET = 'arn:${AWS::Partition}:scheduler:::aws-sdk:cloudformation:deleteStack';

export interface LabExpiryProps {
  readonly labName: string;
  /** ISO 8601 UTC, as validated by LabConfig. */
  readonly expiresAt: string;
}

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

    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      name: this.scheduleName,
      groupName: EXPIRY_SCHEDULE_GROUP,
      description: `cilium-lab ${props.labName}: delete the lab's stack at ${props.expiresAt}`,
      scheduleExpression: schedulerAtExpression(props.expiresAt),
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
    });

    new CfnOutput(this, 'DeadLetterOutput', {
      key: OUTPUTS.expiryDeadLetters,
      value: this.deadLetters.queueUrl,
      description: 'SQS queue where EventBridge Scheduler puts an expiry it could not carry out (lab status counts them)',
    });

    new CfnOutput(this, 'Output', {
      key: OUTPUTS.expirySchedule,
      value: this.scheduleName,
      description: `EventBridge Scheduler schedule (group "${EXPIRY_SCHEDULE_GROUP}") that deletes this lab at ${props.expiresAt}; \`lab extend\` moves it (UpdateSchedule)`,
    });
  }
}
