/** `lab cilium`: Cilium through Helm on the control plane, with the documented values checked against the chart. */
import type { LabCommand } from '../cli.js';
import { installCilium, type HelmRelease, type LabCiliumValues } from '../cilium.js';
import { assertNicsReadyForXdp } from '../nic-gate.js';
import { datapathNeeds } from '../preflight.js';
import { NO_XDP_OPTION, VALUES_OPTION, checkValuesOffline, phaseDeps, valuesForTarget, type CommandSettings } from './shared.js';

export function formatRelease(release: HelmRelease, prepared: LabCiliumValues): string {
  return [
    `Cilium ${prepared.version}: Helm release cilium in kube-system is ${release.status} (revision ${release.revision}, chart ${release.chart}, app ${release.appVersion}).`,
    'Values, later wins:',
    ...prepared.sources.map((s) => `  - ${s}`),
    'Next: npm run lab -- wait',
  ].join('\n');
}

export function ciliumCommand(settings: CommandSettings = {}): LabCommand {
  return {
    name: 'cilium',
    summary: 'install or upgrade Cilium with Helm (helm-values/ + computed values), every key checked against the chart',
    options: { ...NO_XDP_OPTION, ...VALUES_OPTION },
    async run(ctx) {
      checkValuesOffline(ctx);
      const target = await ctx.target();
      const prepared = valuesForTarget(ctx, target);
      // `lab up` tunes right before; alone, `lab cilium` must not install an XDP the NICs refuse.
      if (datapathNeeds(prepared.version, prepared.values).xdp === 'native') {
        await ctx.reporter.phase('NICs ready for XDP', async () => assertNicsReadyForXdp(await phaseDeps(ctx, settings), target), (s) => `${s.length} node(s) tuned`);
      }
      const release = await ctx.reporter.phase('cilium', async () => installCilium(await phaseDeps(ctx, settings), target, prepared), (r) => `revision ${r.revision} ${r.status}`);
      return { text: formatRelease(release, prepared), data: { release, sources: prepared.sources } };
    },
  };
}
