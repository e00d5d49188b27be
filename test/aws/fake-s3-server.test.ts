/**
 * The loopback S3 fake itself, driven by the real S3Client, the real presigner and real curl: it
 * must accept what S3 accepts and refuse what S3 refuses, or the artifact store's tests prove nothing.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_CREDENTIALS, FAKE_S3_REGION, FakeS3Server, crc32Base64, curlPut } from './fake-s3-server.js';

let s3: FakeS3Server;
let dir: string;

beforeEach(async () => {
  s3 = await FakeS3Server.start({ maxKeysPerPage: 2 });
  s3.createBucket('lab-bucket');
  dir = mkdtempSync(join(tmpdir(), 'fake-s3-'));
});
afterEach(async () => {
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An S3Client with the SDK's defaults (flexible checksums WHEN_SUPPORTED), path-style on the fake. */
const defaultClient = (config: Partial<S3ClientConfig> = {}): S3Client =>
  new S3Client({ region: FAKE_S3_REGION, endpoint: s3.endpoint, forcePathStyle: true, credentials: FAKE_CREDENTIALS, maxAttempts: 1, ...config });

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function sdkError(call: Promise<unknown>): Promise<{ name?: string; message?: string; $metadata?: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await call;
  } catch (error) {
    return error as { name?: string };
  }
  throw new Error('the call succeeded');
}

describe('FakeS3Server: objects through the SDK', () => {
  it('stores an SDK-signed PutObject after checking its CRC32 header, and streams it back', async () => {
    // Given a client with the SDK's default checksums
    const client = defaultClient();
    // When an object is put and read back
    await client.send(new PutObjectCommand({ Bucket: 'lab-bucket', Key: 'logs/k8s-s/journal.txt', Body: 'journal lines\n' }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'lab-bucket', Key: 'logs/k8s-s/journal.txt' }));
    // Then the body is the same (with the full-object CRC32 the SDK asked for and checked), the put
    // carried a CRC32 the fake checked, and HeadBucket answers 200
    expect(await got.Body?.transformToString()).toBe('journal lines\n');
    expect(got.ChecksumCRC32).toBe(crc32Base64(Buffer.from('journal lines\n')));
    expect(s3.callsTo('PutObject')[0]?.headers['x-amz-checksum-crc32']).toBe(crc32Base64(Buffer.from('journal lines\n')));
    expect((await client.send(new HeadBucketCommand({ Bucket: 'lab-bucket' }))).$metadata.httpStatusCode).toBe(200);
  });

  it('returns no checksum when made with returnChecksums: false', async () => {
    await s3.close();
    s3 = await FakeS3Server.start({ returnChecksums: false });
    s3.createBucket('lab-bucket');
    s3.putObject('lab-bucket', 'k', 'body');
    const got = await defaultClient().send(new GetObjectCommand({ Bucket: 'lab-bucket', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('body');
    expect(got.ChecksumCRC32).toBeUndefined();
  });

  it('refuses a request whose x-amz-content-sha256 does not match its body', async () => {
    // A hand-made request: the fake checks the payload digest, not the signature
    const response = await fetch(`${s3.endpoint}/lab-bucket/k`, {
      method: 'PUT',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKEFAKE/20261123/eu-west-1/s3/aws4_request', 'x-amz-date': '20261123T101500Z', 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') },
      body: 'real',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
    expect(s3.object('lab-bucket', 'k')).toBeUndefined();
  });

  it('refuses a PutObject whose checksum does not match its body with BadDigest', async () => {
    // Given a put that claims the CRC32 of other content
    const put = defaultClient().send(new PutObjectCommand({ Bucket: 'lab-bucket', Key: 'k', Body: 'real', ChecksumCRC32: crc32Base64(Buffer.from('other')) }));
    // Then S3's answer comes back, and nothing is stored
    const error = await sdkError(put);
    expect(error.name).toBe('BadDigest');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(s3.object('lab-bucket', 'k')).toBeUndefined();
  });

  it('answers an unknown bucket with NoSuchBucket (404, S3-shaped XML) and HeadBucket with a bare 404', async () => {
    const client = defaultClient();
    const list = await sdkError(client.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })));
    expect(list).toMatchObject({ name: 'NoSuchBucket', message: 'The specified bucket does not exist', $metadata: { httpStatusCode: 404 } });
    const head = await sdkError(client.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })));
    expect(head).toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
  });

  it('denies everything on a bucket of another account (HeadBucket 403)', async () => {
    s3.createBucket('someone-elses', { foreign: true });
    const head = await sdkError(defaultClient().send(new HeadBucketCommand({ Bucket: 'someone-elses' })));
    expect(head.$metadata?.httpStatusCode).toBe(403);
    const list = await sdkError(defaultClient().send(new ListObjectsV2Command({ Bucket: 'someone-elses' })));
    expect(list.name).toBe('AccessDenied');
  });

  it('pages ListObjectsV2 by its page size with continuation tokens, within the prefix', async () => {
    // Given five objects under a prefix and one outside it
    for (const name of ['a', 'b', 'c', 'd', 'e']) s3.putObject('lab-bucket', `logs/${name}`, name.repeat(3));
    s3.putObject('lab-bucket', 'other/x', 'x');
    const client = defaultClient();
    // When the prefix is listed page by page
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: 'lab-bucket', Prefix: 'logs/', ...(token ? { ContinuationToken: token } : {}) }));
      pages.push((page.Contents ?? []).map((c) => `${c.Key}:${c.Size}`));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // Then three pages of at most two keys come back, in order, with their sizes
    expect(pages).toEqual([['logs/a:3', 'logs/b:3'], ['logs/c:3', 'logs/d:3'], ['logs/e:3']]);
    expect(s3.callsTo('ListObjectsV2').map((c) => c.query.has('continuation-token'))).toEqual([false, true, true]);
  });
});

