/**
 * Every `lab` command, in the order `lab --help` lists them: create (all in one), deploy,
 * post-deploy, check, logs, lifecycle. One factory builds them all, so the CLI and the nightly's
 * rehearsal (test/ci/nightly-rehearsal.test.ts, which hands in loopback fakes) run the same set.
 */
import type { LabCommand } from '../cli.js';
import { checkCommand, type CheckCommandSettings } from './check.js';
import { createCommand } from './create.js';
import { hubbleCommand, type HubbleCommandSettings } from './hubble.js';
import { densityCommand, maxPodsCommand, type DensityCommandSettings } from './density.js';
import { perfCommand, type PerfCommandSettings } from './perf.js';
import { deployCommandWith, type DeploySettings } from './deploy.js';
import { lifecycleCommands, type LifecycleSettings } from './lifecycle.js';
import { logsCommand, type LogsSettings } from './logs.js';
import { postDeployCommands } from './post-deploy.js';
import { profilesCommand } from './profiles.js';
import type { CommandSettings } from './shared.js';

/** What each group of commands is built with (production: the defaults, all real AWS). */
export interface AllCommandSettings {
  readonly deploy?: DeploySettings;
  /** up, preflight, tune, cilium, wait, status, kubeconfig. */
  readonly postDeploy?: CommandSettings;
  readonly check?: CheckCommandSettings;
  readonly logs?: LogsSettings;
  readonly hubble?: HubbleCommandSettings;
  /** max-pods, density (the pod density exercise). */
  readonly density?: DensityCommandSettings;
  readonly perf?: PerfCommandSettings;
  /** down, sweep, extend, stop, start, cost. */
  readonly lifecycle?: LifecycleSettings;
}

export function allCommands(settings: AllCommandSettings = {}): LabCommand[] {
  const deploy = deployCommandWith(settings.deploy);
  const postDeploy = postDeployCommands(settings.postDeploy);
  const check = checkCommand(settings.check);
  const up = postDeploy.find((c) => c.name === 'up') as LabCommand;
  return [
    createCommand({ deploy, up, check, ...(settings.deploy?.now ? { now: settings.deploy.now } : {}) }),
    deploy,
    ...postDeploy,
    check,
    hubbleCommand(settings.hubble),
    maxPodsCommand(settings.density),
    densityCommand(settings.density),
    perfCommand(settings.perf),
    profilesCommand,
    logsCommand(settings.logs),
    ...lifecycleCommands(settings.lifecycle),
  ];
}

export const ALL_COMMANDS: readonly LabCommand[] = allCommands();
