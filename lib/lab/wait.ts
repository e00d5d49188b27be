/**
 * `lab wait`: on the control plane, `cilium status --wait` and every node Ready
 * (scripts/node/cluster-wait.sh), then each configured Kubernetes node reported: Ready, not
 * Ready, or absent from the cluster (it never joined).
 */
import { RemoteStepError, renderLabScript, runStep, taggedLines, type PhaseDeps } from './remote.js';
import { describeFailures } from './remote-runner.js';
import type { LabTarget } from './target.js';

/** cilium status --wait-duration and kubectl wait --timeout, each. */
export const WAIT_DURATION = '5m';

export interface NodeReadiness {
  readonly name: string;
  /** The Ready condition's status (True, False, Unknown), or `absent` when the cluster has no such node. */
  readonly ready: string;
}

export interface WaitSummary {
  readonly nodes: readonly NodeReadiness[];
}

export function clusterWaitScript(): string {
  return renderLabScript('cluster-wait.sh', { LAB_WAIT_DURATION: WAIT_DURATION });
}

/** Node name -> Ready status from the CILIUM_LAB_NODE lines. */
export function parseNodeLines(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of taggedLines(stdout, 'CILIUM_LAB_NODE')) {
    const [name, status] = line.split(/\s+/);
    if (name) out.set(name, status || 'Unknown');
  }
  return out;
}

export function formatReadiness(node: NodeReadiness, width = node.name.length): string {
  const state = node.ready === 'True' ? 'Ready' : node.ready === 'absent' ? 'NOT IN THE CLUSTER (it never joined)' : `NOT READY (Ready=${node.ready})`;
  return `${node.name.padEnd(width)}  ${state}`;
}

/** Waits for Cilium and the nodes; throws naming each node that is not Ready. */
export async function runWait(deps: PhaseDeps, target: LabTarget): Promise<WaitSummary> {
  const cp = target.controlPlane;
  deps.info(`  on ${cp.name}: cilium status --wait (up to ${WAIT_DURATION}), then every node Ready (up to ${WAIT_DURATION})`);
  const [result] = await runStep(deps, [cp], clusterWaitScript(), 'wait', deps.timeouts.waitMs);
  if (!result) throw new Error('cilium-lab: the wait ran on no node');
  const seen = parseNodeLines(result.stdout);
  const nodes = target.kubeNodes.map((n) => ({ name: n.name, ready: seen.get(n.name) ?? 'absent' }));
  const width = Math.max(...nodes.map((n) => n.name.length));
  for (const node of nodes) deps.info(`  ${formatReadiness(node, width)}`);
  const notReady = nodes.filter((n) => n.ready !== 'True');
  const failure = describeFailures([result], 'cilium status --wait / kubectl wait --for=condition=Ready');
  if (notReady.length > 0 || failure !== undefined) {
    const table = nodes.map((n) => `  ${formatReadiness(n, width)}`).join('\n');
    const lead =
      notReady.length > 0
        ? `cilium-lab: ${notReady.length} of ${nodes.length} node(s) not Ready (${notReady.map((n) => n.name).join(', ')}):`
        : 'cilium-lab: every node is Ready but Cilium did not report itself up:';
    throw new RemoteStepError([lead, table, ...(failure ? [failure] : [])].join('\n'));
  }
  return { nodes };
}