describe('FakeS3Server: DeleteObjects', () => {
  it('deletes in quiet mode, reporting only per-key errors; a key already gone counts as deleted', async () => {
    // Given two objects, one of which may not be deleted
    s3.putObject('lab-bucket', 'a', 'a');
    s3.putObject('lab-bucket', 'locked', 'l');
    s3.failDelete('lab-bucket', 'locked');
    // When both and a missing key are deleted quietly
    const out = await defaultClient().send(
      new DeleteObjectsCommand({ Bucket: 'lab-bucket', Delete: { Objects: [{ Key: 'a' }, { Key: 'locked' }, { Key: 'never-there' }], Quiet: true } }),
    );
    // Then only the locked key is reported, and it is still there
    expect(out.Deleted ?? []).toEqual([]);
    expect(out.Errors).toEqual([{ Key: 'locked', Code: 'AccessDenied', Message: 'Access Denied' }]);
    expect(s3.keys('lab-bucket')).toEqual(['locked']);
  });

  it('refuses more than 1000 keys in one call with MalformedXML', async () => {
    const objects = Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` }));
    const error = await sdkError(defaultClient().send(new DeleteObjectsCommand({ Bucket: 'lab-bucket', Delete: { Objects: objects, Quiet: true } })));
    expect(error).toMatchObject({ name: 'MalformedXML', $metadata: { httpStatusCode: 400 } });
  });

  it('lists what it deleted when not quiet', async () => {
    s3.putObject('lab-bucket', 'a', 'a');
    const out = await defaultClient().send(new DeleteObjectsCommand({ Bucket: 'lab-bucket', Delete: { Objects: [{ Key: 'a' }] } }));
    expect(out.Deleted).toEqual([{ Key: 'a' }]);
  });

  it('refuses a DeleteObjects without a content checksum, as S3 does', async () => {
    // Given a client whose DeleteObjects loses its checksum headers before signing
    s3.putObject('lab-bucket', 'a', 'a');
    const client = defaultClient();
    type Args = { request: { headers: Record<string, string> } };
    const dropChecksums = (next: (args: Args) => Promise<unknown>) => async (args: Args) => {
      for (const name of Object.keys(args.request.headers)) if (/^(x-amz-checksum-|x-amz-sdk-checksum-|content-md5)/i.test(name)) delete args.request.headers[name];
      return next(args);
    };
    client.middlewareStack.addRelativeTo(dropChecksums as unknown as Parameters<S3Client['middlewareStack']['addRelativeTo']>[0], {
      relation: 'before',
      toMiddleware: 'httpSigningMiddleware',
      name: 'dropChecksums',
    });
    // When it deletes
    const error = await sdkError(client.send(new DeleteObjectsCommand({ Bucket: 'lab-bucket', Delete: { Objects: [{ Key: 'a' }] } })));
    // Then S3 refuses it and the object stays
    expect(error).toMatchObject({ name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } });
    expect(error.message).toMatch(/Content-MD5/);
    expect(s3.keys('lab-bucket')).toEqual(['a']);
  });
});

describe('FakeS3Server: presigned uploads with curl', () => {
  it('takes a plain curl upload to a URL presigned without checksums', async () => {
    // Given a URL presigned by the lab's client (checksums only when required)
    const url = await getSignedUrl(s3.client(), new PutObjectCommand({ Bucket: 'lab-bucket', Key: 'logs/k8s-w1/kubelet.log' }), { expiresIn: 300 });
    // When curl uploads a file to it
    const result = await curlPut(file('kubelet.log', 'kubelet says hi\n'), url);
    // Then it is stored as sent, through a presigned request with no x-amz-* header
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(s3.object('lab-bucket', 'logs/k8s-w1/kubelet.log')?.toString()).toBe('kubelet says hi\n');
    const call = s3.callsTo('PutObject')[0];
    expect(call?.presigned).toBe(true);
    expect(Object.keys(call?.headers ?? {}).filter((h) => h.startsWith('x-amz-'))).toEqual([]);
  });

  it('refuses the upload to a URL presigned with the SDK default checksums (the CRC32 of an empty body) with BadDigest', async () => {
    // Given a URL presigned by a client with the SDK's defaults
    const url = await getSignedUrl(defaultClient(), new PutObjectCommand({ Bucket: 'lab-bucket', Key: 'sysdump.zip' }), { expiresIn: 300 });
    expect(new URL(url).searchParams.get('x-amz-checksum-crc32')).toBe('AAAAAA==');
    // When curl uploads real content to it
    const result = await curlPut(file('sysdump.zip', 'PK not empty'), url, ['--write-out', '\n%{http_code}']);
    // Then S3 answers 400 BadDigest and stores nothing
    expect(result.stdout).toMatch(/<Code>BadDigest<\/Code>/);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('400');
    expect(s3.object('lab-bucket', 'sysdump.zip')).toBeUndefined();
    // ...which curl --fail turns into a failing exit code
    expect((await curlPut(join(dir, 'sysdump.zip'), url)).exitCode).toBe(22);
  });

  it('refuses an expired URL with 403 "Request has expired"', async () => {
    // Given a URL signed an hour ago, valid for a minute
    const url = await getSignedUrl(s3.client(), new PutObjectCommand({ Bucket: 'lab-bucket', Key: 'late' }), { expiresIn: 60, signingDate: new Date(Date.now() - 3_600_000) });
    // When curl uploads to it
    const result = await curlPut(file('late', 'x'), url, ['--write-out', '\n%{http_code}']);
    // Then S3 answers 403 AccessDenied, Request has expired
    expect(result.stdout).toMatch(/<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('403');
    expect(s3.object('lab-bucket', 'late')).toBeUndefined();
  });

  it('refuses an upload that lacks a header the URL signed', async () => {
    const signed = new URL(await getSignedUrl(s3.client(), new PutObjectCommand({ Bucket: 'lab-bucket', Key: 'k' }), { expiresIn: 60 }));
    signed.searchParams.set('X-Amz-SignedHeaders', 'host;x-amz-server-side-encryption');
    const result = await curlPut(file('k', 'x'), signed.toString(), ['--write-out', '\n%{http_code}']);
    expect(result.stdout).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('403');
  });

  it('refuses an upload that sends an x-amz header the URL did not sign', async () => {
    const url = await getSignedUrl(s3.client(), new PutObjectCommand({ Bucket: 'lab-bucket', Key: 'k' }), { expiresIn: 60 });
    const result = await curlPut(file('k', 'x'), url, ['--fail', '-H', 'x-amz-meta-node: k8s-s']);
    expect(result.exitCode).toBe(22);
    expect(result.stderr).toMatch(/403/);
  });
});

describe('FakeS3Server: failure injection', () => {
  it('throttles the next N requests of an operation with 503 SlowDown, which the SDK retries', async () => {
    s3.putObject('lab-bucket', 'a', 'a');
    s3.inject('ListObjectsV2', 'SlowDown', 2);
    const out = await defaultClient({ maxAttempts: 3 }).send(new ListObjectsV2Command({ Bucket: 'lab-bucket' }));
    expect(out.Contents?.map((c) => c.Key)).toEqual(['a']);
    expect(s3.callsTo('ListObjectsV2').map((c) => c.errorCode ?? c.status)).toEqual(['SlowDown', 'SlowDown', 200]);
  });

  it('answers 500 InternalError once', async () => {
    s3.inject('HeadBucket', 'InternalError');
    const error = await sdkError(defaultClient().send(new HeadBucketCommand({ Bucket: 'lab-bucket' })));
    expect(error.$metadata?.httpStatusCode).toBe(500);
    expect((await defaultClient().send(new HeadBucketCommand({ Bucket: 'lab-bucket' }))).$metadata.httpStatusCode).toBe(200);
  });

  it('cuts a GetObject body after half of it', async () => {
    // Given a 64 KiB object whose next download is cut
    s3.putObject('lab-bucket', 'big', Buffer.alloc(64 * 1024, 7));
    s3.inject('GetObject', 'CutBody');
    // When it is read
    const got = await defaultClient().send(new GetObjectCommand({ Bucket: 'lab-bucket', Key: 'big' }));
    // Then the headers promise the whole object but reading the body fails
    expect(got.ContentLength).toBe(64 * 1024);
    await expect(got.Body?.transformToByteArray()).rejects.toThrow();
  });
});
