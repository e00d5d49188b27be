/**
 * Cilium's own suite, `cilium connectivity test`, run by the cilium CLI on the control plane over
 * SSM (6 to 12 minutes). Its JUnit file comes back gzipped and base64-encoded on stdout (SSM keeps
 * 24,000 characters of it; the tagged lines come first so the log tail is what gets cut) and is
 * written next to ours. With --no-internet the tests that need external targets are left out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { EXPECT } from '../expectations.js';
import { remoteRecorded, shellQuote } from '../helpers.js';
import { taggedJson } from '../parsers.js';
import type { Scenario } from '../types.js';

export const UPSTREAM_TAG = 'CILIUM_LAB_UPSTREAM';
export const UPSTREAM_JUNIT_TAG = 'CILIUM_LAB_JUNIT_GZ_B64';
/** Tests that reach outside the cluster (the FACTS: external targets need internet egress). */
export const INTERNET_TESTS = ['!pod-to-world', '!pod-to-cidr', '!to-fqdns'] as const;

export interface UpstreamOptions {
  /** Where to write the JUnit file cilium-cli produced. */
  readonly junitPath: string;
  /** Budget for the whole run, SSM included. @default 20 minutes */
  readonly timeoutMs?: number;
}

export function upstreamScript(internet: boolean, testTimeoutMinutes: number): string {
  const tests = internet ? '' : ` --test ${shellQuote(INTERNET_TESTS.join(','))}`;
  return `set -o nounset -o pipefail
export KUBECONFIG=/etc/kubernetes/admin.conf
out=/var/tmp/cilium-lab-connectivity
rm -rf "$out" && mkdir -p "$out" && cd "$out" || exit 1
status=0
timeout --kill-after=30s ${testTimeoutMinutes + 1}m cilium connectivity test --junit-file "$out/junit.xml" --collect-sysdump-on-failure --timeout ${testTimeoutMinutes}m${tests} >"$out/log.txt" 2>&1 || status=$?
printf '${UPSTREAM_TAG} {"exitCode":%d,"junit":%s}\\n' "$status" "$([[ -s $out/junit.xml ]] && echo true || echo false)"
if [[ -s "$out/junit.xml" ]]; then echo "${UPSTREAM_JUNIT_TAG} $(gzip -c "$out/junit.xml" | base64 -w0)"; fi
tail -n 40 "$out/log.txt"
exit 0
`;
}

/** tests="N" failures="M" of the first element that has them. */
export function junitCounts(xml: string): { tests: number; failures: number } | undefined {
  const tests = /\btests="(\d+)"/.exec(xml);
  const failures = /\bfailures="(\d+)"/.exec(xml);
  return tests ? { tests: Number(tests[1]), failures: Number(failures?.[1] ?? 0) } : undefined;
}

export function upstreamConnectivityTest(options: UpstreamOptions): Scenario {
  const timeoutMs = options.timeoutMs ?? 20 * 60_000;
  return {
    name: 'cilium-connectivity-test',
    proves: 'Cilium\'s own end-to-end suite passes on the lab',
    expectations: [EXPECT.upstreamPassed],
    async run(run) {
      const controlPlane = run.env.lab.nodes.find((n) => n.role === 'control-plane');
      if (!controlPlane) return run.skip('the lab has no control-plane node to run the cilium CLI on');
      const testMinutes = Math.max(1, Math.floor(timeoutMs / 60_000) - 3);
      const [result] = await remoteRecorded(run, 'cilium connectivity test', [controlPlane], upstreamScript(run.env.options.internet, testMinutes), timeoutMs);
      const facts = result ? taggedJson(result.stdout, UPSTREAM_TAG) : undefined;
      if (!result || !facts) {
        run.expect(EXPECT.upstreamPassed, false, `no result from the control plane (${result ? `${result.status}, exit ${result.exitCode}${result.note ? `; ${result.note}` : ''}` : 'nothing returned'})`);
        return;
      }
      let junitNote = 'no JUnit file';
      const line = result.stdout.split('\n').find((l) => l.startsWith(`${UPSTREAM_JUNIT_TAG} `));
      if (line) {
        try {
          const xml = gunzipSync(Buffer.from(line.slice(UPSTREAM_JUNIT_TAG.length + 1), 'base64')).toString('utf8');
          mkdirSync(dirname(options.junitPath), { recursive: true });
          writeFileSync(options.junitPath, xml);
          const counts = junitCounts(xml);
          junitNote = `JUnit ${options.junitPath}${counts ? ` (${counts.tests} tests, ${counts.failures} failures)` : ''}`;
        } catch (error) {
          junitNote = `JUnit not readable (${result.stdoutTruncated ? 'cut by SSM at 24,000 characters' : (error as Error).message})`;
        }
      }
      const exitCode = Number(facts.exitCode);
      run.expect(
        EXPECT.upstreamPassed,
        exitCode === 0,
        `cilium connectivity test exit ${exitCode}${exitCode === 124 ? ' (timed out)' : ''}; ${junitNote}`,
      );
    },
  };
}
