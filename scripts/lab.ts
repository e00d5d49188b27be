/**
 * The `lab` CLI: `npm run lab -- <command>` (tsx scripts/lab.ts). Every command on the real AWS
 * services (credentials and region from the SDK's default chain, or -c region=...).
 */
import { createAwsServices } from '../lib/aws/services.js';
import { runCli } from '../lib/lab/cli.js';
import { ALL_COMMANDS } from '../lib/lab/commands/index.js';

process.exitCode = await runCli(process.argv.slice(2), {
  commands: ALL_COMMANDS,
  createServices: (config) => createAwsServices(config),
});
