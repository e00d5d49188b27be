/**
 * CiliumLabCiAccess: what the nightly GitHub Actions workflow (.github/workflows/nightly-lab.yml)
 * needs in the account, and nothing more. A GitHub OIDC provider (or the account's existing one:
 * there can be only one per URL and account) and a role that only the workflow of one repository
 * on one branch can assume, with no long-lived keys.
 *
 * Synthesised only when asked: `-c ci.githubRepo=owner/repo`. The default `cdk synth` has the lab
 * stack alone. Deploy it once per account: `npx cdk deploy CiliumLabCiAccess -c ci.githubRepo=...`.
 *
 * Permissions are those of the workflow's commands:
 * - `cdk deploy` / `cdk destroy` run through the CDK bootstrap roles (assume only);
 * - the `lab` CLI reads stacks and instances, runs scripts on the lab's own instances over SSM,
 *   reads and moves the expiry schedules (`lab extend`), and lists tagged resources (`lab sweep`).
 */
import {
  CfnOutput,
  DefaultStackSynthesizer,
  Duration,
  Stack,
  Tags,
  Validations,
  aws_iam as iam,
  type StackProps,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LabConfigError } from '../config/load.js';
import { ARTIFACTS_BUCKET_PREFIX, ARTIFACTS_KEY_ROOT } from '../config/artifacts.js';
import { EXPIRY_ROLE_PATH, EXPIRY_SCHEDULE_GROUP, expiryScheduleName } from '../config/expiry.js';
import { LAB_TAGS, STACK_KINDS } from '../config/tags.js';

export const CI_ACCESS_STACK_NAME = 'CiliumLabCiAccess';

/** The issuer of GitHub Actions OIDC tokens. */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/** The context keys of the CI access stack (they are not lab settings). */
export const CI_CONTEXT = {
  githubRepo: 'ci.githubRepo',
  branch: 'ci.branch',
  oidcProviderArn: 'ci.oidcProviderArn',
} as const;

export interface CiAccessSettings {
  /** owner/repo */
  readonly githubRepo: string;
  /** The only branch whose workflow runs may assume the role. @default "main" */
  readonly branch: string;
  /** The account's existing GitHub OIDC provider; when unset the stack creates one. */
  readonly oidcProviderArn?: string;
}

/** True for context keys that belong to the CI access stack rather than to the lab. */
export function isCiContextKey(key: string): boolean {
  return key.startsWith('ci.');
}

/** The app's context without the CI keys: what the LabConfig loader reads. */
export function labContext(context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(context).filter(([key]) => !isCiContextKey(key)));
}

/**
 * The CI access settings from the app's context, or undefined when the CI stack is not requested
 * (no `ci.*` key). A `ci.*` key without `ci.githubRepo`, or a malformed value, is refused.
 */
