/**
 * Builds the lab into a CDK App: config parsed once from the app's context, cdk-nag
 * AwsSolutions registered as a validation plugin (cdk-nag 3: Validations, not Aspects).
 * Shared by bin/cilium-lab.ts and the tests, so tests synthesise exactly what users deploy.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadLabConfig, type ConfigSources } from '../config/load.js';
import { planLab, type LabPlan } from '../config/plan.js';
import { CI_ACCESS_STACK_NAME, CiAccessStack, ciAccessSettings, labContext } from './ci-access-stack.js';
import { LabStack } from './lab-stack.js';
import { readNodeScripts, type NodeScripts } from './node-user-data.js';

export interface BuiltLab {
  readonly plan: LabPlan;
  readonly stack: LabStack;
  /** Only when asked for with `-c ci.githubRepo=owner/repo`. */
  readonly ciStack?: CiAccessStack;
}

export function buildLabApp(
  app: App,
  options: { readonly readFile?: ConfigSources['readFile']; readonly nodeScripts?: NodeScripts } = {},
): BuiltLab {
  const context = app.node.getAllContext();
  const config = loadLabConfig({ context: labContext(context), readFile: options.readFile });
  const ci = ciAccessSettings(context);
  const plan = planLab(config);
  const stack = new LabStack(app, plan.stackName, {
    plan,
    nodeScripts: options.nodeScripts ?? readNodeScripts(),
    env: config.region ? { region: config.region } : undefined,
  });
  const ciStack = ci ? new CiAccessStack(app, CI_ACCESS_STACK_NAME, { settings: ci }) : undefined;
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { plan, stack, ...(ciStack ? { ciStack } : {}) };
}
