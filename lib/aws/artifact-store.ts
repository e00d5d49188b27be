/**
 * The ArtifactStore on S3: the lab's own bucket as a transfer buffer for `lab logs`. Each node
 * uploads with a plain `curl -X PUT --upload-file FILE "<presigned URL>"`; the CLI lists,
 * downloads and deletes with the SDK.
 *
 * Quirks handled here:
 *   - Flexible checksums. Since @aws-sdk/client-s3 3.729.0 the client computes a request checksum
 *     whenever an operation supports one (requestChecksumCalculation WHEN_SUPPORTED). A presigned
 *     PutObject has no body when it is signed, so the URL would carry
 *     `x-amz-checksum-crc32=AAAAAA==` (the CRC32 of nothing) and `x-amz-sdk-checksum-algorithm`,
 *     and the real upload no longer matches it (reported as aws/aws-sdk-js-v3#6994, quoted in
 *     floci-io/floci#4188 and seaweedfs/seaweedfs#10216). The client is created with
 *     WHEN_REQUIRED, and `uploadUrl` refuses to hand out a URL with checksum parameters anyway.
 *   - DeleteObjects is the one call here that S3 refuses without a content checksum (Content-MD5
 *     or x-amz-checksum-*): the model marks it `requestChecksumRequired`, so the SDK still sends
 *     x-amz-checksum-crc32 under WHEN_REQUIRED (aws/aws-sdk-js-v3#6819).
 *   - The presigned URL signs only the `host` header, so curl needs no extra header.
 *   - Throttling (503 SlowDown) and 500 InternalError are retried by the SDK (maxAttempts); a
 *     download whose body is cut after the headers is not: it fails, leaving no file behind.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type _Error as S3KeyError,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore, StoredObject } from '../lab/services.js';

/** DeleteObjects takes at most this many keys per call. */
export const MAX_DELETE_KEYS = 1000;
/** SigV4 presigned URLs live at most a week. */
export const MAX_UPLOAD_URL_SECONDS = 604_800;

/**
 * An S3Client for the lab: request checksums only where S3 requires them (see the file comment).
 * With an `endpoint` (tests, S3-compatible stores) buckets go in the path (`/<bucket>/<key>`), not
 * in the host name.
 */
export function createS3Client(config: Pick<S3ClientConfig, 'region' | 'endpoint' | 'credentials' | 'maxAttempts'>): S3Client {
  return new S3Client({
    ...config,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    ...(config.endpoint ? { forcePathStyle: true } : {}),
  });
}

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** The S3 action, and the IAM permission it needs. */
type Action = 'ListObjectsV2' | 'GetObject' | 'DeleteObjects';
const PERMISSION: Readonly<Record<Action, string>> = { ListObjectsV2: 's3:ListBucket', GetObject: 's3:GetObject', DeleteObjects: 's3:DeleteObject' };

function describeError(error: unknown): string {
  const e = error as SdkError | undefined;
  return e?.name && e.message ? `${e.name}: ${e.message}` : String(error);
}

/** An SDK error as the user should read it: what is missing or denied, and the fix. */
function storeError(error: unknown, action: Action, bucket: string, key?: string): Error {
  const e = error as SdkError | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'NoSuchBucket') {
    return new Error(`S3 bucket ${bucket} does not exist, so the lab stack has no artifacts bucket: redeploy with npx cdk deploy`, { cause: error });
  }
  if (e?.name === 'AccessDenied' || status === 403) {
    return new Error(`S3 ${action} on bucket ${bucket} was denied (${describeError(error)}): the credentials need ${PERMISSION[action]} on it`, { cause: error });
  }
  if (e?.name === 'NoSuchKey' && key !== undefined) {
    return new Error(`s3://${bucket}/${key} does not exist: it was never uploaded, or was already removed`, { cause: error });
  }
  const where = key === undefined ? `bucket ${bucket}` : `s3://${bucket}/${key}`;
  return new Error(`S3 ${action} on ${where} failed: ${describeError(error)}`, { cause: error });
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Query parameters of a presigned URL that a body-less PutObject must not carry (they sign a checksum of nothing). */
const CHECKSUM_PARAMETER = /^x-amz-(sdk-)?checksum-/i;

