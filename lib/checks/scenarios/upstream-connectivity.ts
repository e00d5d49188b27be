/**
 * Cilium's own suite, `cilium connectivity test`, run by the cilium CLI on the control plane over
 * SSM (6 to 12 minutes) with scripts/node/cilium-connectivity.sh: the lab's kube environment,
 * `--log-check-levels error`, the lab's own test namespace (deleted afterwards, also on failure).
 * Its JUnit file comes back gzipped and base64-encoded on stdout (SSM keeps 24,000 characters of
 * it; the tagged lines come first so the log tail is what gets cut) and is written next to ours.
 * On failure its sysdump travels through the lab's artifacts bucket (a presigned PUT, as
 * `lab logs` does) and lands beside the JUnit file. With --no-internet the tests that need
 * external targets are left out. A run stopped by its timeout is reported as a timeout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { artifactKey } from '../../config/artifacts.js';
import { renderLabScript } from '../../lab/remote.js';
import { EXPECT } from '../expectations.js';
import { remoteRecorded } from '../helpers.js';
import { taggedJson } from '../parsers.js';
import type { Scenario } from '../types.js';

export const UPSTREAM_TAG = 'CILIUM_LAB_UPSTREAM';
export const UPSTREAM_JUNIT_TAG = 'CILIUM_LAB_JUNIT_GZ_B64';
/** Tests that reach outside the cluster (the FACTS: external targets need internet egress). */
export const INTERNET_TESTS = ['!pod-to-world', '!pod-to-cidr', '!to-fqdns'] as const;
/** The suite's namespace (`--test-namespace`); cilium-cli adds -1, -2, ... per concurrent run. */
export const UPSTREAM_NAMESPACE = 'cilium-lab-upstream';
export const UPSTREAM_SYSDUMP_FILE = 'cilium-connectivity-sysdump.zip';

export interface UpstreamOptions {
  /** Where to write the JUnit file cilium-cli produced (the sysdump, on failure, goes beside it). */
  readonly junitPath: string;
  /** Budget for the whole run, SSM included. @default 20 minutes */
  readonly timeoutMs?: number;
  /** Names the run's objects in the artifacts bucket. @default a timestamp */
  readonly runId?: string;
}

export function upstreamScript(internet: boolean, testTimeoutMinutes: number, sysdumpUploadUrl?: string): string {
  return renderLabScript('cilium-connectivity.sh', {}, {
    LAB_TEST_MINUTES: String(testTimeoutMinutes),
    LAB_TEST_NAMESPACE: UPSTREAM_NAMESPACE,
    ...(internet ? {} : { LAB_TEST_FILTER: INTERNET_TESTS.join(',') }),
    ...(sysdumpUploadUrl ? { LAB_SYSDUMP_UPLOAD_URL: sysdumpUploadUrl } : {}),
  });
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
      // The sysdump's way back: a presigned PUT into the lab's artifacts bucket (no S3 call yet).
      const artifacts = run.env.artifacts;
      const key = artifacts ? artifactKey(options.runId ?? new Date().toISOString().replace(/[-:.]/g, ''), controlPlane.name, UPSTREAM_SYSDUMP_FILE) : undefined;
      const uploadUrl = artifacts && key ? await artifacts.store.uploadUrl(artifacts.bucket, key, Math.ceil(timeoutMs / 1000) + 600) : undefined;
      const [result] = await remoteRecorded(run, 'cilium connectivity test', [controlPlane], upstreamScript(run.env.options.internet, testMinutes, uploadUrl), timeoutMs);
      const facts = result ? taggedJson(result.stdout, UPSTREAM_TAG) : undefined;
      if (!result || !facts) {
        const timedOut = result?.deadlineExceeded || result?.status === 'TimedOut' || result?.status === 'ExecutionTimedOut';
        run.expect(
          EXPECT.upstreamPassed,
          false,
          timedOut
            ? `timed out: no result from the control plane within ${Math.round(timeoutMs / 60_000)} min (${result?.status}${result?.note ? `; ${result.note}` : ''})`
            : `no result from the control plane (${result ? `${result.status}, exit ${result.exitCode}${result.note ? `; ${result.note}` : ''}` : 'nothing returned'})`,
        );
        return;
      }
      let sysdumpNote = '';
      if (facts.sysdump === 'uploaded' && artifacts && key) {
        const path = join(dirname(options.junitPath), UPSTREAM_SYSDUMP_FILE);
        try {
          mkdirSync(dirname(path), { recursive: true });
          const bytes = await artifacts.store.download(artifacts.bucket, key, path);
          await artifacts.store.remove(artifacts.bucket, [key]);
          sysdumpNote = `; sysdump ${path} (${bytes} bytes)`;
        } catch (error) {
          sysdumpNote = `; sysdump uploaded but not downloaded: ${(error as Error).message}`;
        }
      } else if (typeof facts.sysdump === 'string' && facts.sysdump !== 'none') {
        sysdumpNote = `; sysdump ${facts.sysdump}`;
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
        facts.timedOut === true
          ? `timed out: cilium connectivity test did not end within ${testMinutes} min (+1 min grace; exit ${exitCode}); ${junitNote}${sysdumpNote}`
          : `cilium connectivity test exit ${exitCode}; ${junitNote}${sysdumpNote}`,
      );
    },
  };
}
