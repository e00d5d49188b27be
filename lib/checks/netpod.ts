/** Shared by the datapath scenarios: curl from netpod and read whoami's answer. */
import type { ExecResult, KubePod } from '../kube/types.js';
import { NETPOD_CONTAINER, type DatapathPods } from './datapath-fixture.js';
import { execRecorded } from './helpers.js';
import { parseWhoami, type WhoamiAnswer } from './parsers.js';
import type { ScenarioRun } from './types.js';

/** curl with a connect/total budget, failing on HTTP errors, errors on stderr. */
export function curlCommand(url: string, maxTimeSeconds = 5): string[] {
  return ['curl', '-sS', '--fail', '--max-time', String(maxTimeSeconds), url];
}

/** Runs a command in netpod, or in another netshoot client of the fixture (hostclient). */
export function execInNetpod(run: ScenarioRun<DatapathPods>, command: readonly string[], timeoutMs?: number, client: KubePod = run.fixture.netpod): Promise<ExecResult> {
  const { namespace } = run.fixture;
  return execRecorded(run as ScenarioRun<unknown>, { namespace, pod: client.name, container: NETPOD_CONTAINER }, command, timeoutMs);
}

/**
 * curl exit codes where the network may have blinked (and a second try is fair): could not
 * resolve (6), could not connect (7), timed out (28), empty reply (52), send/receive errors
 * (55, 56). Anything else (an HTTP error with --fail: 22) is an answer, not a blink.
 * https://curl.se/docs/manpage.html#EXIT
 */
export const RETRYABLE_CURL_EXITS: ReadonlySet<number> = new Set([6, 7, 28, 52, 55, 56]);
/** A single curl is tried at most this often; every attempt is evidence. */
export const CURL_ATTEMPTS = 3;

export interface CurlAttempts {
  /** The last attempt's result. */
  readonly result: ExecResult;
  readonly attempts: number;
  /** The failed attempts before an answer ("" when the first answered): a flaky path shows. */
  readonly retried: string;
  /** Why there is no answer, every attempt's reason ("" when answered). */
  readonly failure: string;
}

function describeCurl(url: string, result: ExecResult, answered: boolean): string {
  if (answered) return '';
  if (result.exitCode === 0) return `${url}: the answer is not what was asked for: ${result.stdout.trim().slice(0, 120)}`;
  if (result.exitCode === -1) return `${url}: not run (${result.error || 'exec transport error'})`;
  return `${url}: curl exit ${result.exitCode}${result.error ? ` (${result.error})` : ''}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').pop()}` : ''}`;
}

/**
 * One curl from netpod, tried again (up to CURL_ATTEMPTS) only when the network may have
 * blinked (RETRYABLE_CURL_EXITS); `answered` says whether an attempt's output is the answer.
 */
export async function curlFromNetpod(run: ScenarioRun<DatapathPods>, url: string, answered: (result: ExecResult) => boolean, maxTimeSeconds = 5, client?: KubePod): Promise<CurlAttempts> {
  const failures: string[] = [];
  let result: ExecResult | undefined;
  for (let attempt = 1; attempt <= CURL_ATTEMPTS; attempt++) {
    result = await execInNetpod(run, curlCommand(url, maxTimeSeconds), undefined, client);
    if (result.exitCode === 0 && answered(result)) {
      return { result, attempts: attempt, retried: failures.length > 0 ? `answered on attempt ${attempt} of ${CURL_ATTEMPTS}, after ${failures.join('; ')}` : '', failure: '' };
    }
    failures.push(`attempt ${attempt}: ${describeCurl(url, result, false)}`);
    if (!RETRYABLE_CURL_EXITS.has(result.exitCode) || run.env.signal.aborted) break;
  }
  const failure = failures.length === 1 ? (failures[0] as string).replace(/^attempt 1: /, '') : failures.join('; ');
  return { result: result as ExecResult, attempts: failures.length, retried: '', failure };
}

export interface CurlOutcome extends CurlAttempts {
  readonly answer?: WhoamiAnswer;
}

/** curlFromNetpod (or from another client pod) to a whoami server, with its answer parsed. */
export async function curlWhoami(run: ScenarioRun<DatapathPods>, url: string, client?: KubePod): Promise<CurlOutcome> {
  const outcome = await curlFromNetpod(run, url, (r) => parseWhoami(r.stdout) !== undefined, 5, client);
  const answer = outcome.failure === '' ? parseWhoami(outcome.result.stdout) : undefined;
  return { ...outcome, ...(answer ? { answer } : {}) };
}