export function ciAccessSettings(context: Readonly<Record<string, unknown>>): CiAccessSettings | undefined {
  const keys = Object.keys(context).filter(isCiContextKey);
  if (keys.length === 0) {
    return undefined;
  }
  const problems: string[] = [];
  const known: readonly string[] = Object.values(CI_CONTEXT);
  for (const key of keys.filter((k) => !known.includes(k))) {
    problems.push(`${key}: not a CI access setting (settings: ${known.join(', ')})`);
  }
  const text = (key: string): string | undefined => {
    const value = context[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      problems.push(`${key}: must be a non-empty string`);
      return undefined;
    }
    return value.trim();
  };
  const githubRepo = text(CI_CONTEXT.githubRepo);
  const branch = text(CI_CONTEXT.branch) ?? 'main';
  const oidcProviderArn = text(CI_CONTEXT.oidcProviderArn);
  if (githubRepo === undefined) {
    if (context[CI_CONTEXT.githubRepo] === undefined) {
      problems.push(
        `${CI_CONTEXT.githubRepo}: required for the ${CI_ACCESS_STACK_NAME} stack (given: ${keys.join(', ')}); set -c ${CI_CONTEXT.githubRepo}=owner/repo, the repository whose workflow may assume the role`,
      );
    }
  } else if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/.test(githubRepo) || githubRepo.endsWith('/.') || githubRepo.endsWith('/..')) {
    problems.push(`${CI_CONTEXT.githubRepo}: "${githubRepo}" is not a GitHub owner/repo such as octo-org/cilium-lab (no wildcards)`);
  }
  if (!/^[A-Za-z0-9._/-]{1,255}$/.test(branch) || branch.startsWith('refs/') || branch.includes('..')) {
    problems.push(`${CI_CONTEXT.branch}: "${branch}" is not a branch name such as main (no wildcards, no refs/heads/ prefix)`);
  }
  if (oidcProviderArn !== undefined && !new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:oidc-provider/${GITHUB_OIDC_HOST.replace(/\./g, '\\.')}$`).test(oidcProviderArn)) {
    problems.push(`${CI_CONTEXT.oidcProviderArn}: "${oidcProviderArn}" is not the ARN of a GitHub OIDC provider (arn:aws:iam::<account>:oidc-provider/${GITHUB_OIDC_HOST})`);
  }
  if (problems.length > 0 || githubRepo === undefined) {
    throw new LabConfigError(problems);
  }
  return { githubRepo, branch, ...(oidcProviderArn ? { oidcProviderArn } : {}) };
}

export interface CiAccessStackProps extends StackProps {
  readonly settings: CiAccessSettings;
}

export class CiAccessStack extends Stack {
  readonly role: iam.Role;
  readonly oidcProviderArn: string;

  constructor(scope: Construct, id: string, props: CiAccessStackProps) {
    super(scope, id, {
      description: `cilium-lab: GitHub OIDC access for the nightly lab workflow of ${props.settings.githubRepo} (${props.settings.branch})`,
      // The nightly's own access: no DeleteStack (lab sweep, a stray cdk destroy) may take it.
      terminationProtection: true,
      ...props,
    });
    const { settings } = props;
    Tags.of(this).add(LAB_TAGS.managedBy, 'cilium-lab');
    // Not a lab: no cilium-lab:lab tag, and its own kind, so lab sweep never picks it and the CI
    // role's DeleteStack (only kind=lab) cannot touch it.
    Tags.of(this).add(LAB_TAGS.kind, STACK_KINDS.ciAccess);

    // One provider per URL and account: import the existing one when there is one.
    // https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
    const provider = settings.oidcProviderArn
      ? iam.OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidc', settings.oidcProviderArn)
      : new iam.OidcProviderNative(this, 'GitHubOidc', {
          url: `https://${GITHUB_OIDC_HOST}`,
          clientIds: ['sts.amazonaws.com'],
          // No thumbprints: IAM secures GitHub's OIDC endpoint with its own trusted CAs.
        });
    this.oidcProviderArn = provider.oidcProviderArn;

    // StringEquals on both claims: the audience of configure-aws-credentials, and a subject of
    // exactly one repository and branch. Jobs must not use `environment:` (the subject would
    // become repo:<owner>/<repo>:environment:<name> and no longer match).
    this.role = new iam.Role(this, 'NightlyRole', {
      description: `cilium-lab nightly workflow of ${settings.githubRepo} on ${settings.branch}`,
      maxSessionDuration: Duration.hours(2),
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
          [`${GITHUB_OIDC_HOST}:sub`]: `repo:${settings.githubRepo}:ref:refs/heads/${settings.branch}`,
        },
      }),
    });

    const account = this.account;
    const partition = this.partition;
    const qualifier = (this.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') as string | undefined) ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const statements = [
      new iam.PolicyStatement({
        sid: 'CdkBootstrapRoles',
        actions: ['sts:AssumeRole'],
        resources: [`arn:${partition}:iam::${account}:role/cdk-${qualifier}-*`],
      }),
      new iam.PolicyStatement({
        sid: 'ReadStacks',
        actions: ['cloudformation:DescribeStacks', 'cloudformation:ListStackResources', 'cloudformation:DescribeStackEvents'],
        resources: [`arn:${partition}:cloudformation:*:${account}:stack/*/*`],
      }),
      new iam.PolicyStatement({
        sid: 'DeleteLabStacks',
        // lab down / lab sweep: only stacks tagged as cilium-lab labs. CloudFormation deletes the
        // resources with the stack's own role (CDK's cfn-exec-role).
        actions: ['cloudformation:DeleteStack'],
        resources: [`arn:${partition}:cloudformation:*:${account}:stack/*/*`],
        // Only stacks tagged as labs (kind=lab and a cilium-lab:lab tag): never this access stack,
        // nor a stack of anyone else's. CloudFormation supports aws:ResourceTag on DeleteStack
        // (Service Authorization Reference, "Actions defined by AWS CloudFormation").
        conditions: {
          StringEquals: { [`aws:ResourceTag/${LAB_TAGS.managedBy}`]: 'cilium-lab', [`aws:ResourceTag/${LAB_TAGS.kind}`]: STACK_KINDS.lab },
          Null: { [`aws:ResourceTag/${LAB_TAGS.lab}`]: 'false' },
        },
      }),
      new iam.PolicyStatement({
        sid: 'DeleteLabLeftovers',
        // lab down: ENIs and security groups that Kubernetes or Cilium left in a lab VPC.
        actions: ['ec2:DeleteNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:DeleteSecurityGroup'],
        resources: [
          `arn:${partition}:ec2:*:${account}:network-interface/*`,
          `arn:${partition}:ec2:*:${account}:security-group/*`,
          `arn:${partition}:ec2:*:${account}:instance/*`,
        ],
      }),
      new iam.PolicyStatement({
        sid: 'StopStartLabInstances',
        actions: ['ec2:StopInstances', 'ec2:StartInstances'],
        resources: [`arn:${partition}:ec2:*:${account}:instance/*`],
        conditions: { StringEquals: { [`aws:ResourceTag/${LAB_TAGS.managedBy}`]: 'cilium-lab' } },
      }),
      new iam.PolicyStatement({ sid: 'DescribeEc2', actions: ['ec2:Describe*'], resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'RunOnLabInstances',
        actions: ['ssm:SendCommand'],
        resources: [`arn:${partition}:ec2:*:${account}:instance/*`],
        conditions: { StringEquals: { [`ssm:resourceTag/${LAB_TAGS.managedBy}`]: 'cilium-lab' } },
      }),
      new iam.PolicyStatement({
        sid: 'RunShellDocument',
        actions: ['ssm:SendCommand'],
        resources: [`arn:${partition}:ssm:*::document/AWS-RunShellScript`],
      }),
      new iam.PolicyStatement({
        sid: 'FollowCommands',
        // No resource-level permissions for these actions.
        // ListCommandInvocations: the runner polls one listing per command (lib/aws/ssm-runner.ts).
        actions: ['ssm:GetCommandInvocation', 'ssm:ListCommandInvocations', 'ssm:CancelCommand', 'ssm:DescribeInstanceInformation'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ExpirySchedules',
        actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
        resources: [`arn:${partition}:scheduler:*:${account}:schedule/${EXPIRY_SCHEDULE_GROUP}/${expiryScheduleName('*')}`],
      }),
      new iam.PolicyStatement({
        sid: 'PassExpiryRoles',
        // UpdateSchedule re-states the target, whose role must be passed.
        actions: ['iam:PassRole'],
        resources: [`arn:${partition}:iam::${account}:role${EXPIRY_ROLE_PATH}*`],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
      new iam.PolicyStatement({ sid: 'FindTaggedResources', actions: ['tag:GetResources'], resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'CheckLogGroupsGone',
        // lab down / sweep: a log group the tagging API still lists is checked with DescribeLogGroups.
        actions: ['logs:DescribeLogGroups'],
        resources: [`arn:${partition}:logs:*:${account}:log-group:*`],
      }),
      new iam.PolicyStatement({
        sid: 'CheckQueuesGone',
        // lab down / sweep: the expiry's dead-letter queue the tagging API still lists is checked with GetQueueUrl.
        actions: ['sqs:GetQueueUrl'],
        resources: [`arn:${partition}:sqs:*:${account}:*`],
      }),
      new iam.PolicyStatement({
        sid: 'CheckFunctionsGone',
        // lab down / sweep: a Lambda function the tagging API still lists (the artifacts bucket's
        // auto-delete provider) is checked with GetFunction.
        actions: ['lambda:GetFunction'],
        resources: [`arn:${partition}:lambda:*:${account}:function:*`],
      }),
      new iam.PolicyStatement({
        sid: 'ListLabArtifacts',
        // lab logs: list what the nodes uploaded to the lab's artifacts bucket.
        actions: ['s3:ListBucket'],
        resources: [`arn:${partition}:s3:::${ARTIFACTS_BUCKET_PREFIX}*`],
        // Bucket names are global: only this account's (a look-alike bucket elsewhere gets nothing).
        conditions: { StringEquals: { 's3:ResourceAccount': account } },
      }),
      new iam.PolicyStatement({
        sid: 'MoveLabArtifacts',
        // lab logs: the nodes PUT through URLs this role presigns, the CLI downloads and deletes.
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        resources: [`arn:${partition}:s3:::${ARTIFACTS_BUCKET_PREFIX}*/${ARTIFACTS_KEY_ROOT}*`],
        conditions: { StringEquals: { 's3:ResourceAccount': account } },
      }),
    ];
    const policy = new iam.Policy(this, 'NightlyPolicy', { statements, roles: [this.role] });
    this.acknowledgeWildcards(policy, qualifier);

    new CfnOutput(this, 'RoleArn', {
      value: this.role.roleArn,
      description: 'Set as the repository variable AWS_ROLE_ARN (role-to-assume of the nightly workflow)',
    });
    new CfnOutput(this, 'OidcProviderArn', {
      value: provider.oidcProviderArn,
      description: `The account's GitHub OIDC provider (pass it as -c ${CI_CONTEXT.oidcProviderArn}=... to another stack instead of creating a second one)`,
    });
  }

  private acknowledgeWildcards(policy: iam.Policy, qualifier: string): void {
    const reasons: [string, string][] = [
      [
        `Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cdk-${qualifier}-*`,
        'cdk deploy/destroy assume the CDK bootstrap roles (deploy, file-publishing, lookup), whose names end in the account and region; the prefix pins them to this bootstrap qualifier.',
      ],
      [
        'Resource::arn:<AWS::Partition>:cloudformation:*:<AWS::AccountId>:stack/*/*',
        'Stacks are named after labName, chosen per run (nightly-<run id>); DescribeStacks is read-only and the lab CLI finds a lab from its outputs.',
      ],
      [
        'Resource::arn:<AWS::Partition>:ec2:*:<AWS::AccountId>:network-interface/*',
        'lab down deletes the ENIs Kubernetes or Cilium left in a lab VPC; their ids are not known in advance and Cilium-created ones carry no lab tag.',
      ],
      [
        'Resource::arn:<AWS::Partition>:ec2:*:<AWS::AccountId>:security-group/*',
        'lab down deletes security groups left in a lab VPC outside CloudFormation; their ids are not known in advance.',
      ],
      ['Action::ec2:Describe*', 'Read-only: the lab CLI describes instances, instance types, ENIs and security groups; EC2 Describe actions have no resource-level permissions.'],
      ['Resource::*', 'ec2:Describe*, tag:GetResources, ssm:GetCommandInvocation, ssm:ListCommandInvocations, ssm:CancelCommand and ssm:DescribeInstanceInformation support no resource-level permissions (AWS Service Authorization Reference).'],
      [
        'Resource::arn:<AWS::Partition>:ec2:*:<AWS::AccountId>:instance/*',
        'SendCommand is limited by the condition ssm:resourceTag/cilium-lab:managed-by=cilium-lab to the instances of cilium-lab labs, whose ids change every deploy.',
      ],
      [
        'Resource::arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:*',
        'Read-only: after a delete, lab down asks CloudWatch Logs whether a log group the tagging API still lists is gone (DescribeLogGroups takes a name prefix, not a name).',
      ],
      [
        'Resource::arn:<AWS::Partition>:sqs:*:<AWS::AccountId>:*',
        "Read-only: after a delete, lab down asks SQS whether the expiry's dead-letter queue the tagging API still lists is gone; CDK names it with a generated suffix, per lab and region.",
      ],
      [
        'Resource::arn:<AWS::Partition>:lambda:*:<AWS::AccountId>:function:*',
        "Read-only: after a delete, lab down asks Lambda whether a function the tagging API still lists is gone; CDK names the lab's auto-delete function with a generated suffix, per lab and region.",
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${ARTIFACTS_BUCKET_PREFIX}*`,
        'The artifacts buckets of cilium-lab labs, named cilium-lab-<labName>-<account>-<region>; labName is chosen per run. ListBucket only.',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${ARTIFACTS_BUCKET_PREFIX}*/${ARTIFACTS_KEY_ROOT}*`,
        'Only the logs/ prefix of the lab artifacts buckets: lab logs presigns uploads there, downloads and deletes them.',
      ],
      ['Resource::arn:<AWS::Partition>:ssm:*::document/AWS-RunShellScript', 'The one AWS-owned document the lab CLI runs; the region wildcard is because labs deploy to any region.'],
      [
        `Resource::arn:<AWS::Partition>:scheduler:*:<AWS::AccountId>:schedule/${EXPIRY_SCHEDULE_GROUP}/${expiryScheduleName('*')}`,
        'Only the expiry schedules of cilium-lab labs (named cilium-lab-<labName>-expiry), to read and move them (lab extend).',
      ],
      [
        `Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role${EXPIRY_ROLE_PATH}*`,
        'UpdateSchedule passes the schedule role again; only roles under the /cilium-lab/ path, and only to scheduler.amazonaws.com (iam:PassedToService).',
      ],
    ];
    for (const [finding, reason] of reasons) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}
