/**
 * A local stand-in for the AWS Query protocols, spoken to by the real SDK clients over HTTP, so
 * adapters are tested through the SDK's own serialisation, signing and XML parsing. EC2 and
 * CloudFormation both speak it:
 *
 *   request   `POST /`, `Content-Type: application/x-www-form-urlencoded`, a SigV4 `Authorization`
 *             header, a form body `Action=<Operation>&Version=<api version>&Param.1=...`
 *   response  awsQuery (CloudFormation): `<ActionResponse><ActionResult>...</ActionResult>
 *             <ResponseMetadata><RequestId/></ResponseMetadata></ActionResponse>`, lists as
 *             `<member>`; ec2Query (EC2): `<ActionResponse><requestId/>...</ActionResponse>`, lists
 *             as `<item>`, element names in lowerCamelCase.
 *   errors    awsQuery: HTTP 400 `<ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error>
 *             <RequestId/></ErrorResponse>`; ec2Query: HTTP 400 `<Response><Errors><Error><Code/>
 *             <Message/></Error></Errors><RequestID/></Response>`.
 *
 * Handlers per Action get the decoded form parameters and return the result as a plain object
 * (arrays become `<member>`/`<item>` lists), or throw QueryFault for an AWS error.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackFake, readBody } from '../helpers/loopback.js';

export type QueryFlavour = 'awsQuery' | 'ec2Query';

/** An AWS error answer: its code (`ValidationError`, `InvalidInstanceID.NotFound`), message and HTTP status. */
export class QueryFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** A result: nested objects become elements, arrays become lists, other values text. */
export type XmlValue = string | number | boolean | null | undefined | readonly XmlValue[] | { readonly [key: string]: XmlValue };

export type QueryParams = Readonly<Record<string, string>>;
export type QueryHandler = (params: QueryParams) => XmlValue;

export interface FakeQueryOptions {
  readonly flavour: QueryFlavour;
  /** The API version the SDK must send (EC2 2016-11-15, CloudFormation 2010-05-15). */
  readonly version: string;
  /** Response namespace, e.g. http://ec2.amazonaws.com/doc/2016-11-15/. */
  readonly xmlns: string;
  readonly handlers: Readonly<Record<string, QueryHandler>>;
}

export interface QueryCall {
  readonly action: string;
  readonly params: QueryParams;
  readonly headers: IncomingHttpHeaders;
  /** The error code answered, if any. */
  errorCode?: string;
}

export const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Serialises a result: `{a: [x, y]}` -> `<a><item>x</item><item>y</item></a>` (or `<member>`). */
export function toXml(value: XmlValue, listTag: 'member' | 'item'): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => `<${listTag}>${toXml(v as XmlValue, listTag)}</${listTag}>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, XmlValue>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v, listTag)}</${k}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** The values of a flattened list parameter (`InstanceId.1`, `InstanceId.2`, ...), in order. */
export function listParam(params: QueryParams, name: string): string[] {
  return Object.entries(params)
    .map(([key, value]) => [new RegExp(`^${name.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(key)?.[1], value] as const)
    .filter((entry): entry is readonly [string, string] => entry[0] !== undefined)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, value]) => value);
}

export class FakeQueryServer extends LoopbackFake {
  readonly calls: QueryCall[] = [];

  private constructor(private readonly options: FakeQueryOptions) {
    super();
  }

  static start(options: FakeQueryOptions): Promise<FakeQueryServer> {
    return new FakeQueryServer(options).listen();
  }

  callsTo(action: string): QueryCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = Object.fromEntries(new URLSearchParams((await readBody(req)).toString('utf8')));
    const action = params['Action'] ?? '';
    const call: QueryCall = { action, params, headers: req.headers };
    this.calls.push(call);
    try {
      if (req.method !== 'POST' || !(req.url ?? '').startsWith('/')) throw new QueryFault('InvalidAction', `${req.method} ${req.url}`);
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        throw new QueryFault('InvalidParameterValue', `unexpected content-type ${String(req.headers['content-type'])}`);
      }
      if (!String(req.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256 Credential=')) {
        throw new QueryFault('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
      }
      if (params['Version'] !== this.options.version) throw new QueryFault('InvalidParameterValue', `Version ${String(params['Version'])} is not ${this.options.version}`);
      const handler = this.options.handlers[action];
      if (!handler) throw new QueryFault('InvalidAction', `The action ${action} is not valid for this web service.`);
      const result = handler(params);
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': randomUUID() });
      res.end(this.success(action, result));
    } catch (error) {
      const fault = error instanceof QueryFault ? error : new QueryFault('InternalFailure', String(error), 500);
      call.errorCode = fault.code;
      res.writeHead(fault.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': randomUUID() });
      res.end(this.failure(fault));
    }
  }

  private success(action: string, result: XmlValue): string {
    const { flavour, xmlns } = this.options;
    const requestId = randomUUID();
    if (flavour === 'ec2Query') {
      return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}"><requestId>${requestId}</requestId>${toXml(result, 'item')}</${action}Response>`;
    }
    return (
      `<${action}Response xmlns="${xmlns}"><${action}Result>${toXml(result, 'member')}</${action}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
    );
  }

  private failure(fault: QueryFault): string {
    const requestId = randomUUID();
    if (this.options.flavour === 'ec2Query') {
      return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(fault.code)}</Code><Message>${escapeXml(fault.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
    }
    return (
      `<ErrorResponse xmlns="${this.options.xmlns}"><Error><Type>${fault.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
      `<Code>${escapeXml(fault.code)}</Code><Message>${escapeXml(fault.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
    );
  }
}

/** EC2's dialect. */
export const EC2_QUERY = { flavour: 'ec2Query', version: '2016-11-15', xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/' } as const;
/** CloudFormation's dialect. */
export const CFN_QUERY = { flavour: 'awsQuery', version: '2010-05-15', xmlns: 'http://cloudformation.amazonaws.com/doc/2010-05-15/' } as const;
