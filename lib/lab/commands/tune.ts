/** `lab tune`: every Kubernetes node's NIC tuned for XDP at once (MTU, channels), persisted and verified. */
import type { LabCommand } from '../cli.js';
import { formatTuneLine, runTune, type TuneSummary } from '../tune.js';
import { MTU_OPTION, NO_XDP_OPTION, phaseDeps, tuneOptions, type CommandSettings } from './shared.js';

export function formatTune(summary: TuneSummary): string {
  const width = Math.max(...summary.nodes.map((n) => n.name.length));
  const changed = summary.nodes.filter((n) => n.report?.changed).length;
  return [
    `tuned ${summary.nodes.length} node(s) for MTU ${summary.options.mtu}${summary.options.xdp ? ' with XDP' : ' without XDP'} (${changed} changed):`,
    ...summary.nodes.map((n) => `  ${formatTuneLine(n, width)}`),
    `Cilium agents: ${summary.agents}`,
  ].join('\n');
}

export function tuneCommand(settings: CommandSettings = {}): LabCommand {
  return {
    name: 'tune',
    summary: 'tune every Kubernetes node NIC for Cilium XDP (MTU, channels), persisted; restarts Cilium agents if installed',
    options: { ...MTU_OPTION, ...NO_XDP_OPTION },
    async run(ctx) {
      const options = tuneOptions(ctx);
      const target = await ctx.target();
      const summary = await ctx.reporter.phase('tune', async () => runTune(await phaseDeps(ctx, settings), target, options), (s) => `${s.nodes.length} node(s) tuned`);
      return { text: formatTune(summary), data: summary };
    },
  };
}
