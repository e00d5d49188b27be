/**
 * Readiness: `cdk deploy` returns only when every instance has signalled. A CloudFormation wait
 * condition (not a CreationPolicy) because its signal carries a Reason: a failing node reports
 * the last lines of its bootstrap log, and the deploy fails with the node's own words.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-waitcondition.html
 */
import { CfnWaitCondition, CfnWaitConditionHandle, Duration, type CfnResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface NodeReadinessProps {
  /** How many instances signal. */
  readonly count: number;
  /** How long CloudFormation waits for all of them (at most 12 hours). */
  readonly timeout: Duration;
}

export class NodeReadiness extends Construct {
  /** The presigned URL the instances PUT their signal to (an opaque CloudFormation token). */
  readonly signalUrl: string;
  private readonly waitCondition: CfnWaitCondition;

  constructor(scope: Construct, id: string, props: NodeReadinessProps) {
    super(scope, id);
    const handle = new CfnWaitConditionHandle(this, 'Handle');
    this.signalUrl = handle.ref;
    this.waitCondition = new CfnWaitCondition(this, 'AllNodesJoined', {
      handle: handle.ref,
      count: props.count,
      timeout: String(props.timeout.toSeconds()),
    });
  }

  /** The wait starts once these resources exist (their signals cannot arrive before). */
  waitFor(...resources: CfnResource[]): void {
    for (const resource of resources) {
      this.waitCondition.addResourceDependency(resource, 'its instances signal this wait condition');
    }
  }
}
