/**
 * Builds the lab into a CDK App: config parsed once from the app's context, cdk-nag
 * AwsSolutions registered as a validation plugin (cdk-nag 3: Validations, not Aspects).
 * Shared by bin/cilium-lab.ts and the tests, so tests synthesise exactly what users deploy.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadLabConfig, type ConfigSources } from '../config/load.js';
import { planLab, type LabPlan } from '../config/plan.js';
import { LabStack } from './lab-stack.js';
import { readNodeScripts, type NodeScripts } from './node-user-data.js';

export interface BuiltLab {
  readonly plan: LabPlan;
  readonly stack: LabStack;
}

export function buildLabApp(
  app: App,
  options: { readonly readFile?: ConfigSources['readFile']; readonly nodeScripts?: NodeScripts } = {},
): BuiltLab {
  const config = loadLabConfig({ context: app.node.getAllContext(), readFile: options.readFile });
  const plan = planLab(config);
  const stack = new LabStack(app, plan.stackName, {
    plan,
    nodeScripts: options.nodeScripts ?? readNodeScripts(),
    env: config.region ? { region: config.region } : undefined,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { plan, stack };
}
