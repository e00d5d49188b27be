/**
 * `lab tune`: scripts/node/tune-nic.sh on every Kubernetes node at once (MTU, combined channels,
 * persisted and verified on the node), each node's before/after from its CILIUM_LAB_NIC line,
 * then, when a NIC changed and Cilium is already installed, a restart of the Cilium agents: an
 * agent reads the device MTU when it starts.
 */
import type { NodeRunResult } from './remote-runner.js';
import { UsageError } from './cli.js';
import { RemoteStepError, assertStepSucceeded, renderLabScript, runStep, taggedJson, taggedLines, type PhaseDeps } from './remote.js';
import type { LabTarget } from './target.js';

/** The largest MTU ENA takes with an XDP program attached (one 4 KiB page per buffer). */
export const XDP_MAX_MTU = 3498;
export const DEFAULT_MTU = XDP_MAX_MTU;
/** The VPC's jumbo-frame MTU, the largest an ENA NIC takes. */
export const ENA_MAX_MTU = 9001;
/** kubectl rollout status --timeout of the agents' restart. */
export const ROLLOUT_TIMEOUT = '5m';

export interface TuneOptions {
  readonly mtu: number;
  readonly xdp: boolean;
}

/** Reads --mtu: a whole number from 68 to 9001, at most 3498 while XDP is wanted. */
export function parseMtu(text: string, xdp: boolean): number {
  if (!/^\d{2,4}$/.test(text.trim()) || Number(text) < 68 || Number(text) > ENA_MAX_MTU) {
    throw new UsageError(`--mtu ${text}: give a whole number from 68 to ${ENA_MAX_MTU}`);
  }
  const mtu = Number(text);
  if (xdp && mtu > XDP_MAX_MTU) {
    throw new UsageError(`--mtu ${mtu} is above ${XDP_MAX_MTU}, the largest MTU ENA accepts with an XDP program attached; use --mtu ${XDP_MAX_MTU} or less, or --no-xdp`);
  }
  return mtu;
}

/** tune-nic.sh rendered with lib.sh inlined and its parameters assigned at the top. */
export function tuneScript(options: TuneOptions): string {
  return renderLabScript('tune-nic.sh', {}, { LAB_NIC_MTU: String(options.mtu), LAB_NIC_XDP: String(options.xdp) });
}

/** The CILIUM_LAB_NIC line of tune-nic.sh. */
export interface NicReport {
  readonly interface: string;
  readonly mac: string;
  readonly mtuBefore: number | null;
  readonly mtuAfter: number | null;
  readonly channelsBefore: number | null;
  readonly channelsAfter: number | null;
  readonly channelsMax: number | null;
  readonly driver: string;
  readonly driverVersion: string;
  readonly xdp: boolean;
  readonly changed: boolean;
}

export function parseNicReport(stdout: string): NicReport | undefined {
  const raw = taggedJson(stdout, 'CILIUM_LAB_NIC') as Record<string, unknown> | undefined;
  if (!raw || typeof raw !== 'object' || typeof raw['interface'] !== 'string' || typeof raw['changed'] !== 'boolean') return undefined;
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    interface: raw['interface'],
    mac: str(raw['mac']),
    mtuBefore: num(raw['mtuBefore']),
    mtuAfter: num(raw['mtuAfter']),
    channelsBefore: num(raw['channelsBefore']),
    channelsAfter: num(raw['channelsAfter']),
    channelsMax: num(raw['channelsMax']),
    driver: str(raw['driver']),
    driverVersion: str(raw['driverVersion']),
    xdp: raw['xdp'] === true,
    changed: raw['changed'],
  };
}

export interface NodeTuneResult {
  readonly name: string;
  readonly instanceId: string;
  readonly report?: NicReport;
  /** Why the node is not tuned; undefined when it is. */
  readonly failure?: string;
}

export interface TuneSummary {
  readonly options: TuneOptions;
  readonly nodes: readonly NodeTuneResult[];
  /** What happened to the Cilium agents. */
  readonly agents: 'absent' | 'restarted' | 'not restarted: no NIC changed';
}

