/**
 * Runs `lab <argv>` through runCli with the real lifecycle commands, the real lifecycle adapter
 * and the real LabServices (for `ctx.target()`), all pointed at a FakeAccount.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAwsServices } from '../../lib/aws/services.js';
import { runCli } from '../../lib/lab/cli.js';
import { lifecycleCommands, type LifecycleSettings } from '../../lib/lab/commands/lifecycle.js';
import { CREDENTIALS, QUICK_TIMING, REGION, type FakeAccount } from './fake-account.js';
import { recordingOutput } from '../helpers/output.js';

export interface CliRun {
  readonly code: number;
  readonly info: string[];
  readonly result: string;
  /** Everything, in order. */
  readonly all: string;
}

export class LabCli {
  readonly stateRoot = mkdtempSync(join(tmpdir(), 'cilium-lab-state-'));
  cloudsCreated = 0;

  constructor(
    private readonly account: FakeAccount,
    private readonly settings: Partial<LifecycleSettings> = {},
  ) {}

  stateDir(labName: string): string {
    return join(this.stateRoot, labName);
  }

  async run(argv: readonly string[], withRegion = true): Promise<CliRun> {
    const recorded = recordingOutput();
    const { info, results, all } = recorded;
    const code = await runCli([...argv, ...(withRegion ? ['-c', `region=${REGION}`] : [])], {
      commands: lifecycleCommands({
        timing: QUICK_TIMING,
        env: { CILIUM_LAB_STATE_DIR: this.stateRoot },
        createCloud: () => {
          this.cloudsCreated++;
          return this.account.cloud();
        },
        ...this.settings,
      }),
      createServices: (config) =>
        createAwsServices(config, {
          endpoints: { cloudformation: this.account.cfn.endpoint, ec2: this.account.ec2.endpoint, ...(this.account.ssm ? { ssm: this.account.ssm.endpoint } : {}) },
          credentials: CREDENTIALS,
          maxAttempts: 1,
          pollIntervalMs: 20,
        }),
      out: () => recorded.output,
    });
    return { code, info, result: results.join('\n'), all: all.join('\n') };
  }
}
