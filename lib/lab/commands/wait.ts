/** `lab wait`: Cilium up (cilium status --wait) and every configured node Ready. */
import type { LabCommand } from '../cli.js';
import { formatReadiness, runWait, type WaitSummary } from '../wait.js';
import { phaseDeps, type CommandSettings } from './shared.js';

export function formatWait(summary: WaitSummary): string {
  const width = Math.max(...summary.nodes.map((n) => n.name.length));
  return [`Cilium is up and all ${summary.nodes.length} node(s) are Ready:`, ...summary.nodes.map((n) => `  ${formatReadiness(n, width)}`)].join('\n');
}

export function waitCommand(settings: CommandSettings = {}): LabCommand {
  return {
    name: 'wait',
    summary: 'wait until Cilium reports itself up and every Kubernetes node is Ready',
    async run(ctx) {
      const target = await ctx.target();
      const summary = await ctx.reporter.phase('wait', async () => runWait(await phaseDeps(ctx, settings), target), (s) => `${s.nodes.length} node(s) Ready`);
      return { text: formatWait(summary), data: summary };
    },
  };
}
