/** `lab status`: the deployed lab's outputs and nodes, its expiry, and (best effort) kubectl get nodes. */
import { expiryStatus, type ExpiryStatus } from '../../lifecycle/expiry-status.js';
import type { LabCommand } from '../cli.js';
import { collectStatus, formatStatus } from '../status.js';
import { labTargetFromOutputs } from '../target.js';
import { lifecycleCloudFor, phaseDeps, type CloudFactory, type CommandSettings } from './shared.js';

export interface StatusSettings extends CommandSettings {
  /** The cloud for the expiry (Scheduler, SQS). @default the real AWS clients, loaded on use */
  readonly createCloud?: CloudFactory;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export function statusCommand(settings: StatusSettings = {}): LabCommand {
  return {
    name: 'status',
    summary: 'show the deployed lab: stack outputs, its expiry (and any failed one), nodes (instance, IPs, state) and kubectl get nodes',
    async run(ctx) {
      const outputs = await (await ctx.services()).stackOutputs(ctx.config.labName);
      const target = labTargetFromOutputs(ctx.config.labName, outputs);
      const status = await collectStatus(await phaseDeps(ctx, settings), target, outputs);
      let expiry: ExpiryStatus;
      try {
        expiry = await expiryStatus(() => lifecycleCloudFor(settings.createCloud, ctx.config.region), outputs, (settings.now ?? (() => new Date()))());
      } catch (error) {
        expiry = { summary: `expiry unknown: ${String((error as Error)?.message ?? error).split('\n')[0]}` };
      }
      return { text: `${formatStatus(status)}\nexpiry: ${expiry.summary}`, data: { ...status, expiry } };
    },
  };
}
