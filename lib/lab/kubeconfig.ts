/**
 * `lab kubeconfig`: the control plane's admin kubeconfig on the operator's machine, pointed at
 * the Elastic IP (in the API server certificate's SANs) and named `CiliumLab` like the study's
 * context, written with mode 0600 into the lab's state directory.
 *
 * The file travels encrypted for this process alone (scripts/node/kubeconfig-export.sh: SSM
 * keeps command output in its history) and is never printed, logged, or put in an error message.
 */
import { constants, createDecipheriv, generateKeyPairSync, pbkdf2Sync, privateDecrypt, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { KUBE_API_PORT } from '../config/catalog.js';
import { RemoteStepError, assertStepSucceeded, renderLabScript, runStep, taggedLines, type PhaseDeps } from './remote.js';
import type { LabTarget } from './target.js';

/** PBKDF2 rounds of `openssl enc -pbkdf2` on the node (the passphrase is 256 random bits). */
export const PBKDF2_ITERATIONS = 10_000;

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

export interface KubeconfigRewrite {
  /** https://<EIP>:6443 */
  readonly server: string;
  /** CiliumLab */
  readonly contextName: string;
}

/**
 * The kubeconfig with every cluster's `server` set to `server` and its context (the current one,
 * or the only one) renamed `contextName` and made current. Errors never quote the file: it holds
 * a client key.
 */
export function rewriteKubeconfig(text: string, rewrite: KubeconfigRewrite): string {
  let doc: Document;
  try {
    doc = parseDocument(text, { prettyErrors: false });
  } catch {
    throw new KubeconfigError('the admin kubeconfig from the control plane is not YAML');
  }
  if (doc.errors.length > 0) throw new KubeconfigError('the admin kubeconfig from the control plane is not valid YAML');
  const clusters = doc.get('clusters');
  const contexts = doc.get('contexts');
  if (!isSeq(clusters) || clusters.items.length === 0 || !isSeq(contexts) || contexts.items.length === 0) {
    throw new KubeconfigError('the admin kubeconfig from the control plane has no clusters or no contexts');
  }
  for (const cluster of clusters.items) {
    if (!isMap(cluster) || !isMap(cluster.get('cluster'))) throw new KubeconfigError('a cluster entry of the admin kubeconfig has no `cluster:` mapping');
    cluster.setIn(['cluster', 'server'], rewrite.server);
  }
  const current = doc.get('current-context');
  const named = contexts.items.filter((c) => isMap(c));
  const context = named.length === 1 ? named[0] : named.find((c) => c.get('name') === current);
  if (!context) throw new KubeconfigError('the admin kubeconfig has several contexts and none is current');
  const others = named.filter((c) => c !== context && c.get('name') === rewrite.contextName);
  if (others.length > 0) throw new KubeconfigError(`the admin kubeconfig already has another context named ${rewrite.contextName}`);
  context.set('name', rewrite.contextName);
  doc.set('current-context', rewrite.contextName);
  return doc.toString({ lineWidth: 0 });
}

/** A one-time RSA key pair: the public half goes to the node, the private half stays here. */
export function oneTimeKeyPair(): { publicKeyPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}

export function kubeconfigExportScript(publicKeyPem: string): string {
  return renderLabScript('kubeconfig-export.sh', { LAB_PUBLIC_KEY_PEM: publicKeyPem.trim(), LAB_PBKDF2_ITER: String(PBKDF2_ITERATIONS) });
}

/** Decrypts a CILIUM_LAB_KUBECONFIG payload (`<wrapped passphrase> <ciphertext>`, both base64). */
export function decryptKubeconfig(payload: string, privateKey: KeyObject): string {
  const [wrapped, body] = payload.trim().split(/\s+/);
  if (!wrapped || !body) throw new KubeconfigError('the control plane sent no encrypted kubeconfig');
  try {
    const passphrase = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(wrapped, 'base64'))
      .toString('utf8')
      .split('\n')[0] as string;
    const data = Buffer.from(body, 'base64');
    if (data.subarray(0, 8).toString('latin1') !== 'Salted__') throw new Error('no salt header');
    const derived = pbkdf2Sync(passphrase, data.subarray(8, 16), PBKDF2_ITERATIONS, 48, 'sha256');
    const decipher = createDecipheriv('aes-256-cbc', derived.subarray(0, 32), derived.subarray(32, 48));
    return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new KubeconfigError(`cannot decrypt the kubeconfig the control plane sent (${(error as Error).message})`);
  }
}

/** Writes the file with mode 0600 (its directory 0700), atomically: a temp file renamed into place. */
export function writePrivateFile(path: string, content: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, content, { mode: 0o600, flag: 'w' });
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export interface KubeconfigResult {
  readonly path: string;
  readonly server: string;
  readonly context: string;
  /** access.operatorCidr of the deployed lab: where the API (6443) is reachable from. */
  readonly operatorCidr?: string;
}

/** Fetches, rewrites and writes the kubeconfig; returns where it went (never its content). */
export async function fetchKubeconfig(deps: PhaseDeps, target: LabTarget, path: string): Promise<KubeconfigResult> {
  const cp = target.controlPlane;
  const { publicKeyPem, privateKey } = oneTimeKeyPair();
  const [result] = await runStep(deps, [cp], kubeconfigExportScript(publicKeyPem), 'kubeconfig', deps.timeouts.quickMs);
  if (!result) throw new Error('cilium-lab: the kubeconfig export ran on no node');
  assertStepSucceeded([result], `reading ${cp.name}:/etc/kubernetes/admin.conf`);
  if (result.stdoutTruncated) throw new RemoteStepError(`cilium-lab: the encrypted kubeconfig from ${cp.name} is longer than SSM returns (24,000 characters)`);
  const payload = taggedLines(result.stdout, 'CILIUM_LAB_KUBECONFIG').at(-1);
  if (payload === undefined) throw new RemoteStepError(`cilium-lab: ${cp.name} sent no CILIUM_LAB_KUBECONFIG line`);
  const server = `https://${target.controlPlanePublicIp}:${KUBE_API_PORT}`;
  const context = target.plan.kubeContext;
  const text = rewriteKubeconfig(decryptKubeconfig(payload, privateKey), { server, contextName: context });
  writePrivateFile(path, text);
  const operatorCidr = target.plan.config.access.operatorCidr;
  return { path, server, context, ...(operatorCidr ? { operatorCidr } : {}) };
}

/** How to use it, and whether the API is reachable at all. */
export function kubeconfigUsage(result: KubeconfigResult): string {
  const reach = result.operatorCidr
    ? `The API (${result.server}) accepts connections from ${result.operatorCidr} only (access.operatorCidr at deploy).`
    : `access.operatorCidr was not set at deploy, so port ${KUBE_API_PORT} is closed to the internet and this kubeconfig cannot connect from here; ` +
      'redeploy with -c access.operatorCidr=$(curl -s https://checkip.amazonaws.com)/32, or use kubectl on the control plane through Session Manager.';
  return [
    `Wrote the admin kubeconfig (context ${result.context}, server ${result.server}) to ${result.path} (mode 0600).`,
    reach,
    '',
    `  export KUBECONFIG=${result.path}`,
    '  kubectl get nodes -o wide',
  ].join('\n');
}
