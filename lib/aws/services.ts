/**
 * The real LabServices: SDK clients for CloudFormation (stack outputs), EC2 (facts), SSM
 * (Run Command, agent status) and S3 (the artifact store of `lab logs`), in the lab's region or,
 * when the config names none, the region of the SDK's default chain (AWS_REGION, the profile).
 * Credentials come from the default chain. Clients are created here and nowhere else in the CLI.
 */
import { CloudFormationClient, DescribeStacksCommand, type CloudFormationClientConfig } from '@aws-sdk/client-cloudformation';
import type { LabConfig } from '../config/schema.js';
import type { LabServices } from '../lab/services.js';
import { LabNotFoundError } from '../lab/target.js';
import { S3ArtifactStore, createS3Client } from './artifact-store.js';
import { Ec2FactsAdapter, createEc2Client } from './ec2-facts.js';
import {
  AgentsNotOnlineError,
  SsmRunner,
  createSsmClient,
  waitForAgentsOnline,
  type NodeRunResult,
  type RemoteRunner,
  type RemoteTarget,
  type RetryOptions,
  type RunOptions,
} from './ssm-runner.js';

export interface AwsServicesOptions {
  /** Endpoints per service (tests point them at loopback fakes). @default the SDK's */
  readonly endpoints?: { readonly ssm?: string; readonly ec2?: string; readonly cloudformation?: string; readonly s3?: string };
  /** @default the SDK's default credential chain */
  readonly credentials?: CloudFormationClientConfig['credentials'];
  /** SDK attempts per call. @default the SDK's (3) */
  readonly maxAttempts?: number;
  /** Pause between two polls of a remote run or of the agents' status. @default 1000 ms / 5000 ms */
  readonly pollIntervalMs?: number;
  /** Backoff of the remote runner's retries. @default the runner's (200 ms .. 5 s) */
  readonly retry?: RetryOptions;
}

/** CloudFormation states in which a stack has no usable lab (being created, failed, rolled back, deleted). */
const UNUSABLE_STACK_STATUSES: ReadonlySet<string> = new Set([
  'CREATE_IN_PROGRESS',
  'CREATE_FAILED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_FAILED',
  'ROLLBACK_COMPLETE',
  'DELETE_IN_PROGRESS',
  'DELETE_FAILED',
  'DELETE_COMPLETE',
  'REVIEW_IN_PROGRESS',
]);

/** Reads a stack's outputs; "does not exist" and unusable states become LabNotFoundError. */
export async function readStackOutputs(cfn: CloudFormationClient, stackName: string, region: string | undefined): Promise<Record<string, string>> {
  const where = region ? ` in ${region}` : ' in the default region';
  let stack;
  try {
    stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'ValidationError' && /does not exist/i.test(e.message ?? '')) {
      throw new LabNotFoundError(`there is no stack ${stackName}${where}: deploy with npx cdk deploy (or pass -c labName=... / -c region=... of the lab you deployed)`);
    }
    if (/region is missing/i.test(e.message ?? '')) {
      throw new Error('no AWS region: pass -c region=<the lab region>, or set AWS_REGION or a region in your AWS profile', { cause: error });
    }
    if (e.name === 'CredentialsProviderError') {
      throw new Error(`no AWS credentials (${e.message ?? ''}): configure them as for cdk deploy (aws configure, AWS_PROFILE, or SSO login)`, { cause: error });
    }
    throw error;
  }
  if (!stack) {
    throw new LabNotFoundError(`there is no stack ${stackName}${where}: deploy with npx cdk deploy`);
  }
  const status = stack.StackStatus ?? 'unknown';
  if (UNUSABLE_STACK_STATUSES.has(status)) {
    const fix = status.endsWith('IN_PROGRESS')
      ? 'wait for it to finish'
      : status === 'DELETE_FAILED'
        ? // The expiry (or a delete) ran and stopped on something outside the stack (ENIs, security groups).
          `its deletion stopped on something outside the stack: npm run lab -- down -c labName=${stackName} --yes finishes it`
        : 'look at its events in the CloudFormation console, then deploy again with npx cdk deploy';
    throw new LabNotFoundError(`stack ${stackName}${where} is ${status}, so there is no lab to work on: ${fix}`);
  }
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey && output.OutputValue !== undefined) outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}

/** A RemoteRunner that fills in this process's poll interval and retry backoff where a call sets none. */
function withRunDefaults(runner: RemoteRunner, defaults: Pick<RunOptions, 'pollIntervalMs' | 'retry'>): RemoteRunner {
  return {
    runOnNodes: (targets: readonly RemoteTarget[], script: string, options: RunOptions): Promise<NodeRunResult[]> =>
      runner.runOnNodes(targets, script, {
        ...options,
        ...(options.pollIntervalMs === undefined && defaults.pollIntervalMs !== undefined ? { pollIntervalMs: defaults.pollIntervalMs } : {}),
        ...(options.retry === undefined && defaults.retry !== undefined ? { retry: defaults.retry } : {}),
      }),
  };
}

/** The LabServices of a lab, on real AWS (or on the endpoints given). Creating it makes no call. */
export function createAwsServices(config: Pick<LabConfig, 'region'>, options: AwsServicesOptions = {}): LabServices {
  const common = {
    ...(config.region ? { region: config.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  };
  const endpoints = options.endpoints ?? {};
  const ssm = createSsmClient({ ...common, ...(endpoints.ssm ? { endpoint: endpoints.ssm } : {}) });
  const ec2 = createEc2Client({ ...common, ...(endpoints.ec2 ? { endpoint: endpoints.ec2 } : {}) });
  const cfn = new CloudFormationClient({ ...common, ...(endpoints.cloudformation ? { endpoint: endpoints.cloudformation } : {}) });
  // With an endpoint, createS3Client puts the bucket in the path (forcePathStyle).
  const s3 = createS3Client({ ...common, ...(endpoints.s3 ? { endpoint: endpoints.s3 } : {}) });
  const runDefaults = {
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  };
  return {
    stackOutputs: (stackName) => readStackOutputs(cfn, stackName, config.region),
    remote: withRunDefaults(new SsmRunner(ssm), runDefaults),
    ec2: new Ec2FactsAdapter(ec2),
    artifacts: new S3ArtifactStore(s3),
    agentsNotOnline: async (instanceIds, deadline) => {
      try {
        await waitForAgentsOnline(ssm, instanceIds, deadline, runDefaults);
        return {};
      } catch (error) {
        if (error instanceof AgentsNotOnlineError) return { ...error.notOnline };
        throw error;
      }
    },
  };
}
