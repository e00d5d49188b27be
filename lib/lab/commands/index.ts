/** Every `lab` command, in the order `lab --help` lists them: create (all in one), deploy, post-deploy, check, logs, lifecycle. */
import type { LabCommand } from '../cli.js';
import { CHECK_COMMANDS } from './check.js';
import { createCommand } from './create.js';
import { deployCommand } from './deploy.js';
import { LIFECYCLE_COMMANDS } from './lifecycle.js';
import { logsCommand } from './logs.js';
import { POST_DEPLOY_COMMANDS } from './post-deploy.js';

export const ALL_COMMANDS: readonly LabCommand[] = [createCommand(), deployCommand, ...POST_DEPLOY_COMMANDS, ...CHECK_COMMANDS, logsCommand(), ...LIFECYCLE_COMMANDS];
