/** `lab preflight`: refuses a lab whose instances, AMI, agents, kernel or ENA driver cannot run the chosen datapath. */
import type { LabCommand } from '../cli.js';
import { datapathNeeds, runPreflight, type PreflightReport } from '../preflight.js';
import { NO_XDP_OPTION, VALUES_OPTION, checkValuesOffline, phaseDeps, valuesForTarget, type CommandSettings } from './shared.js';

export function formatPreflight(report: PreflightReport): string {
  const needs = report.needs;
  const asked = [
    `kernel >= ${needs.minKernel} (cilium ${needs.ciliumVersion})`,
    ...(needs.bpfHostRouting ? ['>= 5.10 for BPF host routing'] : []),
    ...(needs.netkit ? ['>= 6.8 for netkit'] : []),
    ...(needs.xdp === 'native' ? ['ENA >= 2.2.8 for XDP'] : []),
  ];
  const width = Math.max(...report.nodes.map((n) => n.name.length));
  return [
    `preflight ok: ${report.nodes.length} Kubernetes node(s) on Nitro with ENA, SSM agents Online; checked ${asked.join(', ')}`,
    ...report.nodes.map((n) => {
      const f = n.facts;
      return `  ${n.name.padEnd(width)}  ${n.instanceType}  ${n.imageId ?? '-'}  ${f ? `kernel ${f.kernel}  ${f.interface} ${f.driver} ${f.driverVersion}  MTU ${f.mtu ?? '?'}` : ''}`.trimEnd();
    }),
    ...report.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

export function preflightCommand(settings: CommandSettings = {}): LabCommand {
  return {
    name: 'preflight',
    summary: 'check the deployed lab can run Cilium as configured: Nitro + ENA, AMI, SSM agents, kernel, ENA driver',
    options: { ...NO_XDP_OPTION, ...VALUES_OPTION },
    async run(ctx) {
      checkValuesOffline(ctx);
      const target = await ctx.target();
      const prepared = valuesForTarget(ctx, target);
      const needs = datapathNeeds(prepared.version, prepared.values);
      const report = await ctx.reporter.phase('preflight', async () => runPreflight(await phaseDeps(ctx, settings), target, needs), (r) => `${r.nodes.length} node(s) ok`);
      return { text: formatPreflight(report), data: report };
    },
  };
}
