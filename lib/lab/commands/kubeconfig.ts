/** `lab kubeconfig`: the admin kubeconfig (server = Elastic IP, context CiliumLab) written 0600 to the lab's state directory. */
import type { LabCommand } from '../cli.js';
import { fetchKubeconfig, kubeconfigUsage } from '../kubeconfig.js';
import { kubeconfigPath } from '../state.js';
import { phaseDeps, type CommandSettings } from './shared.js';

export function kubeconfigCommand(settings: CommandSettings = {}): LabCommand {
  return {
    name: 'kubeconfig',
    summary: 'fetch the admin kubeconfig (context CiliumLab, server = the Elastic IP) into the lab state directory, mode 0600',
    async run(ctx) {
      const target = await ctx.target();
      const path = kubeconfigPath(target.plan.config.labName);
      const result = await ctx.reporter.phase('kubeconfig', async () => fetchKubeconfig(await phaseDeps(ctx, settings), target, path), (r) => r.path);
      return { text: kubeconfigUsage(result), data: result };
    },
  };
}
