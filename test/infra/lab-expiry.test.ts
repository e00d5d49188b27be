/**
 * Auto-expiry: with expiresAt, a one-time EventBridge Scheduler schedule deletes exactly this
 * stack through the universal target, with a role that may do nothing else; without it, nothing.
 * The time comes from the input, so synth stays deterministic whatever the clock says.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EXPIRY_ROLE_PATH, expiryScheduleName, schedulerAtExpression } from '../../lib/config/expiry.js';
import { LabConfigError, loadLabConfig } from '../../lib/config/load.js';
import { OUTPUTS } from '../../lib/config/outputs.js';
import { buildLabApp } from '../../lib/infra/app.js';
import { EXPIRY_CLOCK_TYPE } from '../../lib/infra/lab-expiry.js';
import { resourcesOfType, synthLab } from '../helpers/synth.js';

const EXPIRES_AT = '2026-11-23T22:00:00Z';

describe('a lab without expiresAt (a plain cdk deploy): the expiry clock', () => {
  const { json } = synthLab({ labName: 'kans-w8' });
  const schedules = resourcesOfType(json, 'AWS::Scheduler::Schedule');
  const clocks = resourcesOfType(json, EXPIRY_CLOCK_TYPE);
  const functions = resourcesOfType(json, 'AWS::Lambda::Function');
  const clockFunction = functions.find(([id]) => id === clocks[0]?.[1].Properties.ServiceToken['Fn::GetAtt'][0])?.[1];

  it('still has its schedule, whose time the clock works out at deploy from the TTL the template holds', () => {
    expect(schedules).toHaveLength(1);
    expect(clocks).toHaveLength(1);
    const [clockId, clock] = clocks[0] as [string, any];
    expect(clock.Properties).toMatchObject({ TtlSeconds: 4 * 3600, ScheduleName: 'cilium-lab-kans-w8-expiry', ScheduleGroup: 'default' });
    expect(schedules[0]?.[1].Properties.ScheduleExpression).toEqual({ 'Fn::GetAtt': [clockId, 'AtExpression'] });
    expect(schedules[0]?.[1].Properties.Description).toBe("cilium-lab kans-w8: delete the lab's stack 4h after its deploy");
    expect(Object.keys(json.Outputs)).toEqual(expect.arrayContaining([OUTPUTS.expirySchedule, OUTPUTS.expiryDeadLetters]));
  });

  it('runs the clock on Node 22 with the code of lib/aws/expiry-clock, allowed to read only this lab\'s schedule', () => {
    expect(clockFunction?.Properties).toMatchObject({ Runtime: 'nodejs22.x', Handler: '__entrypoint__.handler', Timeout: 60 });
    const roleId = clockFunction?.Properties.Role['Fn::GetAtt'][0];
    const statements = json.Resources[roleId].Properties.Policies[0].PolicyDocument.Statement;
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'scheduler:GetSchedule', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule/default/cilium-lab-kans-w8-expiry']] } },
    ]);
  });

  it('logs into a log group of the stack (no /aws/lambda leftover), and the function and its role carry the lab tags', () => {
    const logGroup = clockFunction?.Properties.LoggingConfig.LogGroup;
    expect(json.Resources[logGroup.Ref]).toMatchObject({ Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Delete', Properties: { RetentionInDays: 1 } });
    const roleId = clockFunction?.Properties.Role['Fn::GetAtt'][0];
    for (const resource of [clockFunction, json.Resources[roleId]]) expect(resource.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'cilium-lab:lab', Value: 'kans-w8' }]));
  });

  it.each([
    ['90m', 5400],
    ['1d', 86_400],
    ['1d2h30m', 95_400],
  ])('holds ttl=%s as %i seconds', (ttl, seconds) => {
    const { json: withTtl } = synthLab({ labName: 'kans-w8', ttl });
    expect(resourcesOfType(withTtl, EXPIRY_CLOCK_TYPE)[0]?.[1].Properties.TtlSeconds).toBe(seconds);
  });

  it('gives the clock everything else of the schedule as its own properties, tokens unresolved, so any change there re-runs it (and keeps a later lab extend)', () => {
    const clockOf = (j: Record<string, any>) => resourcesOfType(j, EXPIRY_CLOCK_TYPE)[0]?.[1].Properties;
    const scheduleOf = (j: Record<string, any>) => resourcesOfType(j, 'AWS::Scheduler::Schedule')[0]?.[1].Properties;
    const base = clockOf(json);
    // Everything of the schedule but its time, as the schedule itself carries it.
    const { ScheduleExpression, ...rest } = scheduleOf(json);
    expect(ScheduleExpression).toEqual({ 'Fn::GetAtt': [resourcesOfType(json, EXPIRY_CLOCK_TYPE)[0]?.[0], 'AtExpression'] });
    // (the custom resource keeps CDK's camelCase property names; CloudFormation's are PascalCase)
    const keysLower = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(keysLower) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.startsWith('Fn::') || k === 'Ref' ? k : k.toLowerCase(), keysLower(x)])) : v;
    expect(keysLower(base.Schedule)).toEqual(keysLower(rest));
    // The role and the dead-letter queue as references CloudFormation resolves at deploy: a replaced
    // role (a new ARN) changes the clock's properties as it changes the schedule's.
    expect(JSON.stringify(base.Schedule.target)).toMatch(/"roleArn":\{"Fn::GetAtt":\[/);
    // 4h and 240m are the same lifetime: the same template, nothing re-runs
    expect(JSON.stringify(clockOf(synthLab({ labName: 'kans-w8', ttl: '240m' }).json))).toBe(JSON.stringify(base));
    // a setting the schedule does not hold leaves it alone
    expect(JSON.stringify(clockOf(synthLab({ labName: 'kans-w8', 'workers.count': 3 }).json))).toBe(JSON.stringify(base));
    // the schedule's own properties change: the clock runs again
    expect(JSON.stringify(clockOf(synthLab({ labName: 'kans-w9' }).json).Schedule)).not.toBe(JSON.stringify(base.Schedule));
  });

  it('synthesises the same template twice (the clock is read at deploy, never at synth)', () => {
    expect(JSON.stringify(synthLab({ labName: 'kans-w8' }).json)).toBe(JSON.stringify(json));
  });
});

describe('a lab with ttl=none (on purpose)', () => {
  const { json, template } = synthLab({ ttl: 'none' });

  it('is tagged as having no expiry', () => {
    expect(json.Resources[resourcesOfType(json, 'AWS::EC2::VPC')[0]?.[0] as string].Properties.Tags).toContainEqual({ Key: 'cilium-lab:expires-at', Value: 'unset' });
  });

  it('has no schedule, no clock, no scheduler role and no ExpirySchedule output', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs(EXPIRY_CLOCK_TYPE, 0);
    const schedulerRoles = resourcesOfType(json, 'AWS::IAM::Role').filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'));
    expect(schedulerRoles).toEqual([]);
    expect(Object.keys(json.Outputs)).not.toContain(OUTPUTS.expirySchedule);
  });

  it.each(['0h', '15d', '4', 'soon', '-1h'])('refuses ttl=%s, naming the field and what to write', (ttl) => {
    expect(() => loadLabConfig({ context: { ttl } })).toThrow(/ttl.*must be a lifetime of at most 14 days such as 90m, 4h, 1d or 1h30m, or none/);
  });
});

describe('a lab with expiresAt', () => {
  const { json, stack } = synthLab({ labName: 'nightly-123', expiresAt: EXPIRES_AT });
  const schedules = resourcesOfType(json, 'AWS::Scheduler::Schedule');
  const schedule = schedules[0]?.[1];
  const roleId = schedule?.Properties.Target.RoleArn['Fn::GetAtt'][0];
  const role = json.Resources[roleId];

  it('has one one-time schedule at expiresAt, in UTC, with no flexible window', () => {
    expect(schedules).toHaveLength(1);
    expect(schedule.Properties).toMatchObject({
      Name: 'cilium-lab-nightly-123-expiry',
      GroupName: 'default',
      ScheduleExpression: 'at(2026-11-23T22:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
  });

  it("targets CloudFormation DeleteStack (universal target) with this stack's id", () => {
    expect(schedule.Properties.Target.Arn).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:scheduler:::aws-sdk:cloudformation:deleteStack' });
    expect(schedule.Properties.Target.Input).toEqual({ 'Fn::Sub': '{"StackName":"${AWS::StackId}"}' });
    // With the stack id in place, the input is the DeleteStack request.
    const input = schedule.Properties.Target.Input['Fn::Sub'].replace('${AWS::StackId}', 'arn:aws:cloudformation:ap-northeast-2:111122223333:stack/nightly-123/abc');
    expect(JSON.parse(input)).toEqual({ StackName: 'arn:aws:cloudformation:ap-northeast-2:111122223333:stack/nightly-123/abc' });
  });

  it('has no ActionAfterCompletion (not a CloudFormation property; the stack deletion removes the schedule)', () => {
    expect(schedule.Properties).not.toHaveProperty('ActionAfterCompletion');
  });

  it('uses a role only EventBridge Scheduler of this account can assume', () => {
    expect(role.Type).toBe('AWS::IAM::Role');
    expect(role.Properties.Path).toBe(EXPIRY_ROLE_PATH);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
  });

  it('lets the role call only cloudformation:DeleteStack on this stack (no iam:PassRole), and send to its own dead-letter queue', () => {
    const statements = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const queueId = resourcesOfType(json, 'AWS::SQS::Queue')[0]?.[0];
    expect(statements).toEqual([
      { Action: 'cloudformation:DeleteStack', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const attached = resourcesOfType(json, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(roleId));
    expect(attached).toEqual([]);
  });

  it('outputs the schedule name for `lab extend`', () => {
    expect(json.Outputs[OUTPUTS.expirySchedule].Value).toBe(expiryScheduleName('nightly-123'));
  });

  it('passes cdk-nag AwsSolutions; the one acknowledgement is the dead-letter queue having no dead-letter queue of its own', () => {
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    const acknowledged = stack.node
      .findChild('Expiry')
      .node.findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.keys(m.data as Record<string, string>));
    expect(acknowledged).toEqual(['Annotation::AwsSolutions-SQS3']);
  });

  it('puts an expiry Scheduler could not carry out (after 10 retries within an hour) into an encrypted, TLS-only dead-letter queue, and outputs its URL', () => {
    const [queueId, queue] = resourcesOfType(json, 'AWS::SQS::Queue')[0] as [string, any];
    expect(schedule.Properties.Target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    expect(schedule.Properties.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 });
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    const policy = resourcesOfType(json, 'AWS::SQS::QueuePolicy')[0]?.[1];
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    expect(json.Outputs[OUTPUTS.expiryDeadLetters].Value).toEqual({ Ref: queueId });
  });
});

describe('the at() expression', () => {
  it.each([
    ['2026-11-23T22:00:00Z', 'at(2026-11-23T22:00:00)'],
    ['2026-11-23T22:00:00.999Z', 'at(2026-11-23T22:00:00)'],
    ['2027-01-01T00:00:05.1Z', 'at(2027-01-01T00:00:05)'],
  ])('turns %s into %s (seconds, no zone)', (expiresAt, expression) => {
    expect(schedulerAtExpression(expiresAt)).toBe(expression);
  });

  it.each(['2026-11-23T22:00:00+09:00', 'tomorrow', '2026-11-23'])('refuses %s', (expiresAt) => {
    expect(() => schedulerAtExpression(expiresAt)).toThrow(/expiresAt/);
  });

  it.each(['2026-11-23T22:00:00+09:00', '2026-11-23T22:00Z', '2026-02-30T00:00:00Z', '2026-11-23 22:00:00'])('is never reached with %s: LabConfig refuses it first', (expiresAt) => {
    expect(() => loadLabConfig({ context: { expiresAt } })).toThrow(LabConfigError);
  });
});

describe('deterministic expiry', () => {
  const context = { labName: 'nightly-123', expiresAt: EXPIRES_AT };

  afterEach(() => {
    jest.useRealTimers();
  });

  it('gives byte-identical templates for the same expiresAt, whatever the clock says', () => {
    const first = JSON.stringify(synthLab(context).json);
    jest.useFakeTimers({ now: new Date('2031-05-05T05:05:05Z'), doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask'] });
    expect(new Date().getUTCFullYear()).toBe(2031);
    expect(JSON.stringify(synthLab(context).json)).toBe(first);
  });

  it('moves the schedule when expiresAt changes (the comparison can fail)', () => {
    const later = synthLab({ ...context, expiresAt: '2026-11-24T01:00:00Z' }).json;
    const [, schedule] = resourcesOfType(later, 'AWS::Scheduler::Schedule')[0] as [string, any];
    expect(schedule.Properties.ScheduleExpression).toBe('at(2026-11-24T01:00:00)');
  });
});

describe('CloudFormation schema validation of the schedule', () => {
  const synthReport = (mutate?: (app: App) => void) => {
    const outdir = mkdtempSync(join(tmpdir(), 'cilium-lab-expiry-'));
    const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
    const app = new App({ outdir, context: { ...cdkJson.context, expiresAt: EXPIRES_AT } });
    buildLabApp(app);
    mutate?.(app);
    let error: unknown;
    try {
      app.synth();
    } catch (e) {
      error = e;
    }
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    return { error, cfn: report.pluginReports.find((p: any) => p.pluginName === 'CloudFormation Validate') };
  };

  it('is clean', () => {
    const { error, cfn } = synthReport();
    expect(error).toBeUndefined();
    expect([cfn.conclusion, cfn.violations]).toEqual(['success', []]);
  });

  it('would refuse ActionAfterCompletion (why the schedule has none)', () => {
    const { error, cfn } = synthReport((app) => {
      const schedule = app.node.findAll().find((c) => c.node.path.endsWith('Expiry/Schedule')) as any;
      schedule.addPropertyOverride('ActionAfterCompletion', 'DELETE');
    });
    expect(error).toBeDefined();
    expect(JSON.stringify(cfn.violations)).toContain('ActionAfterCompletion');
  });
});
