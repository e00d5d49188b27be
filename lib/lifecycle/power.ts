/**
 * `lab stop` / `lab start`: pause a lab between study sessions. Stopped instances cost nothing
 * for compute; the EBS volumes and the control plane's Elastic IP still do. After a start the
 * cluster comes back as it was: the NIC MTU is in netplan, the control plane keeps its Elastic IP
 * (so the kubeconfig and the API certificate stay valid); the other nodes get new public IPs.
 */
import type { DeployedNode, LabTarget } from '../lab/target.js';
import type { LifecycleDeps } from './deps.js';
import { DeadlineError, pollUntil } from './timing.js';

export interface PowerReport {
  readonly action: 'stop' | 'start';
  /** Instances this run stopped or started (the others already were). */
  readonly changed: readonly string[];
  readonly already: readonly string[];
  /** instance id -> state at the end. */
  readonly states: Readonly<Record<string, string>>;
  readonly noop: boolean;
}

export class PowerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PowerError';
  }
}

const label = (node: DeployedNode): string => `${node.name} (${node.instanceId})`;

async function currentStates(deps: LifecycleDeps, nodes: readonly DeployedNode[]): Promise<Record<string, string>> {
  const states = await deps.cloud.instanceStates(nodes.map((n) => n.instanceId));
  const missing = nodes.filter((n) => states[n.instanceId] === undefined);
  if (missing.length > 0) throw new PowerError(`EC2 does not know ${missing.map(label).join(', ')}: the stack's outputs are stale; run lab status`);
  const gone = nodes.filter((n) => ['terminated', 'shutting-down'].includes(states[n.instanceId] ?? ''));
  if (gone.length > 0) throw new PowerError(`${gone.map((n) => `${label(n)} is ${states[n.instanceId]}`).join(', ')}: the lab is broken; delete it with lab down and deploy again`);
  return states;
}

/** Polls until every node is in `wanted`; a DeadlineError names the ones that are not. */
async function waitFor(deps: LifecycleDeps, nodes: readonly DeployedNode[], wanted: string, deadline: number): Promise<Record<string, string>> {
  let last: Record<string, string> = {};
  return pollUntil(
    async () => {
      last = await deps.cloud.instanceStates(nodes.map((n) => n.instanceId));
      return nodes.every((n) => last[n.instanceId] === wanted) ? last : undefined;
    },
    deps.timing.instancePollMs,
    deadline,
    () =>
      `not ${wanted} within ${Math.round(deps.timing.instanceTimeoutMs / 1000)} s: ${nodes
        .filter((n) => last[n.instanceId] !== wanted)
        .map((n) => `${label(n)} is ${last[n.instanceId] ?? 'unknown'}`)
        .join(', ')}`,
  );
}

export async function stopLab(deps: LifecycleDeps, target: LabTarget): Promise<PowerReport> {
  const nodes = target.nodes;
  const before = await deps.phase('instance states', () => currentStates(deps, nodes), (s) => summarize(s));
  // A pending instance cannot be stopped yet (EC2 IncorrectInstanceState until it runs): say so
  // and leave it, rather than fail the whole stop.
  const pending = nodes.filter((n) => before[n.instanceId] === 'pending');
  if (pending.length > 0) deps.info(`${pending.map(label).join(', ')} still starting (pending): not stopped now; run lab stop again once it runs`);
  const toStop = nodes.filter((n) => before[n.instanceId] === 'running');
  const already = nodes.filter((n) => before[n.instanceId] === 'stopped');
  if (toStop.length === 0 && already.length + pending.length === nodes.length) {
    deps.skip('stop instances', pending.length > 0 ? 'nothing running to stop' : 'every instance is already stopped');
    return { action: 'stop', changed: [], already: already.map((n) => n.instanceId), states: before, noop: true };
  }
  const deadline = Date.now() + deps.timing.instanceTimeoutMs;
  const states = await deps.phase(
    'stop instances',
    async () => {
      if (toStop.length > 0) await deps.cloud.stopInstances(toStop.map((n) => n.instanceId));
      const stopped = await waitFor(deps, nodes.filter((n) => !pending.includes(n)), 'stopped', deadline);
      return { ...Object.fromEntries(pending.map((n) => [n.instanceId, 'pending'])), ...stopped };
    },
    () => `${toStop.length} stopped`,
  );
  return { action: 'stop', changed: toStop.map((n) => n.instanceId), already: already.map((n) => n.instanceId), states, noop: false };
}

