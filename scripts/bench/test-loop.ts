/**
 * The test-loop budget (a benchmark, not a test): runs `npm test` (scripts/test.sh) once, prints
 * the time of each phase and the 10 slowest jest suites, and exits 1 when the suite fails or the
 * whole run is over budget (default 120 s on the 2-core machine).
 *
 *   node --import tsx scripts/bench/test-loop.ts [--budget 120] [--busy 2]
 *
 * --busy N starts N CPU hogs (busy-looping node processes) beside the suite and stops them at the
 * end, also on Ctrl-C: the suite must still pass on a machine that is busy with something else
 * (a test that depends on wall-clock speed is a bug). The budget applies to quiet runs; a busy run
 * reports its time without judging it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { budget: { type: 'string', default: '120' }, busy: { type: 'string', default: '0' } } });
const budgetSeconds = Number(values.budget);
const hogCount = Number(values.busy);
if (!Number.isFinite(budgetSeconds) || budgetSeconds <= 0) throw new Error(`--budget: ${values.budget} is not a number of seconds`);
if (!Number.isInteger(hogCount) || hogCount < 0 || hogCount > 16) throw new Error(`--busy: ${values.busy} is not a count from 0 to 16`);

const hogs: ChildProcess[] = [];
const stopHogs = () => {
  for (const hog of hogs.splice(0)) hog.kill('SIGKILL');
};
process.on('SIGINT', () => {
  stopHogs();
  process.exit(130);
});
for (let i = 0; i < hogCount; i++) hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));

const dir = mkdtempSync(join(tmpdir(), 'cilium-lab-test-loop-'));
const report = join(dir, 'jest.json');
const started = process.hrtime.bigint();
const output: string[] = [];
const code = await new Promise<number>((resolve) => {
  const run = spawn('bash', ['scripts/test.sh'], { env: { ...process.env, CILIUM_LAB_JEST_REPORT: report }, stdio: ['ignore', 'pipe', 'pipe'] });
  run.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  run.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  run.on('close', (status) => resolve(status ?? 1));
});
const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
stopHogs();

const log = output.join('');
writeFileSync(join(dir, 'npm-test.log'), log);
const phases = [...log.matchAll(/^== ([\w-]+): (\d+\.\d) s$/gm)].map((m) => [m[1] ?? '', Number(m[2])] as const);

console.log(`npm test ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${totalSeconds.toFixed(1)} s${hogCount ? ` with ${hogCount} CPU hog(s) beside it` : ''}`);
console.log('\nphase          seconds');
for (const [name, seconds] of phases) console.log(`${name.padEnd(14)} ${seconds.toFixed(1).padStart(7)}`);

try {
  const jest = JSON.parse(readFileSync(report, 'utf8')) as {
    numTotalTests: number;
    numFailedTests: number;
    testResults: { name: string; startTime: number; endTime: number }[];
  };
  const suites = jest.testResults
    .map((s) => ({ name: s.name.replace(`${process.cwd()}/`, ''), seconds: (s.endTime - s.startTime) / 1000 }))
    .sort((a, b) => b.seconds - a.seconds);
  console.log(`\njest: ${jest.testResults.length} suites, ${jest.numTotalTests} tests, ${jest.numFailedTests} failed; the 10 slowest suites:`);
  for (const suite of suites.slice(0, 10)) console.log(`${suite.seconds.toFixed(1).padStart(6)} s  ${suite.name}`);
} catch {
  console.log('\njest wrote no report (it did not run to the end)');
}

const problems = [
  code !== 0 ? `npm test failed (exit ${code}); its output is in ${join(dir, 'npm-test.log')}` : '',
  hogCount === 0 && totalSeconds > budgetSeconds ? `npm test took ${totalSeconds.toFixed(1)} s, over the ${budgetSeconds} s budget` : '',
].filter(Boolean);
if (problems.length > 0) {
  console.error(`\n${problems.join('\n')}`);
  process.exit(1);
}
rmSync(dir, { recursive: true, force: true });
console.log(hogCount === 0 ? `\nwithin budget (${budgetSeconds} s)` : '\npassed on a busy machine');
