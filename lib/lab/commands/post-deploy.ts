/**
 * The post-deploy commands of the `lab` CLI (after `npx cdk deploy`), in the order a user runs
 * them: `up` does preflight, tune, cilium and wait in one go.
 */
import type { LabCommand } from '../cli.js';
import { ciliumCommand } from './cilium.js';
import { kubeconfigCommand } from './kubeconfig.js';
import { preflightCommand } from './preflight.js';
import type { CommandSettings } from './shared.js';
import { statusCommand } from './status.js';
import { tuneCommand } from './tune.js';
import { upCommand } from './up.js';
import { waitCommand } from './wait.js';

/** The commands with the given settings (tests shorten the deadlines). */
export function postDeployCommands(settings: CommandSettings = {}): LabCommand[] {
  return [
    upCommand(settings),
    preflightCommand(settings),
    tuneCommand(settings),
    ciliumCommand(settings),
    waitCommand(settings),
    statusCommand(settings),
    kubeconfigCommand(settings),
  ];
}

export const POST_DEPLOY_COMMANDS: LabCommand[] = postDeployCommands();