export async function startLab(deps: LifecycleDeps, target: LabTarget): Promise<PowerReport & { readonly agentsOnline: boolean }> {
  const nodes = target.nodes;
  const before = await deps.phase('instance states', () => currentStates(deps, nodes), (s) => summarize(s));
  const already = nodes.filter((n) => before[n.instanceId] === 'running');
  const deadline = Date.now() + deps.timing.instanceTimeoutMs;
  let changed: DeployedNode[] = [];
  let states = before;
  if (already.length === nodes.length) {
    deps.skip('start instances', 'every instance is already running');
  } else {
    states = await deps.phase(
      'start instances',
      async () => {
        // An instance still stopping cannot be started (IncorrectInstanceState): let it finish.
        const stopping = nodes.filter((n) => before[n.instanceId] === 'stopping');
        if (stopping.length > 0) await waitFor(deps, stopping, 'stopped', deadline);
        changed = nodes.filter((n) => before[n.instanceId] !== 'running' && before[n.instanceId] !== 'pending');
        if (changed.length > 0) await deps.cloud.startInstances(changed.map((n) => n.instanceId));
        return waitFor(deps, nodes, 'running', deadline);
      },
      () => `${changed.length} started`,
    );
  }
  const agentsDeadline = Date.now() + deps.timing.agentsTimeoutMs;
  const notOnline = await deps.phase(
    'ssm agents online',
    () => deps.cloud.agentsNotOnline(nodes.map((n) => n.instanceId), agentsDeadline),
    (off) => (Object.keys(off).length === 0 ? `${nodes.length} Online` : `${Object.keys(off).length} not Online`),
  );
  if (Object.keys(notOnline).length > 0) {
    const list = nodes.filter((n) => notOnline[n.instanceId] !== undefined).map((n) => `${label(n)}: ${notOnline[n.instanceId]}`);
    throw new DeadlineError(`the instances run, but the SSM agent is not Online on ${list.join(', ')} within ${Math.round(deps.timing.agentsTimeoutMs / 1000)} s; try lab start again in a few minutes`);
  }
  return {
    action: 'start',
    changed: changed.map((n) => n.instanceId),
    already: already.map((n) => n.instanceId),
    states,
    noop: already.length === nodes.length,
    agentsOnline: true,
  };
}

function summarize(states: Readonly<Record<string, string>>): string {
  const counts = new Map<string, number>();
  for (const state of Object.values(states)) counts.set(state, (counts.get(state) ?? 0) + 1);
  return [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
}

export function formatPowerReport(report: PowerReport, target: LabTarget): string {
  const name = target.plan.config.labName;
  if (report.action === 'stop') {
    if (report.noop) return `lab ${name}: every instance is already stopped; nothing to do`;
    return [
      `lab ${name} stopped: ${report.changed.length} instance(s) stopped${report.already.length > 0 ? `, ${report.already.length} already were` : ''}.`,
      'While stopped it still costs its EBS volumes and the control plane Elastic IP (see lab cost); the expiry schedule still deletes it on time.',
      'Resume with lab start.',
    ].join('\n');
  }
  return [
    report.noop
      ? `lab ${name}: every instance was already running; the SSM agents are Online.`
      : `lab ${name} started: ${report.changed.length} instance(s) started; the SSM agents are Online.`,
    `lab check should pass again: the NIC MTU persists through netplan, and the control plane keeps its Elastic IP ${target.controlPlanePublicIp} (the kubeconfig stays valid). The other nodes have new public IPs.`,
    'Kubernetes needs a minute or two after boot before every node is Ready (lab wait).',
  ].join('\n');
}
