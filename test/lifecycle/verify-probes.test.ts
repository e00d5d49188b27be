/**
 * After a stack delete, each ARN the tagging API lists is checked with its own service: the lab's
 * artifacts bucket with S3 HeadBucket, its auto-delete Lambda function with Lambda GetFunction and
 * that function's log group with CloudWatch Logs DescribeLogGroups, through the real adapter (SDK
 * clients) against the loopback fakes of FakeAccount. (The function's IAM role needs no probe: the
 * tagging API's GetResources does not list IAM roles.)
 */
import { LAB_TAGS } from '../../lib/config/tags.js';
import type { RunReport } from '../../lib/lab/reporter.js';
import { verifyByTag } from '../../lib/lifecycle/verify.js';
import { LabCli } from './cli-harness.js';
import { ACCOUNT, FakeAccount, REGION } from './fake-account.js';

let account: FakeAccount;

beforeEach(async () => {
  account = await FakeAccount.start();
});
afterEach(async () => {
  await account.close();
});

const LAB = 'kans-w3';
const tags = { [LAB_TAGS.lab]: LAB };
const bucketName = (suffix = ''): string => `cilium-lab-${LAB}${suffix}-${ACCOUNT}-${REGION}`;

describe('S3 bucket probe (HeadBucket)', () => {
  it('reports a deleted bucket the tagging API still lists as stale, and an existing one as left', async () => {
    // Given two tagged buckets, one of which has since been deleted
    const gone = account.addBucket(bucketName('-old'), tags);
    account.s3.deleteBucket(bucketName('-old'));
    const kept = account.addBucket(bucketName(), tags);
    // When the lab is verified by tag
    const verification = await verifyByTag(account.cloud(), LAB);
    // Then S3 was asked about each, the deleted one is stale and the other is left
    expect(verification.stale).toEqual([{ arn: gone, detail: 'NoSuchBucket' }]);
    expect(verification.left).toEqual([{ arn: kept }]);
    expect(account.s3.callsTo('HeadBucket').map((c) => [c.bucket, c.status])).toEqual(
      expect.arrayContaining([
        [bucketName('-old'), 404],
        [bucketName(), 200],
      ]),
    );
  });

  it('counts a bucket HeadBucket may not look at (403) as existing, and says why', async () => {
    const arn = account.addBucket(bucketName(), tags, { foreign: true });
    expect(await account.cloud().checkResource(arn)).toEqual({ state: 'exists', detail: 'owned by another account or no access' });
  });

  it('leaves S3 object ARNs unverifiable', async () => {
    expect(await account.cloud().checkResource(`arn:aws:s3:::${bucketName()}/some/key`)).toMatchObject({ state: 'unverifiable' });
    expect(account.s3.calls).toEqual([]);
  });
});

describe('CloudWatch Logs log group probe (DescribeLogGroups)', () => {
  it('reports a deleted log group the tagging API still lists as stale, and an existing one as left, with or without the trailing :*', async () => {
    // Given two tagged log groups, one listed with `:*` and since deleted (a group whose name
    // extends its name still exists), the other listed without `:*`
    const gone = account.addLogGroup('/aws/lambda/kans-w3-Cleanup', tags, { arnWithStar: true });
    account.logGroups.delete('/aws/lambda/kans-w3-Cleanup');
    account.addLogGroup('/aws/lambda/kans-w3-CleanupOther', {});
    const kept = account.addLogGroup('/aws/lambda/kans-w3-Expiry', tags);
    // When the lab is verified by tag
    const verification = await verifyByTag(account.cloud(), LAB);
    // Then the deleted one is stale (a prefix match is not the group), the other left
    expect(verification.stale).toEqual([{ arn: gone, detail: 'not listed by CloudWatch Logs' }]);
    expect(verification.left).toEqual([{ arn: kept }]);
    const prefixes = account.logs.callsTo('DescribeLogGroups').map((c) => c.body['logGroupNamePrefix']);
    expect(prefixes).toEqual(expect.arrayContaining(['/aws/lambda/kans-w3-Cleanup', '/aws/lambda/kans-w3-Expiry']));
  });

  it('follows every DescribeLogGroups page before calling a group gone whose name others extend', async () => {
    // Given a deleted group, and five others whose names start with its name (two per page)
    const arn = account.addLogGroup('/aws/lambda/fn', tags, { arnWithStar: true });
    account.logGroups.delete('/aws/lambda/fn');
    for (const suffix of ['-a', '-b', '-c', '-d', '-e']) account.addLogGroup(`/aws/lambda/fn${suffix}`, {});
    // When it is checked, it is gone, after all three pages
    expect(await account.cloud().checkResource(arn)).toEqual({ state: 'gone', detail: 'not listed by CloudWatch Logs' });
    expect(account.logs.callsTo('DescribeLogGroups').map((c) => c.body['nextToken'] ?? null)).toEqual([null, '2', '4']);
  });

  it('leaves other CloudWatch Logs resources unverifiable', async () => {
    expect(await account.cloud().checkResource(account.arn('logs', 'destination:somewhere'))).toMatchObject({ state: 'unverifiable' });
  });
});

