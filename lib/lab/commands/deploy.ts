import { EXPIRY_SCHEDULE_GROUP, expiryScheduleName } from '../../config/expiry.js';
import { OUTPUTS } from '../../config/outputs.js';
import type { LifecycleCloud } from '../../lifecycle/cloud.js';
import { parseAtExpression } from '../../lifecycle/extend.js';
import { UsageError, type LabCommand } from '../cli.js';
import { DEFAULT_TTL, MAX_TTL_DAYS, ttlSeconds } from '../../config/expiry.js';
import { cdkDeployArgs, expiryFrom, runCdk } from '../deploy.js';
import { lifecycleCloudFor, type CloudFactory } from './shared.js';

export interface DeploySettings {
  /** The cloud for a region, to read a deployed lab's expiry. @default the real AWS clients (loaded on use) */
  readonly createCloud?: CloudFactory;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * The expiry a lab already has, from its schedule (what `lab extend` moves), or undefined for a lab
 * that is not deployed (or has no schedule).
 */
async function currentExpiry(cloud: LifecycleCloud, labName: string): Promise<Date | undefined> {
  const stack = await cloud.describeStack(labName);
  if (!stack || stack.status === 'DELETE_COMPLETE') return undefined;
  const schedule = await cloud.getSchedule(stack.outputs[OUTPUTS.expirySchedule] ?? expiryScheduleName(labName), EXPIRY_SCHEDULE_GROUP);
  return schedule ? parseAtExpression(schedule.expression, schedule.timezone) : undefined;
}

const iso = (date: Date): string => date.toISOString().replace('.000Z', 'Z');

export function deployCommandWith(settings: DeploySettings = {}): LabCommand {
  return {
    name: 'deploy',
    summary: 'cdk deploy the lab with an expiry (now + --ttl; never earlier than one lab extend set; --ttl none: none); the same -c settings as cdk',
    options: {
      ttl: { type: 'string', description: `lifetime before auto-expiry deletes the lab (90m, 4h, 1d), or none for a lab that never expires (default: the ttl setting, ${DEFAULT_TTL})` },
      yes: { type: 'boolean', description: 'do not ask before IAM/security-group changes (CI)', default: false },
    },
    async run(ctx) {
      const now = (settings.now ?? (() => new Date()))();
      const ttlText = typeof ctx.options.ttl === 'string' ? ctx.options.ttl : ctx.config.ttl;
      const given = ctx.config.expiresAt;
      if (ttlText === 'none') {
        // On purpose: no expiry at all (the template gets ttl=none, so no expiry clock either).
        if (given !== undefined) throw new UsageError(`ttl: none contradicts expiresAt ${given}; leave out one of them`);
        const flags = ctx.contextFlags.some((f) => f.startsWith('ttl=')) ? ctx.contextFlags : [...ctx.contextFlags, 'ttl=none'];
        const args = cdkDeployArgs(flags, undefined, { yes: ctx.options.yes === true });
        await ctx.reporter.phase('deploy', () => runCdk(args), () => `stack ${ctx.config.labName}, no expiry (ttl none)`);
        return {
          text: `lab ${ctx.config.labName} deployed WITHOUT an expiry: it runs and costs until \`lab down\`. Next: npm run lab -- up -c labName=${ctx.config.labName}`,
          data: { labName: ctx.config.labName },
        };
      }
      const ttl = ttlSeconds(ttlText);
      if (ttl === undefined) throw new UsageError(`--ttl ${ttlText}: write a lifetime of at most ${MAX_TTL_DAYS} days such as 90m, 4h or 1d, or none for a lab that never expires`);
      const ttlMs = ttl * 1000;
      if (given !== undefined && new Date(given).getTime() <= now.getTime()) {
        throw new UsageError(`expiresAt: ${given} is not in the future (now ${iso(now)}): the expiry schedule would never fire; give a later time, or leave it out and use --ttl`);
      }
      let expiresAt = given ?? expiryFrom(now, ttlMs);
      if (given === undefined) {
        // A re-deploy (a changed setting) must not cut short the life `lab extend` gave the lab.
        const cloud = await lifecycleCloudFor(settings.createCloud, ctx.config.region);
        const current = await ctx.reporter.phase('current expiry', () => currentExpiry(cloud, ctx.config.labName), (d) => (d ? iso(d) : 'not deployed yet'));
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
