/**
 * A bin directory of stand-ins for the cluster tools scripts/node/collect-logs.sh calls
 * (test/node/fixtures/collect-tools.sh linked as cilium, kubectl, crictl, and journalctl on a
 * machine without one), for the tests that run the script for real.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../node/fixtures/collect-tools.sh', import.meta.url));

/** Makes `<dir>/bin` with the stand-ins and returns its path (put it first on PATH). */
export function collectStandInBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const tools = ['cilium', 'kubectl', 'crictl'];
  if (spawnSync('journalctl', ['--version']).error) tools.push('journalctl');
  for (const tool of tools) symlinkSync(FIXTURE, join(bin, tool));
  return bin;
}
