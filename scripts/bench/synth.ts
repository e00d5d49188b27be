/**
 * Synth budget (a benchmark, not a test): `npx cdk synth` of the default lab under 7 s on a
 * 2-core machine, and a 50-worker lab under 1.5x the default. Each case runs the real CLI
 * (fresh process: tsx + CDK + cdk-nag + schema validation) a few times; the median counts.
 *   npx tsx scripts/bench/synth.ts [runs]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { USER_DATA_LIMIT_BYTES } from '../../lib/infra/node-user-data.js';
import { userDataText } from '../../lib/infra/user-data-text.js';

const runs = Number(process.argv[2] ?? 3);
const DEFAULT_BUDGET_MS = 7_000;
const MAX_RATIO = 1.5;

/** The largest user data of the synthesised lab (references at their real length) and the room left under EC2's 16 KB. */
let largestUserData = { bytes: 0, logicalId: '' };

function synthMs(context: string[]): number {
  const out = mkdtempSync(join(tmpdir(), 'cilium-lab-bench-'));
  const started = process.hrtime.bigint();
  const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', out, ...context.flatMap((c) => ['-c', c])], { encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status === 0) {
    for (const file of readdirSync(out).filter((f) => f.endsWith('.template.json'))) {
      const template = JSON.parse(readFileSync(join(out, file), 'utf8')) as { Resources: Record<string, any> };
      for (const [logicalId, resource] of Object.entries(template.Resources)) {
        if (resource.Type !== 'AWS::EC2::Instance') continue;
        const bytes = Buffer.byteLength(userDataText(resource));
        if (bytes > largestUserData.bytes) largestUserData = { bytes, logicalId };
      }
    }
  }
  rmSync(out, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`cdk synth failed:\n${result.stderr}`);
  return elapsed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const measure = (label: string, context: string[]) => {
  const times = Array.from({ length: runs }, () => synthMs(context));
  const value = median(times);
  console.log(`${label.padEnd(18)} median ${(value / 1000).toFixed(2)} s  (runs: ${times.map((t) => (t / 1000).toFixed(2)).join(', ')})`);
  return value;
};

const base = measure('default lab', []);
const large = measure('50-worker lab', ['workers.count=50']);
const ratio = large / base;
console.log(`ratio 50-worker/default: ${ratio.toFixed(2)} (budget ${MAX_RATIO}); default budget ${DEFAULT_BUDGET_MS / 1000} s`);
console.log(
  `largest user data: ${largestUserData.logicalId} ${largestUserData.bytes} bytes, ${USER_DATA_LIMIT_BYTES - largestUserData.bytes} bytes left under EC2's ${USER_DATA_LIMIT_BYTES}`,
);
const failures = [
  base > DEFAULT_BUDGET_MS ? `default synth ${(base / 1000).toFixed(2)} s exceeds ${DEFAULT_BUDGET_MS / 1000} s` : '',
  ratio > MAX_RATIO ? `50-worker synth is ${ratio.toFixed(2)}x the default (budget ${MAX_RATIO}x)` : '',
  largestUserData.bytes >= USER_DATA_LIMIT_BYTES ? `user data of ${largestUserData.logicalId} is over EC2's limit` : '',
].filter(Boolean);
if (failures.length > 0) {
  console.error(`OVER BUDGET: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('within budget');
