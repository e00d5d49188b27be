/** `lab status`: the deployed lab's outputs and nodes, and (best effort) kubectl get nodes. */
import type { LabCommand } from '../cli.js';
import { collectStatus, formatStatus } from '../status.js';
import { labTargetFromOutputs } from '../target.js';
import { phaseDeps, type CommandSettings } from './shared.js';

export function statusCommand(settings: CommandSettings = {}): LabCommand {
  return {
    name: 'status',
    summary: 'show the deployed lab: stack outputs, nodes (instance, IPs, state) and kubectl get nodes',
    async run(ctx) {
      const outputs = await (await ctx.services()).stackOutputs(ctx.config.labName);
      const target = labTargetFromOutputs(ctx.config.labName, outputs);
      const status = await collectStatus(await phaseDeps(ctx, settings), target, outputs);
      return { text: formatStatus(status), data: status };
    },
  };
}
