/**
 * What the `lab` commands need from the cloud, as interfaces. lib/aws implements them with the
 * AWS SDK (the only place that imports it: lib/aws/services.ts builds them); tests hand in fakes
 * or point the real adapters at loopback fakes of the AWS APIs.
 */
import type { RemoteRunner } from './remote-runner.js';

/** One instance type as DescribeInstanceTypes reports it. */
export interface InstanceTypeFacts {
  readonly instanceType: string;
  /** `nitro` | `xen`; absent on bare-metal types (which run on Nitro hardware without a hypervisor). */
  readonly hypervisor?: string;
  readonly bareMetal?: boolean;
  /** NetworkInfo.EnaSupport: `unsupported` | `supported` | `required`. */
  readonly enaSupport?: string;
}

/** One instance as DescribeInstances reports it. */
export interface InstanceFacts {
  readonly instanceId: string;
  readonly imageId?: string;
  readonly instanceType?: string;
  /** running, stopped, ... */
  readonly state?: string;
  readonly publicIp?: string;
  readonly privateIp?: string;
}

/** One AMI as DescribeImages reports it. */
export interface ImageFacts {
  readonly imageId: string;
  readonly name?: string;
  readonly enaSupport?: boolean;
}

/** The EC2 facts the lab reads (read-only calls). */
export interface Ec2Facts {
  /** DescribeInstanceTypes; a type EC2 does not know is missing from the answer. */
  instanceTypes(types: readonly string[]): Promise<InstanceTypeFacts[]>;
  /** DescribeInstances; an instance EC2 does not know is missing from the answer. */
  instances(instanceIds: readonly string[]): Promise<InstanceFacts[]>;
  /** DescribeImages; an AMI that is gone (deregistered) is missing from the answer. */
  images(imageIds: readonly string[]): Promise<ImageFacts[]>;
}

/** One object in the artifact store. */
export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
}

/**
 * The lab's own S3 bucket as a transfer buffer for `lab logs`: the nodes upload with a plain
 * `curl -X PUT --upload-file` to a presigned URL, the CLI lists, downloads and deletes.
 */
export interface ArtifactStore {
  /**
   * A URL that lets one plain `curl -X PUT --upload-file` write `key` (no extra headers), valid for
   * `expiresInSeconds`. Makes no S3 call; refuses when the credentials expire before the URL would.
   */
  uploadUrl(bucket: string, key: string, expiresInSeconds: number): Promise<string>;
  /** Every object under `prefix` (all pages). */
  list(bucket: string, prefix: string): Promise<StoredObject[]>;
  /** Streams the object to `path` (a temp file renamed into place); returns the bytes written. */
  download(bucket: string, key: string, path: string): Promise<number>;
  /** Deletes the keys (DeleteObjects, at most 1000 per call); keys already gone are fine; a per-key error throws naming the key. */
  remove(bucket: string, keys: readonly string[]): Promise<void>;
}

export interface LabServices {
  /** OutputKey -> OutputValue of a stack; LabNotFoundError when there is no such stack. */
  stackOutputs(stackName: string): Promise<Record<string, string>>;
  /** Runs scripts on nodes over SSM Run Command. */
  readonly remote: RemoteRunner;
  readonly ec2: Ec2Facts;
  readonly artifacts: ArtifactStore;
  /**
   * Waits until the SSM agent of every instance is Online, at most until `deadline` (epoch ms).
   * Returns the instances whose agent is still not Online then, each with its last PingStatus
   * (`ConnectionLost`, `not registered with SSM`, ...): empty when all are Online.
   */
  agentsNotOnline(instanceIds: readonly string[], deadline: number): Promise<Record<string, string>>;
}
