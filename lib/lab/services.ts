/**
 * What the `lab` commands need from the cloud, as interfaces. lib/aws implements them with the
 * AWS SDK (the only place that imports it); tests hand in fakes.
 */
import type { RemoteRunner } from '../aws/ssm-runner.js';

export interface LabServices {
  /** OutputKey -> OutputValue of a stack; LabNotFoundError when there is no such stack. */
  stackOutputs(stackName: string): Promise<Record<string, string>>;
  /** Runs scripts on nodes over SSM Run Command. */
  readonly remote: RemoteRunner;
}
