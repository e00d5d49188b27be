import type { LabCommand } from '../cli.js';
import { DEFAULT_TTL, cdkDeployArgs, expiryFrom, parseDuration, runCdk } from '../deploy.js';

export const deployCommand: LabCommand = {
  name: 'deploy',
  summary: 'cdk deploy the lab with an expiry (now + --ttl); the same -c settings as cdk',
  options: {
    ttl: { type: 'string', description: 'lifetime before auto-expiry deletes the lab', default: DEFAULT_TTL },
    yes: { type: 'boolean', description: 'do not ask before IAM/security-group changes (CI)', default: false },
  },
  async run(ctx) {
    const ttlMs = parseDuration(String(ctx.options.ttl));
    const expiresAt = ctx.config.expiresAt ?? expiryFrom(new Date(), ttlMs);
    const args = cdkDeployArgs(ctx.contextFlags, expiresAt, { yes: ctx.options.yes === true });
    await ctx.reporter.phase('deploy', () => runCdk(args), () => `stack ${ctx.config.labName}, expires ${expiresAt}`);
    return {
      text: `lab ${ctx.config.labName} deployed; it expires at ${expiresAt}. Next: npm run lab -- up -c labName=${ctx.config.labName}`,
      data: { labName: ctx.config.labName, expiresAt },
    };
  },
};
