/**
 * CiliumLabCiAccess: synthesised only when asked (`-c ci.githubRepo=owner/repo`); a role that
 * only one repository's workflow on one branch can assume, with only the nightly's permissions;
 * cdk-nag clean with every wildcard acknowledged for a reason; bad or missing input refused.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LabConfigError } from '../../lib/config/load.js';
import { buildLabApp } from '../../lib/infra/app.js';
import { CI_ACCESS_STACK_NAME, ciAccessSettings, type CiAccessStack } from '../../lib/infra/ci-access-stack.js';
import { resourcesOfType } from '../helpers/synth.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

function synthCi(context: Record<string, unknown>, outdir?: string) {
  const app = new App({ ...(outdir ? { outdir } : {}), context: { ...cdkJson.context, ...context } });
  const built = buildLabApp(app);
  const ciStack = built.ciStack as CiAccessStack;
  const json = ciStack ? Template.fromStack(ciStack).toJSON() : {};
  return { app, ciStack, json, built };
}

const trustOf = (json: Record<string, any>) => {
  const [, role] = resourcesOfType(json, 'AWS::IAM::Role')[0] as [string, any];
  return role.Properties.AssumeRolePolicyDocument.Statement;
};
const statementsOf = (json: Record<string, any>) => resourcesOfType(json, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
const joined = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : ((value as any)['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : `<${(p as any).Ref}>`)).join('');

describe('when the CI stack is not asked for', () => {
  it('synthesises the lab stack alone (the default `cdk synth` is unchanged)', () => {
    const { app, built } = synthCi({});
    expect(built.ciStack).toBeUndefined();
    expect(app.synth().stacks.map((s) => s.stackName)).toEqual(['cilium-lab']);
  });
});

describe('CiliumLabCiAccess for octo-org/cilium-lab', () => {
  const { ciStack, json } = synthCi({ 'ci.githubRepo': 'octo-org/cilium-lab' });

  it('is its own stack, named CiliumLabCiAccess', () => {
    expect(ciStack.stackName).toBe(CI_ACCESS_STACK_NAME);
  });

  it('creates the GitHub OIDC provider with the STS audience', () => {
    expect(resourcesOfType(json, 'AWS::IAM::OIDCProvider').map(([, p]) => p.Properties)).toEqual([
      expect.objectContaining({ Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] }),
    ]);
  });

  it('trusts only web identities of that provider with aud=sts.amazonaws.com and the exact repo and branch', () => {
    const trust = trustOf(json);
    expect(trust).toEqual([
      {
        Action: 'sts:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
        Principal: { Federated: { Ref: expect.stringMatching(/^GitHubOidc/) } },
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': 'repo:octo-org/cilium-lab:ref:refs/heads/main',
          },
        },
      },
    ]);
  });

  it('has no wildcard subject and no StringLike condition anywhere in the trust', () => {
    const text = JSON.stringify(trustOf(json));
    expect(text).not.toMatch(/StringLike|ForAnyValue/);
    const sub = trustOf(json)[0].Condition.StringEquals['token.actions.githubusercontent.com:sub'];
    expect(sub).not.toMatch(/[*?]/);
  });

  it('grants only what the nightly workflow uses', () => {
    const actions = statementsOf(json).flatMap((s: any) => [s.Action].flat()).sort();
    expect(actions).toEqual(
      [
        'cloudformation:DeleteStack',
        'cloudformation:DescribeStackEvents',
        'cloudformation:DescribeStacks',
        'cloudformation:ListStackResources',
        'ec2:DeleteNetworkInterface',
        'ec2:DeleteSecurityGroup',
        'ec2:Describe*',
        'ec2:DetachNetworkInterface',
        'ec2:StartInstances',
        'ec2:StopInstances',
        'iam:PassRole',
        'lambda:GetFunction',
        'logs:DescribeLogGroups',
        's3:DeleteObject',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        'scheduler:GetSchedule',
        'scheduler:UpdateSchedule',
        'ssm:CancelCommand',
        'ssm:DescribeInstanceInformation',
        'ssm:GetCommandInvocation',
        'ssm:ListCommandInvocations',
        'ssm:SendCommand',
        'ssm:SendCommand',
        'sqs:GetQueueUrl',
        'sts:AssumeRole',
        'tag:GetResources',
      ].sort(),
    );
    expect(actions.filter((a: string) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });

  it('stops and starts only instances tagged as cilium-lab labs', () => {
    const statement = statementsOf(json).find((s: any) => [s.Action].flat().includes('ec2:StopInstances'));
    expect(statement.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/cilium-lab:managed-by': 'cilium-lab' } });
  });

  it('deletes only stacks tagged as labs (kind=lab and a lab tag): never this stack, whose kind is ci-access', () => {
    const statement = statementsOf(json).find((s: any) => [s.Action].flat().includes('cloudformation:DeleteStack'));
    expect(statement.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/cilium-lab:managed-by': 'cilium-lab', 'aws:ResourceTag/cilium-lab:kind': 'lab' },
      Null: { 'aws:ResourceTag/cilium-lab:lab': 'false' },
    });
    const stackTags = Object.fromEntries(ciStack.tags.renderTags()?.map((t: { Key: string; Value: string }) => [t.Key, t.Value]) ?? []);
    expect(stackTags).toEqual({ 'cilium-lab:managed-by': 'cilium-lab', 'cilium-lab:kind': 'ci-access' });
  });

  it('has termination protection (no DeleteStack takes it until someone turns it off on purpose)', () => {
    expect(ciStack.terminationProtection).toBe(true);
  });

  it('assumes only the CDK bootstrap roles', () => {
    const assume = statementsOf(json).find((s: any) => s.Action === 'sts:AssumeRole');
    expect(joined(assume.Resource)).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cdk-hnb659fds-*');
  });

  it("sends commands only to instances tagged cilium-lab:managed-by=cilium-lab, with AWS-RunShellScript", () => {
    const send = statementsOf(json).filter((s: any) => s.Action === 'ssm:SendCommand');
    const onInstances = send.find((s: any) => joined(s.Resource).includes(':instance/'));
    expect(onInstances.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/cilium-lab:managed-by': 'cilium-lab' } });
    const onDocument = send.find((s: any) => joined(s.Resource).includes(':document/'));
    expect(joined(onDocument.Resource)).toBe('arn:<AWS::Partition>:ssm:*::document/AWS-RunShellScript');
  });

  it('reads and moves only cilium-lab expiry schedules, passing only /cilium-lab/ roles to Scheduler', () => {
    const schedules = statementsOf(json).find((s: any) => [s.Action].flat().includes('scheduler:UpdateSchedule'));
    expect(joined(schedules.Resource)).toBe('arn:<AWS::Partition>:scheduler:*:<AWS::AccountId>:schedule/default/cilium-lab-*-expiry');
    const pass = statementsOf(json).find((s: any) => s.Action === 'iam:PassRole');
    expect(joined(pass.Resource)).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cilium-lab/*');
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  });

  it('lists, reads, writes and deletes only the logs/ prefix of cilium-lab artifacts buckets (lab logs)', () => {
    const list = statementsOf(json).find((s: any) => s.Action === 's3:ListBucket');
    expect(joined(list.Resource)).toBe('arn:<AWS::Partition>:s3:::cilium-lab-*');
    const move = statementsOf(json).find((s: any) => [s.Action].flat().includes('s3:GetObject'));
    expect([move.Action].flat().sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    expect(joined(move.Resource)).toBe('arn:<AWS::Partition>:s3:::cilium-lab-*/logs/*');
    for (const statement of [list, move]) expect(statement.Condition).toEqual({ StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } });
  });

  it("checks whether Lambda functions are gone only in this account, read-only (lab down's leftover check)", () => {
    const get = statementsOf(json).find((s: any) => [s.Action].flat().includes('lambda:GetFunction'));
    expect([get.Action].flat()).toEqual(['lambda:GetFunction']);
    expect(joined(get.Resource)).toBe('arn:<AWS::Partition>:lambda:*:<AWS::AccountId>:function:*');
  });

  it('outputs the role ARN for the repository variable', () => {
    expect(json.Outputs.RoleArn.Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^NightlyRole/), 'Arn'] });
  });

  it('passes cdk-nag AwsSolutions with nothing unacknowledged', () => {
    expect(new AwsSolutionsChecks().validateScope(ciStack).violations).toEqual([]);
  });

  it('acknowledges exactly the IAM5 wildcard findings there are, each with a reason', () => {
    const raw = new AwsSolutionsChecks();
    (raw as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
    const findings = raw.validateScope(ciStack).violations.map((v) => v.ruleName).sort();
    expect(findings.every((f) => f.startsWith('AwsSolutions-IAM5['))).toBe(true);
    expect(findings).toContain('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cdk-hnb659fds-*]');
    const acknowledged = ciStack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.entries(m.data as Record<string, string>)));
    expect(acknowledged.map(([id]) => id.replace(/^annotation::/i, '')).sort()).toEqual(findings);
    for (const [, reason] of acknowledged) expect(reason.length).toBeGreaterThan(40);
  });

  it('synthesises with no CloudFormation schema violation', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cilium-lab-ci-'));
    const { app } = synthCi({ 'ci.githubRepo': 'octo-org/cilium-lab' }, outdir);
    expect(() => app.synth()).not.toThrow();
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    const cfn = report.pluginReports.find((p: any) => p.pluginName === 'CloudFormation Validate');
    expect([cfn.conclusion, cfn.violations]).toEqual(['success', []]);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(synthCi({ 'ci.githubRepo': 'octo-org/cilium-lab' }).json)).toBe(JSON.stringify(json));
  });
});

describe('CI access options', () => {
  it('pins another branch', () => {
    const { json } = synthCi({ 'ci.githubRepo': 'octo-org/cilium-lab', 'ci.branch': 'release/1.x' });
    expect(trustOf(json)[0].Condition.StringEquals['token.actions.githubusercontent.com:sub']).toBe('repo:octo-org/cilium-lab:ref:refs/heads/release/1.x');
  });

  it("imports the account's existing provider instead of creating a second one", () => {
    const arn = 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com';
    const { json } = synthCi({ 'ci.githubRepo': 'octo-org/cilium-lab', 'ci.oidcProviderArn': arn });
    expect(resourcesOfType(json, 'AWS::IAM::OIDCProvider')).toEqual([]);
    expect(trustOf(json)[0].Principal).toEqual({ Federated: arn });
  });

  it('does not pass ci.* keys to the lab config (the lab stack is the same)', () => {
    const plain = Template.fromStack(synthCi({}).built.stack).toJSON();
    const withCi = Template.fromStack(synthCi({ 'ci.githubRepo': 'octo-org/cilium-lab' }).built.stack).toJSON();
    expect(JSON.stringify(withCi)).toBe(JSON.stringify(plain));
  });
});

describe('refused CI input', () => {
  const problems = (context: Record<string, unknown>): string[] => {
    try {
      ciAccessSettings(context);
    } catch (error) {
      if (error instanceof LabConfigError) return [...error.problems];
      throw error;
    }
    return [];
  };

  it('refuses a CI request without ci.githubRepo, naming the key', () => {
    const found = problems({ 'ci.branch': 'main' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^ci\.githubRepo: required for the CiliumLabCiAccess stack .*-c ci\.githubRepo=owner\/repo/);
    expect(() => synthCi({ 'ci.oidcProviderArn': 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' })).toThrow(/ci\.githubRepo: required/);
  });

  it.each([
    [{ 'ci.githubRepo': 'octo-org/*' }, /ci\.githubRepo: "octo-org\/\*" is not a GitHub owner\/repo/],
    [{ 'ci.githubRepo': 'cilium-lab' }, /ci\.githubRepo: "cilium-lab" is not a GitHub owner\/repo/],
    [{ 'ci.githubRepo': '' }, /ci\.githubRepo: must be a non-empty string/],
    [{ 'ci.githubRepo': 'octo-org/cilium-lab', 'ci.branch': '*' }, /ci\.branch: "\*" is not a branch name/],
    [{ 'ci.githubRepo': 'octo-org/cilium-lab', 'ci.branch': 'refs/heads/main' }, /ci\.branch: "refs\/heads\/main"/],
    [{ 'ci.githubRepo': 'octo-org/cilium-lab', 'ci.oidcProviderArn': 'arn:aws:iam::111122223333:oidc-provider/example.com' }, /ci\.oidcProviderArn: .* is not the ARN of a GitHub OIDC provider/],
    [{ 'ci.githubRepo': 'octo-org/cilium-lab', 'ci.repo': 'x' }, /ci\.repo: not a CI access setting/],
  ])('refuses %j', (context, message) => {
    expect(problems(context).join('\n')).toMatch(message);
  });
});
