/**
 * What the post-deploy commands share: their options, reading them (before any AWS call), the
 * deadlines, and the dependencies handed to the phase functions.
 */
import { planLab } from '../../config/plan.js';
import type { LifecycleCloud } from '../../lifecycle/cloud.js';
import type { CommandContext, OptionSpec } from '../cli.js';
import { composeLabCiliumValues, type CiliumValueOptions, type LabCiliumValues } from '../cilium.js';
import { DEFAULT_TIMEOUTS, type LabTimeouts, type PhaseDeps } from '../remote.js';
import type { LabTarget } from '../target.js';
import { DEFAULT_MTU, parseMtu, type TuneOptions } from '../tune.js';

/** Builds the lifecycle cloud (CloudFormation, EC2, Scheduler, SQS, ...) for a region; tests hand in fakes. */
export type CloudFactory = (region: string | undefined) => LifecycleCloud | Promise<LifecycleCloud>;

/**
 * The lifecycle cloud for a region: the given factory, else the real AWS clients, whose SDK
 * modules load only now (never for --help or a usage error).
 */
export async function lifecycleCloudFor(create: CloudFactory | undefined, region: string | undefined): Promise<LifecycleCloud> {
  if (create) return create(region);
  const { createLifecycleCloud } = await import('../../aws/lifecycle-cloud.js');
  return createLifecycleCloud(region ? { region } : {});
}

/** The lab's region as every command finds it: -c region, else the SDK's (environment, then profile). */
export async function labRegion(ctx: CommandContext, sdkDefault?: () => Promise<string | undefined>): Promise<string | undefined> {
  if (ctx.config.region !== undefined) return ctx.config.region;
  return sdkDefault ? sdkDefault() : (await import('../../aws/region.js')).sdkDefaultRegion();
}

/** How the commands are built: production uses the defaults; tests shorten the deadlines. */
export interface CommandSettings {
  readonly timeouts?: Partial<LabTimeouts>;
}

export const NO_XDP_OPTION: Readonly<Record<string, OptionSpec>> = {
  'no-xdp': { type: 'boolean', description: 'no XDP: leave out helm-values/xdp.yaml and tune the NICs without the XDP limits' },
};

export const VALUES_OPTION: Readonly<Record<string, OptionSpec>> = {
  values: { type: 'string', description: 'a Helm values file of your own, merged last (every key is checked against the chart first)' },
};

export const MTU_OPTION: Readonly<Record<string, OptionSpec>> = {
  mtu: { type: 'string', description: 'the NIC MTU to set (at most 3498 with XDP)', default: String(DEFAULT_MTU) },
};

export function timeoutsOf(settings: CommandSettings): LabTimeouts {
  return { ...DEFAULT_TIMEOUTS, ...settings.timeouts };
}

export async function phaseDeps(ctx: CommandContext, settings: CommandSettings): Promise<PhaseDeps> {
  return { services: await ctx.services(), info: (line) => ctx.out.info(line), timeouts: timeoutsOf(settings) };
}

export function wantsXdp(ctx: CommandContext): boolean {
  return ctx.options['no-xdp'] !== true;
}

export function valueOptions(ctx: CommandContext): CiliumValueOptions {
  const file = ctx.options['values'];
  return { xdp: wantsXdp(ctx), ...(typeof file === 'string' ? { userValuesFile: file } : {}) };
}

export function tuneOptions(ctx: CommandContext, xdp = wantsXdp(ctx)): TuneOptions {
  return { mtu: parseMtu(String(ctx.options['mtu'] ?? DEFAULT_MTU), xdp), xdp };
}

/**
 * The Cilium values, checked twice: first with the lab settings given on the command line
 * (before any AWS call, so a bad key in --values costs nothing), then with the deployed lab's own
 * config read back from its stack (its addresses and pinned chart version win).
 */
export function checkValuesOffline(ctx: CommandContext): LabCiliumValues {
  return composeLabCiliumValues(planLab(ctx.config), valueOptions(ctx));
}

export function valuesForTarget(ctx: CommandContext, target: LabTarget): LabCiliumValues {
  return composeLabCiliumValues(target.plan, valueOptions(ctx));
}
