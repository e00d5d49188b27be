/**
 * Remote-run budget (a benchmark, not a test): running a script on N nodes over SSM takes about as
 * long as the slowest node, whatever N. SsmRunner drives the real SSMClient against the local fake
 * SSM (test/aws/fake-ssm-server.ts), each node with its own simulated latency: a window of
 * InvocationDoesNotExist after SendCommand, then a run time; a few nodes are throttled at first.
 * Prints wall time / slowest node for N = 3 and N = 20 and exits 1 if a ratio exceeds 1.2.
 *   npx tsx scripts/bench/remote-run.ts
 *
 * Timings are scaled down: nodes take 0.5-2.4 s and the runner polls every 100 ms, the same
 * proportion as the lab's defaults (1 s polls, NIC tuning and joins of 10-60 s).
 */
import { SsmRunner, type RunOptions } from '../../lib/aws/ssm-runner.js';
import { FakeSsmServer, type FakeNode } from '../../test/aws/fake-ssm-server.js';

const MAX_RATIO = 1.2;
const OPTIONS: RunOptions = { timeoutMs: 30_000, pollIntervalMs: 100, retry: { baseMs: 50, maxMs: 500 } };

/** mulberry32: the same simulated latencies on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  readonly n: number;
  readonly slowestMs: number;
  readonly sumMs: number;
  readonly wallMs: number;
  readonly ratio: number;
  readonly failed: number;
  readonly calls: number;
}

async function measure(n: number, seed: number): Promise<Case> {
  const next = random(seed);
  const nodes: Record<string, FakeNode> = {};
  for (let i = 0; i < n; i++) {
    nodes[`i-0${String(i + 1).padStart(16, '0')}`] = {
      appearAfterMs: Math.round(50 + next() * 350),
      runMs: Math.round(500 + next() * 1_500),
      throttleFirst: i % 4 === 0 ? 2 : 0,
      stdout: `node ${i} tuned\n`,
    };
  }
  const totals = Object.values(nodes).map((node) => (node.appearAfterMs ?? 0) + (node.runMs ?? 0));
  const slowestMs = Math.max(...totals);
  const fake = await FakeSsmServer.start({ nodes });
  const client = fake.client();
  try {
    const targets = Object.keys(nodes).map((instanceId, i) => ({ name: `node-${i}`, instanceId }));
    const started = process.hrtime.bigint();
    const results = await new SsmRunner(client).runOnNodes(targets, 'tune-nic.sh', OPTIONS);
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    return {
      n,
      slowestMs,
      sumMs: totals.reduce((a, b) => a + b, 0),
      wallMs,
      ratio: wallMs / slowestMs,
      failed: results.filter((r) => r.status !== 'Success').length,
      calls: fake.calls.length,
    };
  } finally {
    client.destroy();
    await fake.close();
  }
}

const cases: Case[] = [];
for (const n of [3, 20]) cases.push(await measure(n, 42 + n));

console.log('nodes  slowest ms  wall ms  wall/slowest  sum of nodes ms  API calls  failed');
for (const c of cases) {
  console.log(
    `${String(c.n).padStart(5)}  ${c.slowestMs.toFixed(0).padStart(10)}  ${c.wallMs.toFixed(0).padStart(7)}  ${c.ratio.toFixed(3).padStart(12)}  ${c.sumMs.toFixed(0).padStart(15)}  ${String(c.calls).padStart(9)}  ${String(c.failed).padStart(6)}`,
  );
}
const over = cases.filter((c) => c.ratio > MAX_RATIO || c.failed > 0);
if (over.length > 0) {
  console.error(`FAIL: wall/slowest above ${MAX_RATIO} or failed nodes for N = ${over.map((c) => c.n).join(', ')}`);
  process.exit(1);
}
console.log(`OK: every ratio <= ${MAX_RATIO}`);
