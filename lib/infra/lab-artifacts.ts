/**
 * The lab's artifacts bucket: where `lab logs` has every node upload its logs (and the control
 * plane a Cilium sysdump) when a run fails. SSM Run Command returns only the first 24,000
 * characters of a command's output, far less than a sysdump, so the files travel through S3:
 * the CLI presigns one PUT per file, the node uploads with curl, the CLI downloads, checks the
 * sha256 and deletes the objects. Nodes get no S3 permission of their own.
 *
 * It must never keep the lab from going away:
 *   - objects expire after a day (a crashed `lab logs` strands nothing for long);
 *   - autoDeleteObjects empties the bucket when the stack is deleted, whoever deletes it
 *     (`lab down`, `cdk destroy`, or the expiry schedule, which only calls DeleteStack);
 *   - the Lambda function behind autoDeleteObjects logs into a log group of this stack
 *     (LoggingConfig.LogGroup), not into the one Lambda would create on first invocation and
 *     nobody would delete. The log group references nothing and the function references it, so
 *     CloudFormation deletes it after the function: nothing can write to it afterwards.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type aws_logs as logs, aws_s3 as s3, type CfnResource } from 'aws-cdk-lib';
import { keepProviderLogsInStack } from './provider-logs.js';
import { Construct } from 'constructs';
import { ARTIFACTS_OBJECT_EXPIRY_DAYS, artifactsBucketName } from '../config/artifacts.js';
import { OUTPUTS } from '../config/outputs.js';

/** The construct id CDK gives the stack-wide autoDeleteObjects provider (aws-s3 bucket.ts). */
const AUTO_DELETE_PROVIDER_ID = 'Custom::S3AutoDeleteObjectsCustomResourceProvider';

export interface LabArtifactsProps {
  readonly labName: string;
  /** The lab tags: CDK's Tags aspect does not reach the autoDeleteObjects provider's raw resources. */
  readonly tags: Readonly<Record<string, string>>;
}

export class LabArtifacts extends Construct {
  readonly bucket: s3.Bucket;
  readonly providerLogGroup: logs.LogGroup;
  /**
   * The custom resource that empties the bucket when the stack is deleted. Instances depend on
   * it, so CloudFormation deletes them first: no node can upload after the bucket was emptied
   * (an interrupted `lab logs` leaves node scripts running for minutes), which would fail the
   * bucket's deletion with BucketNotEmpty.
   */
  readonly emptiedOnDelete: CfnResource;

  constructor(scope: Construct, id: string, props: LabArtifactsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: artifactsBucketName(props.labName, Aws.ACCOUNT_ID, Aws.REGION),
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: false,
      lifecycleRules: [
        {
          id: 'transfer-buffer',
          expiration: Duration.days(ARTIFACTS_OBJECT_EXPIRY_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    const autoDelete = this.bucket.node.tryFindChild('AutoDeleteObjectsCustomResource')?.node.defaultChild as CfnResource | undefined;
    if (!autoDelete) throw new Error('cilium-lab: aws-cdk-lib no longer adds AutoDeleteObjectsCustomResource to a bucket with autoDeleteObjects');
    this.emptiedOnDelete = autoDelete;
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'A transfer buffer of a disposable lab: objects live minutes (lab logs deletes them after download) and expire after a day; access logs would need a second bucket that outlives the lab.',
    });

    this.providerLogGroup = keepProviderLogsInStack(this, 'AutoDeleteLogs', stack.node.tryFindChild(AUTO_DELETE_PROVIDER_ID), props.tags);

    new CfnOutput(this, 'Output', {
      key: OUTPUTS.artifactsBucket,
      value: this.bucket.bucketName,
      description: 'S3 bucket `lab logs` passes node logs and the Cilium sysdump through (emptied and deleted with the lab)',
    });
  }
}
