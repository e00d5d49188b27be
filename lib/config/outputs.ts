/**
 * The stack-output contract between LabStack (which writes them) and the `lab` CLI (which
 * reads them to find a deployed lab). Two outputs per node keep a 50-worker lab under
 * CloudFormation's 200 outputs; names and IPs of all nodes travel in `NodeAddresses`.
 */
export const OUTPUTS = {
  controlPlanePublicIp: 'ControlPlanePublicIp',
  /** "k8s-s=192.168.10.10,k8s-w1=192.168.10.101,..." */
  nodeAddresses: 'NodeAddresses',
  /** The validated LabConfig the stack was built from, as JSON (no secrets in it). */
  labConfig: 'LabConfig',
  kubernetesVersion: 'KubernetesVersion',
  ciliumVersion: 'CiliumVersion',
  /** Name of the expiry schedule (group "default"); only when expiresAt is set. */
  expirySchedule: 'ExpirySchedule',
  expiryDeadLetters: 'ExpiryDeadLetters',
  /** The S3 bucket `lab logs` moves node logs and the sysdump through (lib/config/artifacts.ts). */
  artifactsBucket: 'ArtifactsBucket',
  nodeOutput: (nodeName: string, field: 'InstanceId' | 'SessionCommand') => `Node${outputKey(nodeName)}${field}`,
} as const;

/** k8s-w1 -> K8sW1 (output logical IDs are alphanumeric). */
export function outputKey(nodeName: string): string {
  return nodeName
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}
