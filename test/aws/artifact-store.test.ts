/**
 * The artifact store of `lab logs` (lib/aws/artifact-store.ts) as createAwsServices builds it: the
 * real S3Client and presigner against the loopback S3 fake, and uploads by real curl as a node
 * makes them.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ArtifactStore, createS3Client } from '../../lib/aws/artifact-store.js';
import { createAwsServices } from '../../lib/aws/services.js';
import type { ArtifactStore } from '../../lib/lab/services.js';
import { FAKE_CREDENTIALS, FAKE_S3_REGION, FakeS3Server, curlPut } from './fake-s3-server.js';

const BUCKET = 'cilium-lab-kans-w3-000000000000-eu-west-1';
let s3: FakeS3Server;
let dir: string;

beforeEach(async () => {
  s3 = await FakeS3Server.start({ maxKeysPerPage: 2 });
  s3.createBucket(BUCKET);
  dir = mkdtempSync(join(tmpdir(), 'artifact-store-'));
});
afterEach(async () => {
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The store createAwsServices builds, on the fake by the name `localhost`: the SDK puts the bucket
 * in the path for an IP address anyway, but for a name only with forcePathStyle (else it would ask
 * for <bucket>.localhost).
 */
function store(maxAttempts = 1): ArtifactStore {
  const endpoint = s3.endpoint.replace('127.0.0.1', 'localhost');
  return createAwsServices({ region: FAKE_S3_REGION }, { endpoints: { s3: endpoint }, credentials: FAKE_CREDENTIALS, maxAttempts }).artifacts;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded');
}

describe('uploadUrl', () => {
  it('presigns a PutObject for plain curl: no checksum parameters, only host signed, the expiry asked for, no call made', async () => {
    // When an upload URL is made
    const url = new URL(await store().uploadUrl(BUCKET, 'kans-w3/run-1/k8s-s/logs.tar.gz', 900));
    // Then it is path-style on the endpoint, signs only host, lives 900 s, and carries no checksum of the (absent) body
    expect(url.pathname).toBe(`/${BUCKET}/kans-w3/run-1/k8s-s/logs.tar.gz`);
    const names = [...url.searchParams.keys()];
    expect(names.filter((n) => /checksum/i.test(n))).toEqual([]);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(s3.calls).toEqual([]);
  });

  it('lets curl upload a node log that the store then lists, downloads (same sha256) and removes', async () => {
    // Given a node's log archive uploaded by curl to a presigned URL
    const content = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
    const local = join(dir, 'logs.tar.gz');
    writeFileSync(local, content);
    const key = 'kans-w3/run-1/k8s-s/logs.tar.gz';
    const upload = await curlPut(local, await store().uploadUrl(BUCKET, key, 300));
    expect(upload).toMatchObject({ exitCode: 0, stderr: '' });
    // When the CLI lists, downloads and removes it
    const artifacts = store();
    const listed = await artifacts.list(BUCKET, 'kans-w3/run-1/');
    const target = join(dir, 'out', 'k8s-s', 'logs.tar.gz');
    const bytes = await artifacts.download(BUCKET, key, target);
    await artifacts.remove(BUCKET, [key]);
    // Then each step saw the whole file, and the bucket is empty again
    expect(listed).toEqual([{ key, bytes: content.length }]);
    expect(bytes).toBe(content.length);
    expect(sha256(readFileSync(target))).toBe(sha256(content));
    expect(s3.keys(BUCKET)).toEqual([]);
  });

  it('refuses to hand out a URL signed with the SDK default checksums, which S3 would check against the upload', async () => {
    // Given a store on a client with the SDK's defaults (requestChecksumCalculation WHEN_SUPPORTED)
    const defaults = new S3ArtifactStore(new S3Client({ region: FAKE_S3_REGION, endpoint: s3.endpoint, forcePathStyle: true, credentials: FAKE_CREDENTIALS }));
    // Then it says why instead of returning a URL that fails on the node
    await expect(defaults.uploadUrl(BUCKET, 'k', 60)).rejects.toThrow(/carries x-amz-checksum-crc32, x-amz-sdk-checksum-algorithm.*WHEN_REQUIRED/);
  });

  it('refuses to hand out a URL that signs more than host (curl would have to send that header)', async () => {
    // Given a client that asks for server-side encryption by header (which the presigner leaves a header)
    const client = createS3Client({ region: FAKE_S3_REGION, endpoint: s3.endpoint, credentials: FAKE_CREDENTIALS });
    type Args = { request: { headers: Record<string, string> } };
    const addEncryption = (next: (args: Args) => Promise<unknown>) => async (args: Args) => {
      args.request.headers['x-amz-server-side-encryption'] = 'aws:kms';
      return next(args);
    };
    client.middlewareStack.addRelativeTo(addEncryption as unknown as Parameters<S3Client['middlewareStack']['addRelativeTo']>[0], {
      relation: 'before',
      toMiddleware: 'httpSigningMiddleware',
      name: 'addEncryption',
    });
    // Then the store says so
    await expect(new S3ArtifactStore(client).uploadUrl(BUCKET, 'k', 60)).rejects.toThrow('the presigned URL for s3://' + BUCKET + '/k signs headers host;x-amz-server-side-encryption');
  });

  it('refuses URLs that would outlive temporary credentials (they die with the session)', async () => {
    const session = (minutes: number) =>
      new S3ArtifactStore(
        createS3Client({
          region: FAKE_S3_REGION,
          endpoint: s3.endpoint,
          credentials: { ...FAKE_CREDENTIALS, sessionToken: 'session', expiration: new Date(Date.now() + minutes * 60_000) },
        }),
      );
    await expect(session(10).uploadUrl(BUCKET, 'k', 1800)).rejects.toThrow(/your AWS credentials expire at .*, before the upload URLs would .*renew them/);
    const url = new URL(await session(60).uploadUrl(BUCKET, 'k', 1800));
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session');
  });

  it('rejects an expiry outside 1 s .. 7 days', async () => {
    await expect(store().uploadUrl(BUCKET, 'k', 0)).rejects.toThrow(/1 to 604800 seconds, not 0/);
    await expect(store().uploadUrl(BUCKET, 'k', 604_801)).rejects.toThrow(/not 604801/);
  });
});

