/**
 * A local stand-in for S3, spoken to by the real S3Client, the real presigner and real curl over
 * HTTP, so the artifact store is tested through the SDK's own serialisation, signing, checksums,
 * retries and XML parsing, and presigned uploads the way a node makes them.
 *
 * Protocol (REST-XML, path-style as `forcePathStyle` sends it: `/<bucket>/<key>`):
 *   PutObject      PUT /b/k               body = the object; SDK-signed or presigned
 *   GetObject      GET /b/k               streamed body
 *   HeadObject     HEAD /b/k
 *   DeleteObject   DELETE /b/k
 *   ListObjectsV2  GET /b?list-type=2&prefix=&continuation-token=&max-keys=
 *   DeleteObjects  POST /b?delete         `<Delete><Object><Key/></Object>...<Quiet/></Delete>`
 *   HeadBucket     HEAD /b
 * Errors are `<Error><Code/><Message/><RequestId/></Error>` with their HTTP status (no body for
 * HEAD): NoSuchBucket 404, NoSuchKey 404, AccessDenied 403, BadDigest 400, SlowDown 503, ...
 *
 * What S3 checks and this fake checks too:
 *   - SigV4: an `Authorization: AWS4-HMAC-SHA256 ...` header with x-amz-date and
 *     x-amz-content-sha256 (its digest must match the body), or a presigned query
 *     (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 *     X-Amz-Signature): expired -> 403 "Request has expired"; a signed header the request lacks ->
 *     403 SignatureDoesNotMatch; an x-amz-* header that is not signed -> 403. Signatures themselves
 *     are not verified.
 *   - Checksums, in headers or (presigned) in the query: x-amz-checksum-crc32/sha1/sha256 and
 *     Content-MD5 must match the body, else 400 BadDigest (crc32c and crc64nvme answer 501: the
 *     fake cannot compute them). DeleteObjects without any of them -> 400 InvalidRequest.
 *   - DeleteObjects takes 1 to 1000 keys (else 400 MalformedXML).
 *
 * Failure injection: `inject(operation, fault, times)` answers the next `times` requests of an
 * operation with 503 SlowDown, 500 InternalError, 403 AccessDenied or 400 RequestTimeout, or (GetObject) cuts the body
 * after half of it by destroying the socket. `failDelete` makes DeleteObjects report a per-key error.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../lib/aws/artifact-store.js';
import { LoopbackFake, readBody } from '../helpers/loopback.js';
import { escapeXml } from './fake-query-server.js';

export type S3Operation = 'HeadBucket' | 'ListObjectsV2' | 'PutObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'DeleteObjects';
export type S3FaultKind = 'SlowDown' | 'InternalError' | 'AccessDenied' | 'RequestTimeout' | 'CutBody';

export const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };
export const FAKE_S3_REGION = 'eu-west-1';

/** An S3 error answer. */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export interface S3Call {
  readonly operation: S3Operation | 'Unsupported';
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Authenticated by a presigned query rather than an Authorization header. */
  readonly presigned: boolean;
  status?: number;
  errorCode?: string;
}

interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: Date;
}

interface FakeBucket {
  readonly objects: Map<string, StoredObject>;
  /** Owned by another account: every request is denied (HeadBucket 403). */
  readonly foreign: boolean;
  /** key -> the per-key error DeleteObjects reports for it. */
  readonly deleteErrors: Map<string, { code: string; message: string }>;
}

export interface FakeS3Options {
  /** ListObjectsV2 returns at most this many keys per page, whatever MaxKeys asks. @default 1000 */
  readonly maxKeysPerPage?: number;
  /** GetObject returns the object's CRC32 when asked (x-amz-checksum-mode: ENABLED), as S3 does for objects that have one. @default true */
  readonly returnChecksums?: boolean;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const unescapeXml = (text: string): string =>
  text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#([0-9]+);/g, (_, dec: string) => String.fromCodePoint(parseInt(dec, 10)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** CRC32 as S3 writes it: the four big-endian bytes, base64. */
export function crc32Base64(body: Buffer): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc32(body) >>> 0);
  return bytes.toString('base64');
}

const digest = (algorithm: string, body: Buffer, encoding: 'base64' | 'hex'): string => createHash(algorithm).update(body).digest(encoding);

