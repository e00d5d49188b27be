/**
 * The artifacts bucket `lab logs` moves files through: private, TLS only, a transfer buffer
 * (objects expire after a day) that never keeps the lab from being deleted (autoDeleteObjects,
 * whose function logs into a log group of the stack, deleted after the function).
 */
import { ARTIFACTS_BUCKET_PREFIX, S3_BUCKET_NAME_MAX, artifactKey, artifactsBucketName } from '../../lib/config/artifacts.js';
import { resourcesOfType, synthLab } from '../helpers/synth.js';

const { json } = synthLab({ labName: 'kans-w3' });
const only = (type: string): [string, any] => {
  const found = resourcesOfType(json, type);
  expect(found).toHaveLength(1);
  return found[0] as [string, any];
};
/** A Fn::Join of strings and Refs, with the pseudo parameters replaced by realistic values. */
const resolveName = (value: any, account = '111122223333', region = 'ap-northeast-2'): string =>
  (value['Fn::Join'][1] as unknown[])
    .map((part: any) => (typeof part === 'string' ? part : part.Ref === 'AWS::AccountId' ? account : part.Ref === 'AWS::Region' ? region : `<${JSON.stringify(part)}>`))
    .join('');

describe('the artifacts bucket', () => {
  const [bucketId, bucket] = only('AWS::S3::Bucket');

  it('is named cilium-lab-<labName>-<account>-<region>, as the CLI and the CI role expect', () => {
    expect(resolveName(bucket.Properties.BucketName)).toBe('cilium-lab-kans-w3-111122223333-ap-northeast-2');
    expect(resolveName(bucket.Properties.BucketName)).toBe(artifactsBucketName('kans-w3', '111122223333', 'ap-northeast-2'));
  });

  it('fits S3 bucket names for the longest lab name and region', () => {
    const longest = artifactsBucketName('a'.repeat(23) + '1', '123456789012', 'ap-southeast-5');
    expect(longest.length).toBeLessThanOrEqual(S3_BUCKET_NAME_MAX);
    expect(longest).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
    expect(longest.startsWith(ARTIFACTS_BUCKET_PREFIX)).toBe(true);
  });

  it('is private, encrypted and reachable over TLS only', () => {
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.Properties.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    const [, policy] = only('AWS::S3::BucketPolicy');
    const denyPlain = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Effect === 'Deny');
    expect(denyPlain.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('expires objects after a day (a transfer buffer, not storage)', () => {
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'transfer-buffer', Status: 'Enabled', ExpirationInDays: 1, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
  });

  it('is deleted with the stack, emptied first by autoDeleteObjects (whoever deletes the stack)', () => {
    expect(bucket.DeletionPolicy).toBe('Delete');
    expect(bucket.UpdateReplacePolicy).toBe('Delete');
    const [, autoDelete] = only('Custom::S3AutoDeleteObjects');
    expect(autoDelete.Properties.BucketName).toEqual({ Ref: bucketId });
  });

  it('is emptied only after every instance is deleted (instances depend on the emptying)', () => {
    const [autoDeleteId] = only('Custom::S3AutoDeleteObjects');
    const instances = resourcesOfType(json, 'AWS::EC2::Instance');
    expect(instances).toHaveLength(4);
    for (const [, instance] of instances) expect([instance.DependsOn].flat()).toContain(autoDeleteId);
  });

  it('carries the lab tags, so lab down verifies it is gone', () => {
    expect(bucket.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'cilium-lab:lab', Value: 'kans-w3' }]));
  });

  it('is an output the lab CLI reads', () => {
    expect(json.Outputs.ArtifactsBucket.Value).toEqual({ Ref: bucketId });
  });

  it('grants the nodes nothing: uploads go through URLs the CLI presigns', () => {
    const nodeRolePolicies = resourcesOfType(json, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(nodeRolePolicies.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith('s3:'))).toEqual([]);
  });
});

describe("the autoDeleteObjects function's logs", () => {
  const [, handler] = resourcesOfType(json, 'AWS::Lambda::Function').find(([id]) => id.startsWith('CustomS3AutoDeleteObjects')) as [string, any];
  const [logGroupId, logGroup] = resourcesOfType(json, 'AWS::Logs::LogGroup').find(([id]) => id.startsWith('ArtifactsAutoDeleteLogs')) as [string, any];

  it('every function of the lab (autoDeleteObjects, the expiry clock) logs into a log group of the stack', () => {
    const functions = resourcesOfType(json, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(2);
    for (const [, fn] of functions) expect(json.Resources[fn.Properties.LoggingConfig?.LogGroup?.Ref]?.Type).toBe('AWS::Logs::LogGroup');
  });

  it('go to a log group of the stack, not one Lambda would create and nobody would delete', () => {
    expect(handler.Properties.LoggingConfig).toEqual({ LogFormat: 'Text', LogGroup: { Ref: logGroupId } });
  });

  it('carry the lab tags on the function and its role too (the Tags aspect does not reach them)', () => {
    const [, role] = resourcesOfType(json, 'AWS::IAM::Role').find(([id]) => id.startsWith('CustomS3AutoDeleteObjects')) as [string, any];
    for (const resource of [handler, role]) {
      expect(resource.Properties.Tags).toEqual([
        { Key: 'cilium-lab:expires-at', Value: 'ttl:4h' },
        { Key: 'cilium-lab:kind', Value: 'lab' },
        { Key: 'cilium-lab:lab', Value: 'kans-w3' },
        { Key: 'cilium-lab:managed-by', Value: 'cilium-lab' },
        { Key: 'cilium-lab:owner', Value: 'study-group' },
      ]);
    }
  });

  it('is deleted with the stack, after the function (the function references it, it references nothing)', () => {
    expect(logGroup.DeletionPolicy).toBe('Delete');
    expect(JSON.stringify(logGroup.Properties)).not.toContain('Ref');
    expect(logGroup.Properties.RetentionInDays).toBe(1);
    expect(logGroup.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'cilium-lab:lab', Value: 'kans-w3' }]));
  });
});

describe('artifact keys', () => {
  it('put a run under logs/<runId>/<node>/<file>', () => {
    expect(artifactKey('20261123T101500Z', 'k8s-s', 'cilium-sysdump.zip')).toBe('logs/20261123T101500Z/k8s-s/cilium-sysdump.zip');
  });
});