describe('list', () => {
  it('follows every page and keeps to the prefix', async () => {
    // Given five objects of a run (two per page) and one of another run
    for (const node of ['k8s-s', 'k8s-w1', 'k8s-w2', 'k8s-w3', 'testpc']) s3.putObject(BUCKET, `kans-w3/run-1/${node}/logs.tar.gz`, node);
    s3.putObject(BUCKET, 'kans-w3/run-2/k8s-s/logs.tar.gz', 'other run');
    // When the run is listed
    const listed = await store().list(BUCKET, 'kans-w3/run-1/');
    // Then all five come back with their sizes, from three pages
    expect(listed.map((o) => `${o.key}:${o.bytes}`)).toEqual([
      'kans-w3/run-1/k8s-s/logs.tar.gz:5',
      'kans-w3/run-1/k8s-w1/logs.tar.gz:6',
      'kans-w3/run-1/k8s-w2/logs.tar.gz:6',
      'kans-w3/run-1/k8s-w3/logs.tar.gz:6',
      'kans-w3/run-1/testpc/logs.tar.gz:6',
    ]);
    expect(s3.callsTo('ListObjectsV2')).toHaveLength(3);
  });

  it('returns nothing for an empty prefix', async () => {
    expect(await store().list(BUCKET, 'kans-w3/none/')).toEqual([]);
  });
});

describe('download', () => {
  it.each([
    ['with', true],
    ['without', false],
  ])('fails on a body cut mid-stream (%s a checksum for the SDK to check) and leaves no file, not even a partial one', async (_, returnChecksums) => {
    // Given a sysdump whose download breaks off half way
    await s3.close();
    s3 = await FakeS3Server.start({ returnChecksums });
    s3.createBucket(BUCKET);
    s3.putObject(BUCKET, 'sysdump.zip', Buffer.alloc(256 * 1024, 1));
    s3.inject('GetObject', 'CutBody');
    const target = join(dir, 'sysdump.zip');
    // When it is downloaded
    const error = await failure(store(3).download(BUCKET, 'sysdump.zip', target));
    // Then the download fails saying nothing was written, and the directory holds no file at all
    expect(error.message).toMatch(/downloading s3:\/\/.*\/sysdump\.zip failed after \d+ bytes, nothing was written to/);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves a file already at the path alone when the download fails', async () => {
    s3.putObject(BUCKET, 'logs.tar.gz', Buffer.alloc(4096, 2));
    s3.inject('GetObject', 'CutBody');
    const target = join(dir, 'logs.tar.gz');
    writeFileSync(target, 'from an earlier run');
    await expect(store().download(BUCKET, 'logs.tar.gz', target)).rejects.toThrow(/failed after/);
    expect(readFileSync(target, 'utf8')).toBe('from an earlier run');
    expect(readdirSync(dir)).toEqual(['logs.tar.gz']);
  });

  it('retries a 500 InternalError (the SDK, within maxAttempts) and then writes the whole object', async () => {
    s3.putObject(BUCKET, 'logs.tar.gz', 'complete');
    s3.inject('GetObject', 'InternalError');
    const target = join(dir, 'logs.tar.gz');
    expect(await store(3).download(BUCKET, 'logs.tar.gz', target)).toBe(8);
    expect(readFileSync(target, 'utf8')).toBe('complete');
    expect(s3.callsTo('GetObject').map((c) => c.errorCode ?? c.status)).toEqual(['InternalError', 200]);
  });

  it('names the key that is not there', async () => {
    await expect(store().download(BUCKET, 'kans-w3/run-1/k8s-w9/logs.tar.gz', join(dir, 'x'))).rejects.toThrow(
      `s3://${BUCKET}/kans-w3/run-1/k8s-w9/logs.tar.gz does not exist: it was never uploaded, or was already removed`,
    );
  });
});

