/**
 * What every remote step of the `lab` commands shares: the deadlines, rendering a script of
 * scripts/node/ for Run Command (lib.sh inlined, values filled in), and reading the one tagged
 * line a script prints for the CLI (`CILIUM_LAB_NIC {json}`).
 */
import { readNodeScripts, renderNodeScript, shellQuote, type NodeScripts, type ScriptValues } from '../infra/node-user-data.js';
import { describeFailures, type NodeRunResult, type RemoteTarget } from './remote-runner.js';
import type { LabServices } from './services.js';

/** Budgets of the steps, in ms (each remote one is also the SSM deadline of its run). */
export interface LabTimeouts {
  /** SSM agents reporting Online (they should already: every node signalled at deploy). */
  readonly agentsOnlineMs: number;
  /** node-facts.sh on every Kubernetes node. */
  readonly factsMs: number;
  /** tune-nic.sh on every Kubernetes node (the script's own deadline is 120 s). */
  readonly tuneMs: number;
  /** Restarting the Cilium agents after a tune (rollout status waits 5 minutes). */
  readonly restartMs: number;
  /** helm repo add and pull (the script allows them 4 minutes), then upgrade --install --wait --timeout 10m. */
  readonly ciliumMs: number;
  /** cilium status --wait (5 min) then every node Ready (5 min). */
  readonly waitMs: number;
  /** Quick reads on the control plane (kubectl get nodes, the admin kubeconfig). */
  readonly quickMs: number;
}

export const DEFAULT_TIMEOUTS: LabTimeouts = {
  agentsOnlineMs: 60_000,
  factsMs: 120_000,
  tuneMs: 180_000,
  restartMs: 6 * 60_000,
  // cilium-install.sh: repository and pull (4 min at most), recovery of a pending release (3 min),
  // helm --wait (10 min), rollout (3 min), and a minute to spare.
  ciliumMs: 21 * 60_000,
  waitMs: 12 * 60_000,
  quickMs: 60_000,
};

/** What the phase functions get: the adapters, where to print progress, the budgets. */
export interface PhaseDeps {
  readonly services: LabServices;
  readonly info: (line: string) => void;
  readonly timeouts: LabTimeouts;
}

let scriptsCache: NodeScripts | undefined;

/** The scripts of scripts/node (read once per process). */
export function nodeScripts(): NodeScripts {
  return (scriptsCache ??= readNodeScripts());
}

/**
 * Renders one script of scripts/node (values block filled in, lib.sh inlined, comments dropped)
 * and, for scripts that take environment parameters (tune-nic.sh), assigns them right after the
 * shebang, quoted for bash.
 */
export function renderLabScript(name: string, values: ScriptValues = {}, env: Readonly<Record<string, string>> = {}, scripts: NodeScripts = nodeScripts()): string {
  const rendered = renderNodeScript(scripts, name, values);
  const assignments = Object.entries(env).map(([key, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`${key} is not an environment variable name`);
    return `${key}=${shellQuote(value)}`;
  });
  if (assignments.length === 0) return rendered;
  // After the shebang and any file-wide shellcheck directive (which must come before the first command).
  const lines = rendered.split('\n');
  const head = lines.findIndex((line) => !line.startsWith('#'));
  const at = head < 0 ? lines.length : head;
  return [...lines.slice(0, at), ...assignments, ...lines.slice(at)].join('\n');
}

/** Every line of `stdout` that starts with `TAG `, without the tag. */
export function taggedLines(stdout: string, tag: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.startsWith(`${tag} `))
    .map((line) => line.slice(tag.length + 1));
}

/** The JSON of the last `TAG {json}` line, or undefined when there is none or it is not JSON. */
export function taggedJson(stdout: string, tag: string): unknown {
  const last = taggedLines(stdout, tag).at(-1);
  if (last === undefined) return undefined;
  try {
    return JSON.parse(last) as unknown;
  } catch {
    return undefined;
  }
}

/** Runs one script on the targets with the step's deadline; the comment names the step in the SSM console. */
export function runStep(deps: PhaseDeps, targets: readonly RemoteTarget[], script: string, step: string, timeoutMs: number): Promise<NodeRunResult[]> {
  return deps.services.remote.runOnNodes(
    targets.map((t) => ({ name: t.name, instanceId: t.instanceId })),
    script,
    { timeoutMs, comment: `cilium-lab ${step}` },
  );
}

/** An error for a remote step that failed on some node, carrying describeFailures' account of it. */
export class RemoteStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteStepError';
  }
}

/** Throws RemoteStepError (with `lead`, then describeFailures) unless every node succeeded. */
export function assertStepSucceeded(results: readonly NodeRunResult[], step: string, lead?: string): void {
  const failures = describeFailures(results, step);
  if (failures !== undefined) throw new RemoteStepError(lead ? `${lead}\n${failures}` : failures);
}
