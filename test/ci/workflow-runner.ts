/**
 * A small GitHub Actions runner for rehearsing a workflow offline: it runs the jobs in `needs`
 * order and each step as Actions does, as far as this repository's workflows use it:
 *
 *   - `run:` steps go to real bash as a Linux runner runs them (`shell: bash`:
 *     `bash --noprofile --norc -eo pipefail {0}`; no shell given: `bash -e {0}`), in the
 *     workspace, with `${{ }}` expressions substituted first, the step's env, GITHUB_ENV (read
 *     back after each step, KEY=value lines) and GITHUB_STEP_SUMMARY;
 *   - `uses:` steps are handed to the host, which plays the action (or refuses one it does not know);
 *   - `if:` with success(), failure(), always(), cancelled(), `steps.<id>.outcome|conclusion`,
 *     `env.*`, `vars.*`, `github.*`, `inputs.*` (workflow_dispatch; empty on schedule), `==`, `!=`, `!`, `&&`, `||` and parentheses; a job `if:`
 *     likewise, a job without one runs only when every job it needs succeeded;
 *   - `continue-on-error:` (outcome failure, conclusion success).
 *
 * Not played: cancellation (cancelled() is false), timeout-minutes, the real npm/npx, setup-node's
 * cache and the OIDC trust.
 *
 * Anything else in an expression is an error of the rehearsal, never silently false: a workflow
 * that grows a construct this runner cannot play fails the test until the runner learns it.
 * https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell
 * https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = Record<string, any>;

export type Outcome = 'success' | 'failure' | 'skipped';

export interface StepRecord {
  readonly job: string;
  readonly name: string;
  readonly id?: string;
  readonly outcome: Outcome;
  readonly conclusion: Outcome;
  /** For run steps: bash's exit code, its stdout and stderr. */
  readonly exitCode?: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface JobRecord {
  readonly job: string;
  readonly result: Outcome;
  readonly steps: StepRecord[];
}

export interface RunnerHost {
  /** Plays `uses:`; returns environment variables the action exports (as configure-aws-credentials does). */
  uses(action: string, inputs: Readonly<Record<string, string>>, env: Readonly<Record<string, string>>): Promise<Record<string, string>>;
  /** The PATH entries put before the system's (the stand-ins of npm, npx, curl, ...). */
  readonly pathPrefix: string;
  /** Extra environment every step gets (the stand-ins' socket). */
  readonly env: Readonly<Record<string, string>>;
}

export interface RunContext {
  /** Each job's workspace is `<workspace>/<job>`; the runner's own files go in `<workspace>/.runner`. */
  readonly workspace: string;
  readonly github: Readonly<Record<string, string>>;
  readonly vars: Readonly<Record<string, string>>;
  /** workflow_dispatch inputs (empty for a scheduled run). */
  readonly inputs?: Readonly<Record<string, string>>;
}

// ---------- expressions ----------

type Token = { kind: 'str' | 'num' | 'ident' | 'op'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*)|(==|!=|&&|\|\||!|\(|\)|,))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Error(`rehearsal: cannot read the expression ${JSON.stringify(text)} at ${JSON.stringify(text.slice(at))}`);
    at = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'str', value: m[1].slice(1, -1).replace(/''/g, "'") });
    else if (m[2] !== undefined) tokens.push({ kind: 'num', value: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'ident', value: m[3] });
    else tokens.push({ kind: 'op', value: m[4] as string });
  }
  return tokens;
}

interface Scope {
  readonly lookup: (path: string) => unknown;
  readonly functions: Readonly<Record<string, () => boolean>>;
}

