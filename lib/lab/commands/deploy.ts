import { EXPIRY_SCHEDULE_GROUP, expiryScheduleName } from '../../config/expiry.js';
import { OUTPUTS } from '../../config/outputs.js';
import type { LifecycleCloud } from '../../lifecycle/cloud.js';
import { parseAtExpression } from '../../lifecycle/extend.js';
import { UsageError, type CommandContext, type LabCommand } from '../cli.js';
import { DEFAULT_TTL, MAX_TTL_DAYS, ttlSeconds } from '../../config/expiry.js';
import { cdkDeployArgs, expiryFrom, runCdk } from '../deploy.js';
import { redeployRefusals } from '../redeploy.js';
import { lifecycleCloudFor, type CloudFactory } from './shared.js';

export interface DeploySettings {
  /** The cloud for a region, to read a deployed lab's expiry. @default the real AWS clients (loaded on use) */
  readonly createCloud?: CloudFactory;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** What a deploy must know of the lab when it is already up: the config it was built from and its expiry. */
interface DeployedLab {
  /** The stack's LabConfig output (parsed JSON), when it has one. */
  readonly config: unknown;
  /** From its schedule (what `lab extend` moves); undefined without one. */
  readonly expiry: Date | undefined;
}

/** The lab as deployed, or undefined for a lab that is not (yet, or any more). */
async function deployedLab(cloud: LifecycleCloud, labName: string): Promise<DeployedLab | undefined> {
  const stack = await cloud.describeStack(labName);
  if (!stack || stack.status === 'DELETE_COMPLETE') return undefined;
  const schedule = await cloud.getSchedule(stack.outputs[OUTPUTS.expirySchedule] ?? expiryScheduleName(labName), EXPIRY_SCHEDULE_GROUP);
  let config: unknown;
  try {
    config = JSON.parse(stack.outputs[OUTPUTS.labConfig] ?? 'null');
  } catch {
    config = undefined; // not judged: the stack's own output is unreadable, cdk deploy will replace it
  }
  return { config, expiry: schedule ? parseAtExpression(schedule.expression, schedule.timezone) : undefined };
}

const iso = (date: Date): string => date.toISOString().replace('.000Z', 'Z');

/** The deploy's own input, refused before any AWS call: the lifetime (seconds; undefined: none) and a given expiry. */
function deployInput(ctx: CommandContext, now: Date): { ttl: number | undefined; given: string | undefined } {
  const ttlText = typeof ctx.options.ttl === 'string' ? ctx.options.ttl : ctx.config.ttl;
  const given = ctx.config.expiresAt;
  if (ttlText === 'none' && given !== undefined) throw new UsageError(`ttl: none contradicts expiresAt ${given}; leave out one of them`);
  const ttl = ttlText === 'none' ? undefined : ttlSeconds(ttlText);
  if (ttlText !== 'none' && ttl === undefined) throw new UsageError(`--ttl ${ttlText}: write a lifetime of at most ${MAX_TTL_DAYS} days such as 90m, 4h or 1d, or none for a lab that never expires`);
  if (given !== undefined && new Date(given).getTime() <= now.getTime()) {
    throw new UsageError(`expiresAt: ${given} is not in the future (now ${iso(now)}): the expiry schedule would never fire; give a later time, or leave it out and use --ttl`);
  }
  return { ttl, given };
}

export function deployCommandWith(settings: DeploySettings = {}): LabCommand {
  return {
    name: 'deploy',
    summary: 'cdk deploy the lab with an expiry (now + --ttl; never earlier than one lab extend set; --ttl none: none); the same -c settings as cdk',
    options: {
      ttl: { type: 'string', description: `lifetime before auto-expiry deletes the lab (90m, 4h, 1d), or none for a lab that never expires (default: the ttl setting, ${DEFAULT_TTL})` },
      yes: { type: 'boolean', description: 'do not ask before IAM/security-group changes (CI)', default: false },
    },
    validate(ctx) {
      deployInput(ctx, (settings.now ?? (() => new Date()))());
    },
    async run(ctx) {
      const now = (settings.now ?? (() => new Date()))();
      const { ttl, given } = deployInput(ctx, now);
      // A lab already up: refuse what a re-deploy cannot change in place, and keep a later expiry.
      const cloud = await lifecycleCloudFor(settings.createCloud, ctx.config.region);
      const deployed = await ctx.reporter.phase('deployed lab', () => deployedLab(cloud, ctx.config.labName), (d) => (d ? `up${d.expiry ? `, expires ${iso(d.expiry)}` : ', no expiry'}` : 'not deployed yet'));
      const refused = deployed ? redeployRefusals(deployed.config, ctx.config) : [];
      if (refused.length > 0) throw new UsageError(refused.join('\n'));
      if (ttl === undefined) {
        // On purpose: no expiry at all (the template gets ttl=none, so no expiry clock either).
        const flags = ctx.contextFlags.some((f) => f.startsWith('ttl=')) ? ctx.contextFlags : [...ctx.contextFlags, 'ttl=none'];
        const args = cdkDeployArgs(flags, undefined, { yes: ctx.options.yes === true });
        await ctx.reporter.phase('deploy', () => runCdk(args), () => `stack ${ctx.config.labName}, no expiry (ttl none)`);
        return {
          text: `lab ${ctx.config.labName} deployed WITHOUT an expiry: it runs and costs until \`lab down\`. Next: npm run lab -- up -c labName=${ctx.config.labName}`,
          data: { labName: ctx.config.labName },
        };
      }
      const ttlMs = ttl * 1000;
      let expiresAt = given ?? expiryFrom(now, ttlMs);
      if (given === undefined) {
        // A re-deploy (a changed setting) must not cut short the life `lab extend` gave the lab.
        const current = deployed?.expiry;
        if (current && current.getTime() > new Date(expiresAt).getTime()) {
          ctx.out.info(`keeping the lab's later expiry ${iso(current)} (lab extend moved it); --ttl would have set ${expiresAt}`);
          expiresAt = iso(current);
        }
      }
      const args = cdkDeployArgs(ctx.contextFlags, expiresAt, { yes: ctx.options.yes === true });
      await ctx.reporter.phase('deploy', () => runCdk(args), () => `stack ${ctx.config.labName}, expires ${expiresAt}`);
      return {
        text: `lab ${ctx.config.labName} deployed; it expires at ${expiresAt}. Next: npm run lab -- up -c labName=${ctx.config.labName}`,
        data: { labName: ctx.config.labName, expiresAt },
      };
    },
  };
}

export const deployCommand: LabCommand = deployCommandWith();
