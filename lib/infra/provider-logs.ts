/**
 * Logs of a CDK CustomResourceProvider's function, kept inside the lab's stack. Left alone, Lambda
 * creates `/aws/lambda/<function>` on the first invocation, outside the stack, and nobody deletes
 * it: a leftover of every lab. Instead the function logs into a log group of this stack
 * (LoggingConfig.LogGroup, one day's retention, deleted with the stack). The log group references
 * nothing and the function references it, so CloudFormation deletes it after the function:
 * nothing can write to it afterwards. CDK's Tags aspect does not reach the provider's raw
 * resources (CfnResource), so the lab tags go on the function and its role here.
 */
import { RemovalPolicy, aws_logs as logs, type CfnResource } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';

export function keepProviderLogsInStack(scope: Construct, id: string, provider: IConstruct | undefined, tags: Readonly<Record<string, string>>): logs.LogGroup {
  const handler = provider?.node.tryFindChild('Handler') as CfnResource | undefined;
  if (!handler) throw new Error(`cilium-lab: ${provider?.node.path ?? id}: aws-cdk-lib no longer names a CustomResourceProvider's function Handler; keepProviderLogsInStack must find it another way`);
  const group = new logs.LogGroup(scope, id, { retention: logs.RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY });
  handler.addPropertyOverride('LoggingConfig', { LogFormat: 'Text', LogGroup: group.logGroupName });
  const tagList = Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Key, Value]) => ({ Key, Value }));
  const role = provider?.node.tryFindChild('Role') as CfnResource | undefined;
  for (const resource of [handler, role]) resource?.addPropertyOverride('Tags', tagList);
  return group;
}
