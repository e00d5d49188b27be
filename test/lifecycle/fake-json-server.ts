/**
 * A local stand-in for the two JSON dialects the lifecycle commands speak besides the Query
 * protocol, for the real SDK clients over HTTP:
 *
 *   awsJson1_0 (SQS): as awsJson1_1 with `Content-Type: application/x-amz-json-1.0` and
 *             `X-Amz-Target: AmazonSQS.<Operation>`.
 *   awsJson1_1 (Resource Groups Tagging API): `POST /`, `Content-Type: application/x-amz-json-1.1`,
 *             `X-Amz-Target: ResourceGroupsTaggingAPI_20170126.<Operation>`, a JSON body; errors
 *             HTTP 400 `{"__type": "<Code>", "message": ...}`.
 *   restJson1 (EventBridge Scheduler, Lambda): the operation is the method and path
 *             (`GET /schedules/{Name}?groupName=`, `PUT /schedules/{Name}` with a JSON body,
 *             `GET /2015-03-31/functions/{FunctionName}`); errors carry `X-Amzn-ErrorType: <Code>`
 *             with their HTTP status (404 ResourceNotFoundException) and `{"Message": ...}` plus
 *             the fault's extra fields (Lambda's `"Type": "User"`).
 *
 * Every request must be SigV4-signed, as the SDK does.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackFake, readBody } from '../helpers/loopback.js';

export class JsonFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** restJson: more fields of the error body, e.g. Lambda's `Type`. */
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export interface JsonRequest {
  readonly method: string;
  /** The path without the query, URL-decoded per segment. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export interface JsonCall extends JsonRequest {
  /** X-Amz-Target's operation (awsJson), or `METHOD /path` (restJson). */
  readonly operation: string;
  errorCode?: string;
}

export type JsonHandler = (request: JsonRequest) => unknown;

export interface FakeJsonOptions {
  readonly dialect: 'awsJson1_0' | 'awsJson1_1' | 'restJson1';
  /** awsJson: the X-Amz-Target prefix, e.g. ResourceGroupsTaggingAPI_20170126. */
  readonly targetPrefix?: string;
  /** awsJson: operation -> handler. restJson: `METHOD /first-path-segment` -> handler. */
  readonly handlers: Readonly<Record<string, JsonHandler>>;
}

export class FakeJsonServer extends LoopbackFake {
  readonly calls: JsonCall[] = [];

  private constructor(private readonly options: FakeJsonOptions) {
    super();
  }

  static start(options: FakeJsonOptions): Promise<FakeJsonServer> {
    return new FakeJsonServer(options).listen();
  }

  callsTo(operation: string): JsonCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  private operationOf(req: IncomingMessage, path: string): string {
    if (this.options.dialect !== 'restJson1') {
      const target = String(req.headers['x-amz-target'] ?? '');
      const prefix = `${this.options.targetPrefix ?? ''}.`;
      return target.startsWith(prefix) ? target.slice(prefix.length) : '';
    }
    return `${req.method ?? 'GET'} /${path.split('/')[1] ?? ''}`;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.split('/').map(decodeURIComponent).join('/');
    const operation = this.operationOf(req, path);
    const call: JsonCall = { operation, method: req.method ?? '', path, query: url.searchParams, headers: req.headers, body: {} };
    this.calls.push(call);
    const json = this.options.dialect === 'awsJson1_1' ? 'application/x-amz-json-1.1' : this.options.dialect === 'awsJson1_0' ? 'application/x-amz-json-1.0' : 'application/json';
    try {
      if (!String(req.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256 Credential=')) {
        throw new JsonFault('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      }
      if (this.options.dialect !== 'restJson1' && (req.method !== 'POST' || req.headers['content-type'] !== json)) {
        throw new JsonFault('SerializationException', `unexpected ${req.method} with content-type ${String(req.headers['content-type'])}`);
      }
      const text = raw.toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      Object.assign(call, { body });
      const handler = this.options.handlers[operation];
      if (!handler) throw new JsonFault('UnknownOperationException', `no handler for ${operation || req.url}`, 404);
      const answer = handler({ method: call.method, path, query: url.searchParams, headers: req.headers, body });
      res.writeHead(200, { 'content-type': json, 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(answer ?? {}));
    } catch (error) {
      const fault = error instanceof JsonFault ? error : new JsonFault('InternalServerException', String(error), 500);
      call.errorCode = fault.code;
      if (this.options.dialect !== 'restJson1') {
        res.writeHead(fault.status, { 'content-type': json, 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify({ __type: fault.code, message: fault.message }));
      } else {
        res.writeHead(fault.status, { 'content-type': json, 'x-amzn-errortype': fault.code, 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify({ ...fault.fields, Message: fault.message }));
      }
    }
  }
}
