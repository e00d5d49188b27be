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

import { unpackUserData, userDataText } from '../../lib/infra/user-data-text.js';

/** The user data of an instance as EC2 receives it (packed), references replaced by stand-ins of their real length. */
export const packedUserData = (instance: any): string => userDataText(instance);

/** The script the instance runs: its user data unpacked. */
export const userDataScript = (instance: any): string => unpackUserData(userDataText(instance));
