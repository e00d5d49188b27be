/**
 * The per-lab state directory on the operator's machine: the kubeconfig (mode 0600), the last
 * run reports. `$CILIUM_LAB_STATE_DIR/<labName>`, by default `~/.cilium-lab/<labName>`.
 * `lab down` removes it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function labStateDir(labName: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(env.CILIUM_LAB_STATE_DIR ?? join(homedir(), '.cilium-lab'), labName);
}

export function kubeconfigPath(labName: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(labStateDir(labName, env), 'kubeconfig');
}