/** Evaluates one expression (without the `${{ }}`), the subset the module comment lists. */
export function evaluate(text: string, scope: Scope): unknown {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const take = (value?: string): Token => {
    const t = tokens[i++];
    if (!t || (value !== undefined && t.value !== value)) throw new Error(`rehearsal: expected ${value ?? 'a value'} in ${JSON.stringify(text)}`);
    return t;
  };
  const truthy = (v: unknown): boolean => v !== undefined && v !== null && v !== false && v !== '' && v !== 0;
  const primary = (): unknown => {
    const t = take();
    if (t.kind === 'op' && t.value === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (t.kind === 'op' && t.value === '!') return !truthy(primary());
    if (t.kind === 'str') return t.value;
    if (t.kind === 'num') return Number(t.value);
    if (t.kind === 'ident') {
      if (t.value === 'true' || t.value === 'false') return t.value === 'true';
      if (peek()?.value === '(') {
        take('(');
        take(')');
        const fn = scope.functions[t.value];
        if (!fn) throw new Error(`rehearsal: the function ${t.value}() is not played (expression ${JSON.stringify(text)})`);
        return fn();
      }
      return scope.lookup(t.value);
    }
    throw new Error(`rehearsal: unexpected ${t.value} in ${JSON.stringify(text)}`);
  };
  const comparison = (): unknown => {
    const left = primary();
    const op = peek();
    if (op?.value === '==' || op?.value === '!=') {
      take();
      const right = primary();
      // Actions compares strings case-insensitively.
      const same = typeof left === 'string' && typeof right === 'string' ? left.toLowerCase() === right.toLowerCase() : left === right;
      return op.value === '==' ? same : !same;
    }
    return left;
  };
  const and = (): unknown => {
    let v = comparison();
    while (peek()?.value === '&&') {
      take();
      const r = comparison();
      v = truthy(v) ? r : v;
    }
    return v;
  };
  const or = (): unknown => {
    let v = and();
    while (peek()?.value === '||') {
      take();
      const r = and();
      v = truthy(v) ? v : r;
    }
    return v;
  };
  const value = or();
  if (i !== tokens.length) throw new Error(`rehearsal: trailing ${tokens[i]?.value} in ${JSON.stringify(text)}`);
  return value;
}

/** Substitutes every `${{ expr }}` in a string. */
export function substitute(text: string, scope: Scope): string {
  return text.replace(/\$\{\{(.*?)\}\}/g, (_, expr: string) => {
    const v = evaluate(expr, scope);
    return v === undefined || v === null ? '' : String(v);
  });
}

const truthy = (v: unknown): boolean => v !== undefined && v !== null && v !== false && v !== '' && v !== 0;

// ---------- running ----------

function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*<</.test(line)) throw new Error(`rehearsal: GITHUB_ENV heredocs are not played (${line})`);
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`rehearsal: a GITHUB_ENV line is not KEY=value: ${JSON.stringify(line)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function runBash(script: string, cwd: string, explicitBash: boolean, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = explicitBash ? ['--noprofile', '--norc', '-eo', 'pipefail', script] : ['-e', script];
    const child = spawn('bash', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function jobOrder(jobs: Json): string[] {
  const order: string[] = [];
  const visit = (name: string, path: string[]): void => {
    if (order.includes(name)) return;
    if (path.includes(name)) throw new Error(`rehearsal: jobs need each other in a circle: ${[...path, name].join(' -> ')}`);
    const needs = ([] as string[]).concat(jobs[name]?.needs ?? []);
    for (const need of needs) {
      if (!jobs[need]) throw new Error(`rehearsal: job ${name} needs ${need}, which does not exist`);
      visit(need, [...path, name]);
    }
    order.push(name);
  };
  for (const name of Object.keys(jobs)) visit(name, []);
  return order;
}

/** Runs the workflow's jobs and steps; returns what each did. */
export async function runWorkflow(workflow: Json, host: RunnerHost, ctx: RunContext): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  const baseScope = (env: Record<string, string>, steps: Record<string, StepRecord>, jobFailed: () => boolean): Scope => ({
    lookup: (path) => {
      const [root, ...rest] = path.split('.');
      if (root === 'env') return env[rest.join('.')];
      if (root === 'vars') return ctx.vars[rest.join('.')];
      if (root === 'inputs') return ctx.inputs?.[rest.join('.')];
      if (root === 'github') {
        const key = rest.join('.');
        if (!(key in ctx.github)) throw new Error(`rehearsal: github.${key} is not played`);
        return ctx.github[key];
      }
      if (root === 'steps') {
        const [id, field] = rest;
        const step = steps[id ?? ''];
        if (field !== 'outcome' && field !== 'conclusion') throw new Error(`rehearsal: steps.${id}.${field} is not played`);
        return step ? step[field] : '';
      }
      throw new Error(`rehearsal: ${path} is not played`);
    },
    functions: { success: () => !jobFailed(), failure: () => jobFailed(), always: () => true, cancelled: () => false },
  });

  const workflowEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries((workflow.env ?? {}) as Json)) workflowEnv[k] = substitute(String(v), baseScope(workflowEnv, {}, () => false));

  for (const jobName of jobOrder(workflow.jobs)) {
    const job = workflow.jobs[jobName] as Json;
    const needs = ([] as string[]).concat(job.needs ?? []);
    const needsFailed = needs.some((n) => records.find((r) => r.job === n)?.result !== 'success');
    const jobScope = baseScope(workflowEnv, {}, () => needsFailed);
    const runs = job.if === undefined ? !needsFailed : truthy(evaluate(String(job.if).replace(/^\$\{\{(.*)\}\}$/s, '$1'), jobScope));
    if (!runs) {
      records.push({ job: jobName, result: 'skipped', steps: [] });
      continue;
    }
    const jobDir = join(ctx.workspace, '.runner', jobName);
    mkdirSync(jobDir, { recursive: true });
    // Each job runs on a fresh runner: an empty workspace (actions/checkout fills it) and home.
    const workspace = join(ctx.workspace, jobName);
    mkdirSync(workspace, { recursive: true });
    const githubEnvFile = join(jobDir, 'github-env');
    const summaryFile = join(jobDir, 'step-summary.md');
    writeFileSync(githubEnvFile, '');
    writeFileSync(summaryFile, '');
    const env: Record<string, string> = { ...workflowEnv };
    for (const [k, v] of Object.entries((job.env ?? {}) as Json)) env[k] = substitute(String(v), baseScope(env, {}, () => false));
    const steps: Record<string, StepRecord> = {};
    const done: StepRecord[] = [];
    let failed = false;
    for (const [index, step] of (job.steps as Json[]).entries()) {
      const name = String(step.name ?? step.uses ?? `step ${index + 1}`);
      const scope = baseScope(env, steps, () => failed);
      const condition = step.if === undefined ? 'success()' : String(step.if).replace(/^\$\{\{(.*)\}\}$/s, '$1');
      // An `if:` without a status function gets an implicit success() && (...).
      const hasStatus = /\b(success|failure|always|cancelled)\(\)/.test(condition);
      const runs = truthy(evaluate(hasStatus ? condition : `success() && (${condition})`, scope));
      let record: StepRecord;
      if (!runs) {
        record = { job: jobName, name, ...(step.id ? { id: step.id } : {}), outcome: 'skipped', conclusion: 'skipped', stdout: '', stderr: '' };
      } else {
        const stepEnv: Record<string, string> = { ...env };
        for (const [k, v] of Object.entries((step.env ?? {}) as Json)) stepEnv[k] = substitute(String(v), scope);
        let outcome: Outcome;
        let exitCode: number | undefined;
        let stdout = '';
        let stderr = '';
        if (step.uses !== undefined) {
          const inputs = Object.fromEntries(Object.entries((step.with ?? {}) as Json).map(([k, v]) => [k, substitute(String(v), scope)]));
          try {
            Object.assign(env, await host.uses(String(step.uses), inputs, { ...stepEnv, GITHUB_WORKSPACE: workspace }));
            outcome = 'success';
          } catch (error) {
            stderr = (error as Error).message;
            outcome = 'failure';
          }
        } else if (step.run !== undefined) {
          // `shell: bash` runs `bash --noprofile --norc -eo pipefail {0}`; with no shell given, a
          // Linux runner uses `bash -e {0}` (no pipefail).
          const shell = step.shell ?? job.defaults?.run?.shell ?? workflow.defaults?.run?.shell;
          if (shell !== undefined && shell !== 'bash') throw new Error(`rehearsal: shell ${shell} is not played`);
          const scriptFile = join(jobDir, `step-${index + 1}.sh`);
          writeFileSync(scriptFile, substitute(String(step.run), scope));
          const ran = await runBash(scriptFile, workspace, shell === 'bash', {
            ...host.env,
            ...stepEnv,
            PATH: `${host.pathPrefix}:${process.env.PATH ?? '/usr/bin:/bin'}`,
            HOME: join(jobDir, 'home'),
            GITHUB_ENV: githubEnvFile,
            GITHUB_STEP_SUMMARY: summaryFile,
            GITHUB_WORKSPACE: workspace,
            ...Object.fromEntries(Object.entries(ctx.github).map(([k, v]) => [`GITHUB_${k.toUpperCase()}`, v])),
          });
          exitCode = ran.code;
          stdout = ran.stdout;
          stderr = ran.stderr;
          outcome = ran.code === 0 ? 'success' : 'failure';
          Object.assign(env, readEnvFile(githubEnvFile));
        } else {
          throw new Error(`rehearsal: step ${name} has neither run nor uses`);
        }
        const conclusion: Outcome = outcome === 'failure' && step['continue-on-error'] === true ? 'success' : outcome;
        if (conclusion === 'failure') failed = true;
        record = { job: jobName, name, ...(step.id ? { id: step.id } : {}), outcome, conclusion, ...(exitCode !== undefined ? { exitCode } : {}), stdout, stderr };
      }
      if (step.id) steps[step.id] = record;
      done.push(record);
    }
    records.push({ job: jobName, result: failed ? 'failure' : 'success', steps: done });
  }
  return records;
}

/** The job summary a job wrote (GITHUB_STEP_SUMMARY). */
export function stepSummary(workspace: string, job: string): string {
  return readFileSync(join(workspace, '.runner', job, 'step-summary.md'), 'utf8');
}