/** x-amz-checksum-<name> -> how to compute it (undefined: the fake cannot). */
const CHECKSUMS: Readonly<Record<string, ((body: Buffer) => string) | undefined>> = {
  crc32: crc32Base64,
  sha1: (body) => digest('sha1', body, 'base64'),
  sha256: (body) => digest('sha256', body, 'base64'),
  crc32c: undefined,
  crc64nvme: undefined,
};

/** 20261123T101500Z -> epoch ms. */
function parseAmzDate(text: string | null): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function operationOf(method: string, key: string, query: URLSearchParams): S3Operation | 'Unsupported' {
  if (key === '') {
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
    return 'Unsupported';
  }
  const operations: Record<string, S3Operation> = { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' };
  return operations[method] ?? 'Unsupported';
}

export class FakeS3Server extends LoopbackFake {
  readonly calls: S3Call[] = [];
  private readonly buckets = new Map<string, FakeBucket>();
  private readonly faults = new Map<S3Operation, S3FaultKind[]>();

  private constructor(private readonly options: FakeS3Options) {
    super();
  }

  static start(options: FakeS3Options = {}): Promise<FakeS3Server> {
    return new FakeS3Server(options).listen();
  }

  /** The lab's S3 client (createS3Client) pointed at this fake; maxAttempts 1 unless said otherwise. */
  client(maxAttempts = 1): S3Client {
    return createS3Client({ region: FAKE_S3_REGION, endpoint: this.endpoint, credentials: FAKE_CREDENTIALS, maxAttempts });
  }

  createBucket(name: string, options: { foreign?: boolean } = {}): void {
    this.buckets.set(name, { objects: new Map(), foreign: options.foreign ?? false, deleteErrors: new Map() });
  }

  deleteBucket(name: string): void {
    this.buckets.delete(name);
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  /** Puts an object without a request (test set-up). */
  putObject(bucket: string, key: string, body: Buffer | string): void {
    this.bucket(bucket).objects.set(key, this.stored(Buffer.from(body)));
  }

  object(bucket: string, key: string): Buffer | undefined {
    return this.buckets.get(bucket)?.objects.get(key)?.body;
  }

  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.objects.keys() ?? [])].sort();
  }

  /** The next `times` requests of `operation` answer `fault`. */
  inject(operation: S3Operation, fault: S3FaultKind, times = 1): void {
    this.faults.set(operation, [...(this.faults.get(operation) ?? []), ...Array<S3FaultKind>(times).fill(fault)]);
  }

  /** DeleteObjects reports this per-key error for `key` (and leaves the object). */
  failDelete(bucket: string, key: string, code = 'AccessDenied', message = 'Access Denied'): void {
    this.bucket(bucket).deleteErrors.set(key, { code, message });
  }

  callsTo(operation: S3Operation): S3Call[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  private bucket(name: string): FakeBucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new Error(`fake S3: no bucket ${name}`);
    return bucket;
  }

  private stored(body: Buffer): StoredObject {
    return { body, etag: `"${digest('md5', body, 'hex')}"`, lastModified: new Date() };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-s3');
    const [bucketName = '', ...rest] = url.pathname.slice(1).split('/').map(decodeURIComponent);
    const key = rest.join('/');
    const method = req.method ?? 'GET';
    const query = url.searchParams;
    const operation = operationOf(method, key, query);
    const call: S3Call = { operation, method, bucket: bucketName, key, query, headers: req.headers, presigned: query.has('X-Amz-Signature') };
    this.calls.push(call);
    try {
      const body = await readBody(req);
      if (operation === 'Unsupported') throw new S3Error('NotImplemented', `the fake does not implement ${method} ${url.pathname}${url.search}`, 501);
      this.authenticate(req, query, body, call.presigned);
      const fault = this.faults.get(operation)?.shift();
      if (fault === 'SlowDown') throw new S3Error('SlowDown', 'Please reduce your request rate.', 503);
      if (fault === 'InternalError') throw new S3Error('InternalError', 'We encountered an internal error. Please try again.', 500);
      if (fault === 'AccessDenied') throw new S3Error('AccessDenied', 'Access Denied', 403);
      // S3's answer to an upload whose body stalls: a 400 that is worth retrying.
      if (fault === 'RequestTimeout') throw new S3Error('RequestTimeout', 'Your socket connection to the server was not read from or written to within the timeout period.', 400);
      const bucket = this.buckets.get(bucketName);
      if (!bucket) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucketName });
      if (bucket.foreign) throw new S3Error('AccessDenied', 'Access Denied', 403);
      this.verifyChecksums(req, query, body, operation);
      this.answer(operation, bucketName, bucket, key, query, body, req, res, fault === 'CutBody');
      call.status = res.statusCode;
    } catch (error) {
      const fault = error instanceof S3Error ? error : new S3Error('InternalError', String(error), 500);
      call.status = fault.status;
      call.errorCode = fault.code;
      res.writeHead(fault.status, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() });
      if (method === 'HEAD') {
        res.end();
        return;
      }
      const extra = Object.entries(fault.extra).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(fault.code)}</Code><Message>${escapeXml(fault.message)}</Message>${extra}` +
          `<RequestId>${randomUUID()}</RequestId><HostId>fake</HostId></Error>`,
      );
    }
  }

  private authenticate(req: IncomingMessage, query: URLSearchParams, body: Buffer, presigned: boolean): void {
    if (presigned) {
      const date = parseAmzDate(query.get('X-Amz-Date'));
      const expires = Number(query.get('X-Amz-Expires'));
      if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !query.get('X-Amz-Credential') || date === undefined || !query.get('X-Amz-SignedHeaders')) {
        throw new S3Error('AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.', 400);
      }
      if (!(Number.isInteger(expires) && expires >= 1 && expires <= 604_800)) {
        throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds) that is; 604800', 400);
      }
      if (Date.now() > date + expires * 1000) throw new S3Error('AccessDenied', 'Request has expired', 403, { Expires: new Date(date + expires * 1000).toISOString() });
      const signed = (query.get('X-Amz-SignedHeaders') ?? '').split(';');
      const lacking = signed.filter((h) => req.headers[h] === undefined);
      if (lacking.length > 0) throw new S3Error('SignatureDoesNotMatch', `The request signature we calculated does not match the signature you provided (signed headers missing: ${lacking.join(', ')}).`, 403);
      const unsigned = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-') && !signed.includes(h));
      if (unsigned.length > 0) throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', 403, { HeadersNotSigned: unsigned.join(', ') });
      return;
    }
    if (!String(req.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256 Credential=')) throw new S3Error('AccessDenied', 'Access Denied', 403);
    const contentSha = String(req.headers['x-amz-content-sha256'] ?? '');
    if (!req.headers['x-amz-date'] || !contentSha) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400);
    if (contentSha.startsWith('STREAMING-') || String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) {
      throw new S3Error('NotImplemented', 'the fake does not decode aws-chunked bodies', 501);
    }
    if (contentSha !== 'UNSIGNED-PAYLOAD' && contentSha !== digest('sha256', body, 'hex')) {
      throw new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
    }
  }

  /** Checks every checksum the request carries (header, or presigned query) against the body. */
  private verifyChecksums(req: IncomingMessage, query: URLSearchParams, body: Buffer, operation: S3Operation): void {
    let carried = false;
    for (const [name, compute] of Object.entries(CHECKSUMS)) {
      const field = `x-amz-checksum-${name}`;
      const given = req.headers[field] ?? query.get(field) ?? undefined;
      if (given === undefined) continue;
      carried = true;
      if (!compute) throw new S3Error('NotImplemented', `the fake cannot compute ${field}`, 501);
      if (given !== compute(body)) throw new S3Error('BadDigest', `The ${name.toUpperCase()} you specified did not match the calculated checksum.`, 400);
    }
    const md5 = req.headers['content-md5'];
    if (md5 !== undefined) {
      carried = true;
      if (md5 !== digest('md5', body, 'base64')) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
    }
    if (operation === 'DeleteObjects' && !carried) {
      throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header)', 400);
    }
  }

  private answer(
    operation: S3Operation,
    bucketName: string,
    bucket: FakeBucket,
    key: string,
    query: URLSearchParams,
    body: Buffer,
    req: IncomingMessage,
    res: ServerResponse,
    cut: boolean,
  ): void {
    const ok = (headers: Record<string, string | number>, xml?: string): void => {
      res.writeHead(200, { 'x-amz-request-id': randomUUID(), ...(xml !== undefined ? { 'content-type': 'application/xml' } : {}), ...headers });
      res.end(xml === undefined ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
    };
    const existing = (): StoredObject => {
      const object = bucket.objects.get(key);
      if (!object) throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
      return object;
    };
    switch (operation) {
      case 'HeadBucket':
        return ok({ 'x-amz-bucket-region': FAKE_S3_REGION });
      case 'PutObject': {
        const object = this.stored(body);
        bucket.objects.set(key, object);
        return ok({ etag: object.etag, 'content-length': 0 });
      }
      case 'HeadObject': {
        const object = existing();
        return ok({ etag: object.etag, 'content-length': object.body.length, 'last-modified': object.lastModified.toUTCString() });
      }
      case 'GetObject': {
        const object = existing();
        res.writeHead(200, {
          'x-amz-request-id': randomUUID(),
          'content-type': 'application/octet-stream',
          'content-length': object.body.length,
          etag: object.etag,
          'last-modified': object.lastModified.toUTCString(),
          // Objects carry a full-object checksum, returned when asked for (x-amz-checksum-mode).
          ...(req.headers['x-amz-checksum-mode'] === 'ENABLED' && this.options.returnChecksums !== false ? { 'x-amz-checksum-crc32': crc32Base64(object.body), 'x-amz-checksum-type': 'FULL_OBJECT' } : {}),
        });
        if (!cut) {
          res.end(object.body);
          return;
        }
        // Half the body, then the connection drops.
        res.write(object.body.subarray(0, Math.floor(object.body.length / 2)), () => res.destroy());
        return;
      }
      case 'DeleteObject':
        bucket.objects.delete(key);
        res.writeHead(204, { 'x-amz-request-id': randomUUID() });
        res.end();
        return;
      case 'ListObjectsV2':
        return ok({}, this.listXml(bucketName, bucket, query));
      case 'DeleteObjects':
        return ok({}, this.deleteXml(bucket, body.toString('utf8')));
    }
  }

  private listXml(bucketName: string, bucket: FakeBucket, query: URLSearchParams): string {
    if (query.has('delimiter') || query.has('encoding-type')) throw new S3Error('NotImplemented', 'the fake lists without delimiter or encoding-type', 501);
    const prefix = query.get('prefix') ?? '';
    const maxKeys = Number(query.get('max-keys') ?? 1000);
    const token = query.get('continuation-token');
    const after = token === null ? query.get('start-after') ?? '' : Buffer.from(token, 'base64url').toString('utf8');
    const matching = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = matching.slice(0, Math.min(maxKeys, this.options.maxKeysPerPage ?? 1000));
    const truncated = page.length < matching.length;
    const contents = page
      .map((k) => {
        const object = bucket.objects.get(k) as StoredObject;
        return `<Contents><Key>${escapeXml(k)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${escapeXml(object.etag)}</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    return (
      `<ListBucketResult xmlns="${XMLNS}"><Name>${escapeXml(bucketName)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
      `<IsTruncated>${truncated}</IsTruncated>${token !== null ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : ''}` +
      `${truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1) as string, 'utf8').toString('base64url')}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`
    );
  }

  private deleteXml(bucket: FakeBucket, xml: string): string {
    const keys = [...xml.matchAll(/<Object>\s*<Key>([\s\S]*?)<\/Key>/g)].map((m) => unescapeXml(m[1] as string));
    if (keys.length < 1 || keys.length > 1000) {
      throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
    }
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/.test(xml);
    const results = keys.map((key) => {
      const failure = bucket.deleteErrors.get(key);
      if (failure) return `<Error><Key>${escapeXml(key)}</Key><Code>${escapeXml(failure.code)}</Code><Message>${escapeXml(failure.message)}</Message></Error>`;
      bucket.objects.delete(key);
      return quiet ? '' : `<Deleted><Key>${escapeXml(key)}</Key></Deleted>`;
    });
    return `<DeleteResult xmlns="${XMLNS}">${results.join('')}</DeleteResult>`;
  }
}

export interface CurlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `curl -X PUT --upload-file FILE URL` as a node runs it (`--fail --silent --show-error`), with
 * `extra` arguments before the URL. Never throws: the exit code tells.
 */
export function curlPut(file: string, url: string, extra: readonly string[] = ['--fail']): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', [...extra, '--silent', '--show-error', '-X', 'PUT', '--upload-file', file, url], (error, stdout, stderr) => {
      resolve({ exitCode: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
