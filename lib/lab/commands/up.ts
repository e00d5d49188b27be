/**
 * `lab up`: the whole post-deploy step, each part a timed phase: preflight, tune, cilium, the
 * profile's resources (profile bgp: its BGP configs and LoadBalancer pool; skipped where the
 * profile has none), wait.
 * It stops at the first phase that fails, with that phase's reason, and prints the phase table
 * either way. Options are read and the values checked before any AWS call.
 */
import type { LabCommand } from '../cli.js';
import { installCilium } from '../cilium.js';
import { applyProfileResources, profileResources } from '../manifests.js';
import { datapathNeeds, runPreflight } from '../preflight.js';
import { runTune } from '../tune.js';
import { runWait } from '../wait.js';
import {
  MTU_OPTION,
  NO_XDP_OPTION,
  VALUES_OPTION,
  checkValuesOffline,
  phaseDeps,
  tuneOptions,
  valuesForTarget,
  type CommandSettings,
} from './shared.js';

export const UP_PHASES = ['preflight', 'tune', 'cilium', 'resources', 'wait'] as const;

export function upCommand(settings: CommandSettings = {}): LabCommand {
  return {
    name: 'up',
    summary: "the whole post-deploy step: preflight, tune, cilium, the profile's resources, wait (stops at the first failure)",
    options: { ...MTU_OPTION, ...NO_XDP_OPTION, ...VALUES_OPTION },
    validate(ctx) {
      const offline = checkValuesOffline(ctx);
      tuneOptions(ctx, datapathNeeds(offline.version, offline.values).xdp !== undefined);
    },
    async run(ctx) {
      const offline = checkValuesOffline(ctx);
      // XDP as the values ask for it (xdp.yaml, or the user's own loadBalancer.acceleration).
      tuneOptions(ctx, datapathNeeds(offline.version, offline.values).xdp !== undefined);
      const target = await ctx.target();
      const prepared = valuesForTarget(ctx, target);
      const needs = datapathNeeds(prepared.version, prepared.values);
      const tune = tuneOptions(ctx, needs.xdp !== undefined);
      const deps = await phaseDeps(ctx, settings);
      const resources = profileResources(target);
      const results: Record<string, unknown> = {};
      const { reporter } = ctx;
      const steps: Record<(typeof UP_PHASES)[number], () => Promise<unknown>> = {
        preflight: () => reporter.phase('preflight', () => runPreflight(deps, target, needs), (r) => `${r.nodes.length} node(s) ok`),
        tune: () => reporter.phase('tune', () => runTune(deps, target, tune), (s) => `MTU ${tune.mtu} on ${s.nodes.length} node(s), agents ${s.agents}`),
        cilium: () => reporter.phase('cilium', () => installCilium(deps, target, prepared), (r) => `cilium ${prepared.version} revision ${r.revision}`),
        resources: async () => {
          if (!resources) return reporter.skip('resources', `profile ${target.plan.config.profile} has none`);
          return reporter.phase('resources', () => applyProfileResources(deps, target, resources), (r) => `${r.applied.length} object(s) applied server-side`);
        },
        wait: () => reporter.phase('wait', () => runWait(deps, target), (s) => `${s.nodes.length} node(s) Ready`),
      };
      for (const [index, name] of UP_PHASES.entries()) {
        try {
          results[name] = await steps[name]();
        } catch (error) {
          for (const later of UP_PHASES.slice(index + 1)) reporter.skip(later, `${name} failed`);
          ctx.out.info(reporter.summary());
          throw error;
        }
      }
      const text = [
        reporter.summary(),
        '',
        `Lab ${target.stackName} is up: Cilium ${prepared.version} on ${target.kubeNodes.length} Ready node(s).`,
        'Next: npm run lab -- kubeconfig   (then kubectl from here), or npm run lab -- status',
      ].join('\n');
      return { text, data: results };
    },
  };
}