const dash = (v: number | null): string => (v === null ? '-' : String(v));

/** One line per node: MTU and channels before -> after, driver, changed or not; or why it failed. */
export function formatTuneLine(node: NodeTuneResult, width = node.name.length): string {
  const name = node.name.padEnd(width);
  if (!node.report) return `${name}  FAILED: ${node.failure ?? 'no report'}`;
  const r = node.report;
  const channels = r.channelsMax === null ? 'channels n/a' : `channels ${dash(r.channelsBefore)} -> ${dash(r.channelsAfter)} (max ${r.channelsMax})`;
  return `${name}  ${r.interface}  mtu ${dash(r.mtuBefore)} -> ${dash(r.mtuAfter)}  ${channels}  ${r.driver} ${r.driverVersion}  ${r.changed ? 'changed' : 'unchanged'}`;
}

/** The per-node outcome of one tune run. */
export function tuneResults(results: readonly NodeRunResult[]): NodeTuneResult[] {
  return results.map((r) => {
    const report = r.status === 'Success' ? parseNicReport(r.stdout) : undefined;
    if (report) return { name: r.name, instanceId: r.instanceId, report };
    const lastError = r.stderr.trim().split('\n').at(-1);
    const failure =
      r.status === 'Success'
        ? 'tune-nic.sh printed no CILIUM_LAB_NIC line'
        : `${r.status}${r.exitCode >= 0 ? `, exit code ${r.exitCode}` : ''}${r.note ? `, ${r.note}` : ''}${lastError ? `: ${lastError}` : ''}`;
    return { name: r.name, instanceId: r.instanceId, failure };
  });
}

export function ciliumRestartScript(): string {
  return renderLabScript('cilium-restart.sh', { LAB_ROLLOUT_TIMEOUT: ROLLOUT_TIMEOUT });
}

/** Tunes every Kubernetes node; throws listing every node (tuned or not) when one failed. */
export async function runTune(deps: PhaseDeps, target: LabTarget, options: TuneOptions): Promise<TuneSummary> {
  const nodes = target.kubeNodes;
  deps.info(`  tune-nic.sh on ${nodes.length} node(s): MTU ${options.mtu}, XDP ${options.xdp ? 'wanted' : 'not wanted'}`);
  const results = await runStep(deps, nodes, tuneScript(options), 'tune', deps.timeouts.tuneMs);
  const tuned = tuneResults(results);
  const width = Math.max(...tuned.map((n) => n.name.length));
  for (const node of tuned) deps.info(`  ${formatTuneLine(node, width)}`);
  const failed = tuned.filter((n) => !n.report);
  if (failed.length > 0) {
    const table = tuned.map((n) => `  ${formatTuneLine(n, width)}`).join('\n');
    const lead = `cilium-lab: the NIC of ${failed.length} of ${tuned.length} node(s) is not tuned (${failed.map((n) => n.name).join(', ')}):\n${table}`;
    assertStepSucceeded(results, 'tune-nic.sh', lead);
    throw new RemoteStepError(lead);
  }
  if (!tuned.some((n) => n.report?.changed)) {
    return { options, nodes: tuned, agents: 'not restarted: no NIC changed' };
  }
  const cp = target.controlPlane;
  const [restart] = await runStep(deps, [cp], ciliumRestartScript(), 'restart cilium agents', deps.timeouts.restartMs);
  if (!restart) throw new Error('cilium-lab: the agent restart ran on no node');
  assertStepSucceeded([restart], 'restarting the Cilium agents (they keep the old MTU until they restart)');
  const state = taggedLines(restart.stdout, 'CILIUM_LAB_AGENTS').at(-1);
  if (state !== 'absent' && state !== 'restarted') {
    throw new RemoteStepError(`cilium-lab: cilium-restart.sh on ${cp.name} did not say whether it restarted the agents (no CILIUM_LAB_AGENTS line)`);
  }
  deps.info(state === 'restarted' ? '  Cilium agents restarted: they use the new MTU' : '  Cilium is not installed yet: no agent to restart');
  return { options, nodes: tuned, agents: state };
}
