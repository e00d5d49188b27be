/**
 * The `lab` CLI: `npm run lab -- <command>` (tsx scripts/lab.ts). Every command on the real AWS
 * services (credentials and region from the SDK's default chain, or -c region=...).
 */
import { runCli } from '../lib/lab/cli.js';
import { ALL_COMMANDS } from '../lib/lab/commands/index.js';

process.exitCode = await runCli(process.argv.slice(2), {
  commands: ALL_COMMANDS,
  // The AWS SDK loads only when a command first needs AWS: `--help` and usage errors start fast.
  createServices: async (config) => (await import('../lib/aws/services.js')).createAwsServices(config),
});