describe('remove', () => {
  it('deletes in batches of at most 1000 keys, each with a content checksum; keys already gone are fine', async () => {
    // Given 2,500 objects, and 10 keys that are already gone
    const keys = Array.from({ length: 2500 }, (_, i) => `kans-w3/run-1/obj-${String(i).padStart(4, '0')}`);
    for (const key of keys) s3.putObject(BUCKET, key, 'x');
    const gone = Array.from({ length: 10 }, (_, i) => `kans-w3/run-1/gone-${i}`);
    // When all are removed
    await store().remove(BUCKET, [...keys, ...gone]);
    // Then three DeleteObjects calls did it, none over 1000 keys, each carrying a checksum S3 accepted
    const calls = s3.callsTo('DeleteObjects');
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.status === 200 && (c.headers['x-amz-checksum-crc32'] !== undefined || c.headers['content-md5'] !== undefined))).toBe(true);
    expect(s3.keys(BUCKET)).toEqual([]);
  });

  it('makes no call for no keys', async () => {
    await store().remove(BUCKET, []);
    expect(s3.calls).toEqual([]);
  });

  it('throws naming each key S3 could not delete, after deleting the others', async () => {
    s3.putObject(BUCKET, 'a', 'a');
    s3.putObject(BUCKET, 'held', 'h');
    s3.failDelete(BUCKET, 'held', 'AccessDenied', 'Access Denied');
    await expect(store().remove(BUCKET, ['a', 'held'])).rejects.toThrow(`S3 could not delete 1 object(s) from bucket ${BUCKET}: held (AccessDenied: Access Denied)`);
    expect(s3.keys(BUCKET)).toEqual(['held']);
  });
});

describe('errors and retries', () => {
  it.each([
    ['list', (a: ArtifactStore) => a.list('cilium-lab-gone', 'p/')],
    ['download', (a: ArtifactStore) => a.download('cilium-lab-gone', 'k', join(dir, 'k'))],
    ['remove', (a: ArtifactStore) => a.remove('cilium-lab-gone', ['k'])],
  ])('%s on a missing bucket names it and says to redeploy', async (_, call) => {
    await expect(call(store())).rejects.toThrow('S3 bucket cilium-lab-gone does not exist, so the lab stack has no artifacts bucket: redeploy with npx cdk deploy');
  });

  it.each([
    ['list', 'ListObjectsV2', 's3:ListBucket', (a: ArtifactStore) => a.list(BUCKET, 'p/')],
    ['download', 'GetObject', 's3:GetObject', (a: ArtifactStore) => a.download(BUCKET, 'k', join(dir, 'k'))],
    ['remove', 'DeleteObjects', 's3:DeleteObject', (a: ArtifactStore) => a.remove(BUCKET, ['k'])],
  ] as const)('%s denied names the action, the bucket and the permission', async (_, operation, permission, call) => {
    s3.putObject(BUCKET, 'k', 'k');
    s3.inject(operation, 'AccessDenied');
    const error = await failure(call(store()));
    expect(error.message).toContain(`S3 ${operation} on bucket ${BUCKET} was denied (AccessDenied: Access Denied): the credentials need ${permission} on it`);
  });

  it('rides out 503 SlowDown within maxAttempts', async () => {
    s3.putObject(BUCKET, 'p/a', 'a');
    s3.inject('ListObjectsV2', 'SlowDown', 2);
    expect(await store(3).list(BUCKET, 'p/')).toEqual([{ key: 'p/a', bytes: 1 }]);
    expect(s3.callsTo('ListObjectsV2')).toHaveLength(3);
  });

  it('gives up on SlowDown after maxAttempts with the S3 error', async () => {
    s3.inject('DeleteObjects', 'SlowDown', 2);
    await expect(store(2).remove(BUCKET, ['k'])).rejects.toThrow(`S3 DeleteObjects on bucket ${BUCKET} failed: SlowDown: Please reduce your request rate.`);
    expect(s3.callsTo('DeleteObjects')).toHaveLength(2);
  });
});
