/**
 * netpod -> the ClusterIP of `webpod`, REQUESTS times: Cilium's socket LB picks a backend at
 * connect(), so both webpods answer and each sees netpod's own IP as the peer (whoami's
 * RemoteAddr), with no kube-proxy in the cluster. With random selection the chance that 20
 * requests all land on one of two backends is 2 x 0.5^20, about 2 in a million.
 */
import type { DatapathPods } from '../datapath-fixture.js';
import { expectedSource } from '../datapath-settings.js';
import { EXPECT } from '../expectations.js';
import { parseWhoami } from '../parsers.js';
import type { Scenario } from '../types.js';
import { execInNetpod } from '../netpod.js';

export const CLUSTERIP_REQUESTS = 20;
/** curl's budget for one request of the loop. */
export const CLUSTERIP_REQUEST_SECONDS = 3;

/**
 * The exec budget of the loop: every request timing out (count x max-time) plus a margin for the
 * exec itself, so a black-holed service is reported request by request, never as an exec timeout.
 */
export function requestLoopTimeoutMs(count: number, baseMs: number): number {
  return Math.max(baseMs, count * CLUSTERIP_REQUEST_SECONDS * 1000 + 15_000);
}

/** One sh loop, so the requests cost one exec; each answer sits between two marker lines. */
export function requestLoop(url: string, count: number): string[] {
  return [
    'sh',
    '-c',
    // Only whoami's Hostname/RemoteAddr lines and curl's errors are kept: 20 answers stay readable.
    `for i in $(seq 1 ${count}); do echo "=== request $i"; out=$(curl -sS --fail --max-time ${CLUSTERIP_REQUEST_SECONDS} ${url} 2>&1); code=$?; ` +
      `printf '%s\\n' "$out" | grep -E '^(Hostname|RemoteAddr|curl)'; echo "=== exit $code"; done`,
  ];
}

export interface LoopAnswer {
  readonly exitCode: number;
  readonly hostname?: string;
  readonly remoteIp?: string;
  readonly text: string;
}

export function parseRequestLoop(stdout: string): LoopAnswer[] {
  const answers: LoopAnswer[] = [];
  let buffer: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (/^=== request \d+$/.test(line.trim())) {
      buffer = [];
      continue;
    }
    const exit = /^=== exit (\d+)$/.exec(line.trim());
    if (exit && buffer) {
      const text = buffer.join('\n');
      const who = parseWhoami(text);
      answers.push({ exitCode: Number(exit[1]), text, ...(who ? { hostname: who.hostname, remoteIp: who.remoteIp } : {}) });
      buffer = undefined;
      continue;
    }
    buffer?.push(line);
  }
  return answers;
}

export const podToClusterIp: Scenario<DatapathPods> = {
  name: 'pod-to-clusterip',
  proves: 'the ClusterIP service is load-balanced by Cilium (no kube-proxy) across both backends, and each backend sees the source cilium-config implies (the lab: the client pod IP)',
  expectations: [EXPECT.clusterIpAnswers, EXPECT.clusterIpBothBackends, EXPECT.sourceAsConfigured],
  async run(run) {
    const { service, webpods, netpod, settings } = run.fixture;
    const url = `http://${service.clusterIp}:80/`;
    const result = await execInNetpod(run, requestLoop(url, CLUSTERIP_REQUESTS), requestLoopTimeoutMs(CLUSTERIP_REQUESTS, run.env.options.execTimeoutMs));
    if (result.exitCode !== 0) throw new Error(`the request loop in netpod did not run: exit ${result.exitCode}${result.error ? ` (${result.error})` : ''}`);
    const answers = parseRequestLoop(result.stdout);
    const answered = answers.filter((a) => a.exitCode === 0 && a.hostname);
    const failed = answers.filter((a) => !(a.exitCode === 0 && a.hostname));
    const byBackend = new Map<string, number>();
    for (const a of answered) byBackend.set(a.hostname as string, (byBackend.get(a.hostname as string) ?? 0) + 1);
    const tally = [...byBackend].map(([name, n]) => `${name} x${n}`).join(', ') || 'nobody';

    const firstError = failed[0] ? ` (e.g. curl exit ${failed[0].exitCode}: ${failed[0].text.trim().split('\n').pop() ?? ''})` : '';
    run.expect(
      EXPECT.clusterIpAnswers,
      answers.length === CLUSTERIP_REQUESTS && failed.length === 0,
      `${answered.length}/${CLUSTERIP_REQUESTS} requests to ${url} answered${failed.length > 0 ? `, ${failed.length} failed${firstError}` : ''}`,
    );
    const silent = webpods.filter((w) => !byBackend.has(w.name)).map((w) => `${w.name} (${w.podIp} on ${w.nodeName})`);
    run.expect(
      EXPECT.clusterIpBothBackends,
      silent.length === 0,
      silent.length === 0 ? `answers from ${tally}` : `answers from ${tally}; never answered: ${silent.join(', ')}`,
    );
    if (answered.length > 0) {
      // Socket-LB turns the ClusterIP into the backend's pod IP at connect(): the same rule as pod-to-pod.
      const ipOf = new Map(webpods.map((w) => [w.name, w.podIp ?? '']));
      const wrong: string[] = [];
      const because = new Set<string>();
      for (const a of answered) {
        const expected = expectedSource(settings, netpod, ipOf.get(a.hostname as string) ?? '');
        because.add(expected.because);
        if (!expected.want.includes(a.remoteIp ?? '')) wrong.push(`${a.hostname} saw ${a.remoteIp}, want ${expected.want.join(' or ')}`);
      }
      run.expect(
        EXPECT.sourceAsConfigured,
        wrong.length === 0,
        wrong.length === 0 ? `every backend saw the expected source (${[...because].join('; ')})` : `${[...new Set(wrong)].join(', ')} (${[...because].join('; ')})`,
      );
    }
  },
};
