/** Shared by the datapath scenarios: curl from netpod and read whoami's answer. */
import type { ExecResult } from '../kube/types.js';
import { NETPOD_CONTAINER, type DatapathPods } from './datapath-fixture.js';
import { execRecorded } from './helpers.js';
import { parseWhoami, type WhoamiAnswer } from './parsers.js';
import type { ScenarioRun } from './types.js';

/** curl with a connect/total budget, failing on HTTP errors, errors on stderr. */
export function curlCommand(url: string, maxTimeSeconds = 5): string[] {
  return ['curl', '-sS', '--fail', '--max-time', String(maxTimeSeconds), url];
}

export function execInNetpod(run: ScenarioRun<DatapathPods>, command: readonly string[]): Promise<ExecResult> {
  const { netpod, namespace } = run.fixture;
  return execRecorded(run as ScenarioRun<unknown>, { namespace, pod: netpod.name, container: NETPOD_CONTAINER }, command);
}

export interface CurlOutcome {
  readonly result: ExecResult;
  readonly answer?: WhoamiAnswer;
  /** Why there is no answer: curl's exit code and message. */
  readonly failure: string;
}

export async function curlWhoami(run: ScenarioRun<DatapathPods>, url: string): Promise<CurlOutcome> {
  const result = await execInNetpod(run, curlCommand(url));
  const answer = result.exitCode === 0 ? parseWhoami(result.stdout) : undefined;
  const failure = answer
    ? ''
    : result.exitCode === 0
      ? `${url}: no whoami answer in the output`
      : `${url}: curl exit ${result.exitCode}${result.error ? ` (${result.error})` : ''}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').pop()}` : ''}`;
  return { result, ...(answer ? { answer } : {}), failure };
}