export class S3ArtifactStore implements ArtifactStore {
  constructor(private readonly s3: S3Client) {}

  async uploadUrl(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_UPLOAD_URL_SECONDS) {
      throw new Error(`an upload URL lives 1 to ${MAX_UPLOAD_URL_SECONDS} seconds, not ${expiresInSeconds}`);
    }
    // A URL signed with temporary credentials (SSO, an assumed role, GitHub OIDC) stops working
    // when they expire, whatever expiresIn says: refuse rather than hand a node a URL that dies
    // in the middle of its upload.
    const credentials = await this.s3.config.credentials();
    const until = Date.now() + expiresInSeconds * 1000;
    if (credentials.expiration && credentials.expiration.getTime() < until) {
      throw new Error(
        `your AWS credentials expire at ${credentials.expiration.toISOString()}, before the upload URLs would (${new Date(until).toISOString()}): ` +
          'renew them (aws sso login, or a new session of at least 30 minutes) and run lab logs again',
      );
    }
    const url = await getSignedUrl(this.s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
    const query = new URL(url).searchParams;
    const checksums = [...query.keys()].filter((name) => CHECKSUM_PARAMETER.test(name));
    if (checksums.length > 0) {
      throw new Error(`the presigned URL for s3://${bucket}/${key} carries ${checksums.join(', ')}, which S3 would check against the upload: create the S3 client with createS3Client (requestChecksumCalculation WHEN_REQUIRED)`);
    }
    const signed = query.get('X-Amz-SignedHeaders');
    if (signed !== 'host') {
      throw new Error(`the presigned URL for s3://${bucket}/${key} signs headers ${String(signed)}: a plain curl upload sends only host`);
    }
    return url;
  }

  async list(bucket: string, prefix: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      } catch (error) {
        throw storeError(error, 'ListObjectsV2', bucket);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) objects.push({ key: object.Key, bytes: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async download(bucket: string, key: string, path: string): Promise<number> {
    // Everything that awaits comes before the call: once the body streams, nothing may wait between
    // it and the pipeline that reads it, or a connection cut in that moment is an error event
    // nobody listens to. That includes opening the file: a stream that opens its file itself may
    // create it after a cut body has already failed the pipeline and the clean-up has run.
    await mkdir(dirname(path), { recursive: true });
    // Next to `path`, so the rename stays on one file system; never left behind.
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
    const file = await open(temp, 'wx', 0o600);
    let object;
    try {
      object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      await file.close();
      await rm(temp, { force: true });
      throw storeError(error, 'GetObject', bucket, key);
    }
    const body = object.Body;
    let bytes = 0;
    try {
      if (!(body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
      await pipeline(
        body,
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const piece of source) {
            bytes += piece.length;
            yield piece;
          }
        },
        file.createWriteStream(),
      );
      if (object.ContentLength !== undefined && bytes !== object.ContentLength) {
        throw new Error(`the body ended after ${bytes} of ${object.ContentLength} bytes`);
      }
      await rename(temp, path);
    } catch (error) {
      await file.close().catch(() => undefined); // the stream closes it on its way out; twice is harmless
      await rm(temp, { force: true });
      throw new Error(`downloading s3://${bucket}/${key} failed after ${bytes} bytes, nothing was written to ${path}: ${describeError(error)}`, { cause: error });
    }
    return bytes;
  }

  async remove(bucket: string, keys: readonly string[]): Promise<void> {
    const failed: S3KeyError[] = [];
    for (const batch of chunk([...new Set(keys)], MAX_DELETE_KEYS)) {
      let out;
      try {
        // Quiet: S3 answers only the keys it could not delete (a key already gone counts as deleted).
        out = await this.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      } catch (error) {
        throw storeError(error, 'DeleteObjects', bucket);
      }
      failed.push(...(out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey'));
    }
    if (failed.length > 0) {
      const list = failed.map((e) => `${e.Key ?? '?'} (${e.Code ?? 'no code'}: ${e.Message ?? 'no message'})`).join(', ');
      throw new Error(`S3 could not delete ${failed.length} object(s) from bucket ${bucket}: ${list}`);
    }
  }
}
