/**
 * Synthesises the lab the way `npx cdk synth` does: the same app builder, the same cdk.json
 * feature flags (CloudFormation schema validation included), plus the test's context.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildLabApp, type BuiltLab } from '../../lib/infra/app.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

export interface SynthesisedLab extends BuiltLab {
  readonly app: App;
  readonly template: Template;
  /** The raw template JSON. */
  readonly json: Record<string, any>;
}

export function synthLab(context: Record<string, unknown> = {}, readFile?: (path: string) => string): SynthesisedLab {
  const app = new App({ context: { ...cdkJson.context, ...context } });
  const built = buildLabApp(app, { readFile });
  const template = Template.fromStack(built.stack);
  return { ...built, app, template, json: template.toJSON() };
}

/** Resources of one type as [logicalId, resource] pairs. */
export function resourcesOfType(json: Record<string, any>, type: string): [string, any][] {
  return Object.entries(json.Resources as Record<string, any>).filter(([, r]) => r.Type === type);
}

/**
 * The user data of an instance as the text EC2 would receive, with CloudFormation references
 * replaced by realistic stand-ins (so it can be linted and inspected as a script).
 */
export function userDataText(instance: any): string {
  const joined = instance.Properties.UserData['Fn::Base64'];
  const parts: unknown[] = typeof joined === 'string' ? [joined] : joined['Fn::Join'][1];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const p = part as Record<string, any>;
      if (p.Ref === 'AWS::Region') return 'ap-northeast-2';
      if (p.Ref?.startsWith('JoinSecret')) return 'arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:JoinSecret-AbCdEf';
      if (p.Ref?.startsWith('ReadinessHandle')) return 'https://cloudformation-waitcondition-ap-northeast-2.s3.amazonaws.com/arn%3Aaws%3Acloudformation/handle?X-Amz-Signature=abc';
      if (p['Fn::GetAtt']?.[1] === 'PublicIp') return '203.0.113.10';
      throw new Error(`unexpected reference in user data: ${JSON.stringify(part)}`);
    })
    .join('');
}
