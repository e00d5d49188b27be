/**
 * The `lab` CLI: `npm run lab -- <command>` (tsx scripts/lab.ts). The post-deploy commands on the
 * real AWS services (credentials and region from the SDK's default chain, or -c region=...).
 */
import { createAwsServices } from '../lib/aws/services.js';
import { runCli } from '../lib/lab/cli.js';
import { POST_DEPLOY_COMMANDS } from '../lib/lab/commands/post-deploy.js';

process.exitCode = await runCli(process.argv.slice(2), {
  commands: POST_DEPLOY_COMMANDS,
  createServices: (config) => createAwsServices(config),
});
