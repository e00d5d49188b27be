/**
 * `lab deploy`: `cdk deploy` of the lab with an expiry. The expiry is computed here, at deploy
 * time (now + --ttl), and handed to CDK as an input (`-c expiresAt=...`), so synth itself stays
 * deterministic while every lab still gets a deadline.
 */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { parseDuration as parseDurationText } from '../lifecycle/timing.js';

/** A duration option ("90m", "4h", "1d", "1h30m") in milliseconds; names the option on error. */
export function parseDuration(text: string, option = '--ttl'): number {
  const ms = parseDurationText(text);
  if (ms === undefined) {
    throw new Error(`${option} ${text}: write a duration such as 90m, 4h or 1d`);
  }
  return ms;
}

/** ISO 8601 UTC, whole seconds (what LabConfig.expiresAt and Scheduler's at() take). */
export function expiryFrom(now: Date, ttlMs: number): string {
  return new Date(Math.floor((now.getTime() + ttlMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The cdk argv: the user's -c settings, the computed expiry (unless given, or none), approval policy. */
export function cdkDeployArgs(contextFlags: readonly string[], expiresAt: string | undefined, options: { readonly yes: boolean }): string[] {
  const hasExpiry = contextFlags.some((flag) => flag.startsWith('expiresAt='));
  return [
    'deploy',
    ...contextFlags.flatMap((flag) => ['-c', flag]),
    ...(hasExpiry || expiresAt === undefined ? [] : ['-c', `expiresAt=${expiresAt}`]),
    '--require-approval',
    options.yes ? 'never' : 'broadening',
  ];
}

/** The cdk CLI of this package (pinned in package.json), or $CILIUM_LAB_CDK. */
export function cdkBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.CILIUM_LAB_CDK ?? fileURLToPath(new URL('../../node_modules/.bin/cdk', import.meta.url));
}

/**
 * Runs cdk with the terminal attached (its prompts and progress are the user's). Its stdout goes
 * to our stderr: `cdk deploy` prints the stack's outputs and ARN on stdout, which would otherwise
 * land in the middle of `lab deploy --json` / `lab create --json > report.json`.
 */
export async function runCdk(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await execa(cdkBinary(env), args, { stdin: 'inherit', stdout: 2, stderr: 'inherit', cwd: fileURLToPath(new URL('../..', import.meta.url)), env });
}
