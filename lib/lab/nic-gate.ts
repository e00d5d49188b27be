/**
 * Before `lab cilium` installs Cilium with XDP acceleration on its own (without `lab up`, which
 * tunes first): every Kubernetes node's NIC must already allow XDP, or the agents cannot attach
 * their program and never become Ready (cilium/cilium PR #19593; Cilium's kube-proxy-free guide
 * for ENA: MTU <= 3498, combined channels <= half the maximum). Read with the same probe as
 * `lab check`'s nic-tuning scenario.
 */
import { NIC_STATE_TAG, nicStateScript } from '../checks/scenarios/nic-tuning.js';
import { RemoteStepError, runStep, taggedJson, type PhaseDeps } from './remote.js';
import type { LabTarget } from './target.js';
import { XDP_MAX_MTU } from './tune.js';

export interface NicXdpState {
  readonly node: string;
  readonly interface: string;
  readonly mtu: number | null;
  readonly channels: number | null;
  readonly maxChannels: number | null;
}

/** What keeps XDP from attaching on one node, or undefined when nothing does. */
export function xdpBlocker(state: NicXdpState): string | undefined {
  const problems: string[] = [];
  if (state.mtu === null) problems.push('MTU unreadable');
  else if (state.mtu > XDP_MAX_MTU) problems.push(`MTU ${state.mtu} (XDP needs <= ${XDP_MAX_MTU})`);
  // ENA always reports its combined channels (`ethtool -l`); no answer means the half-the-maximum
  // rule cannot be shown to hold, so it blocks like a breach would.
  if (state.channels === null || state.maxChannels === null) problems.push('combined channels unreadable (ethtool -l)');
  else if (state.channels > Math.floor(state.maxChannels / 2)) {
    problems.push(`${state.channels} of ${state.maxChannels} combined channels (XDP needs <= ${Math.floor(state.maxChannels / 2)})`);
  }
  return problems.length > 0 ? `${state.node}: ${state.interface || 'no default-route NIC'} ${problems.join(', ')}` : undefined;
}

const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** Reads every Kubernetes node's NIC and refuses XDP on any that is not tuned for it, naming the node and the fix. */
export async function assertNicsReadyForXdp(deps: PhaseDeps, target: LabTarget): Promise<NicXdpState[]> {
  const results = await runStep(deps, target.kubeNodes, nicStateScript(), 'read NIC state', deps.timeouts.quickMs);
  const states: NicXdpState[] = [];
  const blocked: string[] = [];
  for (const r of results) {
    const facts = taggedJson(r.stdout, NIC_STATE_TAG) as Record<string, unknown> | undefined;
    if (r.status !== 'Success' || !facts) {
      blocked.push(`${r.name}: NIC state unreadable (${r.status}, exit ${r.exitCode})`);
      continue;
    }
    const state: NicXdpState = { node: r.name, interface: String(facts['interface'] ?? ''), mtu: num(facts['mtu']), channels: num(facts['channels']), maxChannels: num(facts['maxChannels']) };
    states.push(state);
    const blocker = xdpBlocker(state);
    if (blocker) blocked.push(blocker);
  }
  if (blocked.length > 0) {
    throw new RemoteStepError(
      `cilium-lab: XDP acceleration cannot be shown to attach (where it does not, the Cilium agents never become Ready):\n${blocked.map((b) => `  - ${b}`).join('\n')}\n` +
        'tune the NICs first (npm run lab -- tune; it needs ethtool on the node), or install without XDP (npm run lab -- cilium --no-xdp)',
    );
  }
  return states;
}
