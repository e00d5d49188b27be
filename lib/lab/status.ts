/**
 * `lab status`: the deployed lab as its stack describes it (outputs, every node with instance id
 * and IPs), the instances' EC2 state, and, best effort, `kubectl get nodes -o wide` from the
 * control plane. Only the stack read is required; the rest degrades to a note.
 */
import { KUBE_API_PORT } from '../config/catalog.js';
import { OUTPUTS } from '../config/outputs.js';
import { runStep, type PhaseDeps } from './remote.js';
import type { LabTarget } from './target.js';

/** Short enough to inline: the control plane's admin kubeconfig and kubectl, as the bootstrap set them up. */
export const KUBECTL_GET_NODES_SCRIPT = [
  'set -o errexit -o nounset -o pipefail',
  'export KUBECONFIG=/etc/kubernetes/admin.conf PATH="${PATH}:/usr/local/bin"',
  'kubectl get nodes -o wide',
  '',
].join('\n');

export interface NodeStatus {
  readonly name: string;
  readonly role: string;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly privateIp: string;
  readonly state: string;
  readonly publicIp?: string;
}

export interface LabStatus {
  readonly stackName: string;
  readonly controlPlanePublicIp: string;
  readonly kubernetesVersion: string;
  readonly ciliumVersion: string;
  readonly nodes: readonly NodeStatus[];
  /** kubectl get nodes -o wide on the control plane, when it answered. */
  readonly kubectl?: string;
  /** Why a best-effort part is missing. */
  readonly notes: readonly string[];
}

const firstLine = (error: unknown): string => String((error as Error)?.message ?? error).split('\n')[0] as string;

export async function collectStatus(deps: PhaseDeps, target: LabTarget, outputs: Readonly<Record<string, string>>): Promise<LabStatus> {
  const notes: string[] = [];
  let states = new Map<string, { state?: string; publicIp?: string }>();
  try {
    const instances = await deps.services.ec2.instances(target.nodes.map((n) => n.instanceId));
    states = new Map(instances.map((i) => [i.instanceId, { ...(i.state ? { state: i.state } : {}), ...(i.publicIp ? { publicIp: i.publicIp } : {}) }]));
  } catch (error) {
    notes.push(`EC2 DescribeInstances failed: ${firstLine(error)}`);
  }
  let kubectl: string | undefined;
  try {
    const [result] = await runStep(deps, [target.controlPlane], KUBECTL_GET_NODES_SCRIPT, 'status', deps.timeouts.quickMs);
    if (result?.status === 'Success') kubectl = result.stdout.trimEnd();
    else notes.push(`kubectl get nodes on ${target.controlPlane.name}: ${result?.status ?? 'no result'}${result?.stderr.trim() ? `: ${result.stderr.trim().split('\n').at(-1)}` : ''}`);
  } catch (error) {
    notes.push(`kubectl get nodes on ${target.controlPlane.name} over SSM failed: ${firstLine(error)}`);
  }
  return {
    stackName: target.stackName,
    controlPlanePublicIp: target.controlPlanePublicIp,
    kubernetesVersion: outputs[OUTPUTS.kubernetesVersion] ?? target.plan.kubernetes.version,
    ciliumVersion: outputs[OUTPUTS.ciliumVersion] ?? target.plan.config.cilium.version,
    nodes: target.nodes.map((n) => {
      const seen = states.get(n.instanceId);
      return {
        name: n.name,
        role: n.role,
        instanceId: n.instanceId,
        instanceType: n.instanceType,
        privateIp: n.privateIp,
        state: seen?.state ?? (states.size > 0 ? 'not found' : 'unknown'),
        ...(seen?.publicIp ? { publicIp: seen.publicIp } : {}),
      };
    }),
    ...(kubectl !== undefined ? { kubectl } : {}),
    notes,
  };
}

export function formatStatus(status: LabStatus): string {
  const header = ['node', 'role', 'instance', 'type', 'private IP', 'public IP', 'state'];
  const rows = status.nodes.map((n) => [n.name, n.role, n.instanceId, n.instanceType, n.privateIp, n.publicIp ?? '-', n.state]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [
    `lab ${status.stackName}: Kubernetes ${status.kubernetesVersion}, Cilium ${status.ciliumVersion}, API https://${status.controlPlanePublicIp}:${KUBE_API_PORT}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    status.kubectl !== undefined ? `kubectl get nodes -o wide (on the control plane):\n${status.kubectl}` : 'kubectl get nodes: no answer from the control plane',
    ...status.notes.map((n) => `note: ${n}`),
  ].join('\n');
}
