/**
 * An instance's user data as EC2 will receive it, with CloudFormation's references replaced by
 * stand-ins AS LONG AS the real values (so its size against EC2's 16 KB limit is the real one):
 * the wait-condition handle is a presigned S3 URL, here with a session token (~1.6 KB).
 * Used by the tests (size, shellcheck, secrets) and by the synth benchmark (the margin left).
 */
import { gunzipSync, strFromU8 } from 'fflate';


/**
 * A readiness (wait-condition handle) URL of the real shape, on the long side: the regional
 * waitcondition bucket, the stack ARN path with the handle's logical id, and a SigV4 query. A
 * handle URL published in 2025 (eu-west-3, 558 characters for a 70-character stack name) is signed
 * with a long-term key (AKIA..., no session token); this stand-in carries a session token
 * anyway (about 1,000 characters more), so the size limit holds even if CloudFormation ever signs
 * with temporary credentials.
 */
export const READY_URL_STAND_IN =
  'https://cloudformation-waitcondition-ap-northeast-2.s3.ap-northeast-2.amazonaws.com/' +
  'arn%3Aaws%3Acloudformation%3Aap-northeast-2%3A111122223333%3Astack/cilium-lab-nightly-1234567/' +
  '0d1e2f30-4a5b-11ef-9c6d-0a1b2c3d4e5f/ReadinessHandle5F8E1D2C' +
  '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261123T101500Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86399' +
  '&X-Amz-Credential=ASIAEXAMPLEEXAMPLE12%2F20261123%2Fap-northeast-2%2Fs3%2Faws4_request' +
  `&X-Amz-Security-Token=${'IQoJb3JpZ2luX2VjEXAMPLE'.repeat(44)}` +
  `&X-Amz-Signature=${'f3a9c1d2e4b5a697'.repeat(4)}`;

/** Stand-ins for the references a node's user data holds. */
const STAND_INS: readonly [(part: Record<string, any>) => boolean, string][] = [
  [(p) => p.Ref === 'AWS::Region', 'ap-northeast-2'],
  [(p) => typeof p.Ref === 'string' && p.Ref.startsWith('JoinSecret'), 'arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:JoinSecret8A1B2C3D-AbCdEf'],
  [(p) => typeof p.Ref === 'string' && p.Ref.startsWith('ReadinessHandle'), READY_URL_STAND_IN],
  [(p) => p['Fn::GetAtt']?.[1] === 'PublicIp', '203.0.113.10'],
];

/** The user data text of an AWS::EC2::Instance resource of the synthesised template. */
export function userDataText(instance: { Properties: { UserData: Record<string, any> } }): string {
  const joined = instance.Properties.UserData['Fn::Base64'];
  const parts: unknown[] = typeof joined === 'string' ? [joined] : joined['Fn::Join'][1];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const found = STAND_INS.find(([matches]) => matches(part as Record<string, any>));
      if (!found) throw new Error(`unexpected reference in user data: ${JSON.stringify(part)}`);
      return found[1];
    })
    .join('');
}

/**
 * The script a node runs, from its packed user data (renderNodeUserData): the same steps the
 * node's bash takes (base64 -d | gzip -dc around the plain values), done in JavaScript.
 */
export function unpackUserData(userData: string): string {
  const heredoc = (tag: string): string => {
    const match = new RegExp(`<<'${tag}'[^\\n]*\\n([\\s\\S]*?)\\n${tag}\\n`).exec(userData);
    if (!match) throw new Error(`packed user data has no ${tag} part`);
    return match[1] as string;
  };
  const unpack = (tag: string): string => strFromU8(gunzipSync(Buffer.from(heredoc(tag).replace(/\n/g, ''), 'base64')));
  return `${unpack('LAB_PACKED_HEAD')}${heredoc('LAB_VALUES')}\n${unpack('LAB_PACKED_TAIL')}`;
}