describe('Lambda function probe (GetFunction)', () => {
  it('reports a deleted function the tagging API still lists as stale, and an existing one as left with its state', async () => {
    // Given two tagged functions, one of which has since been deleted
    const gone = account.addFunction('kans-w3-OldCleanup-AbC', tags);
    account.functions.delete('kans-w3-OldCleanup-AbC');
    const kept = account.addFunction('kans-w3-ArtifactsCleanup-XyZ', tags, { state: 'Inactive' });
    // When the lab is verified by tag
    const verification = await verifyByTag(account.cloud(), LAB);
    // Then Lambda was asked about each by its ARN: the deleted one is stale, the other left
    expect(verification.stale).toEqual([{ arn: gone, detail: 'ResourceNotFoundException' }]);
    expect(verification.left).toEqual([{ arn: kept, detail: 'Inactive' }]);
    expect(verification.unverified).toEqual([]);
    expect(account.lambda.calls.map((c) => [c.method, c.path, c.errorCode ?? null])).toEqual(
      expect.arrayContaining([
        ['GET', `/2015-03-31/functions/${gone}`, 'ResourceNotFoundException'],
        ['GET', `/2015-03-31/functions/${kept}`, null],
      ]),
    );
    expect(account.lambda.calls).toHaveLength(2);
  });

  it('leaves other Lambda resources unverifiable, without asking Lambda', async () => {
    expect(await account.cloud().checkResource(account.arn('lambda', 'layer:shared:3'))).toMatchObject({ state: 'unverifiable' });
    expect(await account.cloud().checkResource(account.arn('lambda', 'event-source-mapping:0123-4567'))).toMatchObject({ state: 'unverifiable' });
    expect(account.lambda.calls).toEqual([]);
  });
});

describe('lab down of a lab with the artifacts resources (bucket, auto-delete function, log group)', () => {
  it('reports all three as already deleted, not as left or unverifiable, once the stack is gone', async () => {
    // Given a lab whose stack holds the bucket, the function and its log group
    const lab = account.addLab(LAB, { artifacts: true });
    const functionArn = account.arn('lambda', `function:${lab.functionName}`);
    // When it is taken down
    const run = await new LabCli(account).run(['down', '-c', `labName=${LAB}`, '--yes', '--json']);
    // Then it succeeded: the tagging API still lists them, S3, Lambda and CloudWatch Logs say they are gone
    expect(run.code).toBe(0);
    const report = JSON.parse(run.result) as RunReport & {
      result: { verification: { left: unknown[]; stale: { arn: string; detail?: string }[]; unverified: { arn: string }[] } };
    };
    const { verification } = report.result;
    expect(verification.left).toEqual([]);
    expect(verification.stale.map((f) => f.arn)).toEqual(
      expect.arrayContaining([`arn:aws:s3:::${lab.bucket}`, functionArn, account.arn('logs', `log-group:${lab.logGroup}:*`)]),
    );
    expect(verification.stale).toContainEqual({ arn: functionArn, detail: 'ResourceNotFoundException' });
    // Only the lab's secret (no probe for Secrets Manager) is left unchecked
    expect(verification.unverified.map((f) => f.arn)).toEqual([expect.stringMatching(/^arn:aws:secretsmanager:/)]);
  });
});
