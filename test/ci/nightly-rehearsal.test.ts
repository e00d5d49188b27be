/**
 * The nightly, rehearsed as it runs: the workflow file's own jobs and steps, in order, through a
 * small Actions runner (./workflow-runner.ts: real bash, the step conditions, GITHUB_ENV, the
 * job summary), where the tools the steps call are stand-ins (./fixtures/tool-shim.mjs) that hand
 * each call back to this test:
 *
 *   - `npm run lab -- <command>` runs the real CLI with every real command (allCommands), in
 *     process, in the step's directory, its AWS clients pointed at one FakeAccount (CloudFormation,
 *     EC2, SSM, S3, Scheduler, SQS, tagging) and its Kubernetes client at the LabWorld API server;
 *     each job gets a fresh home (its own state directory), as each job gets a fresh runner;
 *   - `cdk deploy` (run by `lab deploy` through $CILIUM_LAB_CDK) creates the stack in the account
 *     from the -c settings it was given, printing outputs on stdout as the real CLI does;
 *   - `npx tsx scripts/ci/summary.ts` runs for real; `curl` answers the runner's address;
 *   - the nodes answer SSM by the script they get: the post-deploy scripts as a healthy node
 *     does, the check and kubeconfig scripts as the LabWorld's hosts do (kubeconfig: the real
 *     export script), the log collection for real with stand-ins of the cluster tools;
 *   - any other tool, action or expression fails the rehearsal.
 *
 * A green night leaves no lab; a night whose checks fail collects the logs, reports the failed
 * scenario and still tears down. A missing or misplaced step (say, no kubeconfig, or credentials
 * after the command that needs them) fails here as it would on the real night.
 *
 * What this cannot see: the lab CLI runs in this process, so only what it prints through its
 * output reaches the step's stdout; a child process it starts (cdk) writes to this process's own
 * streams. That cdk's stdout goes to stderr, and so stays out of `--json > create.json`, is proven
 * by test/lab/deploy.test.ts, which runs runCdk in a process of its own.
 */
import { EventEmitter } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createAwsServices } from '../../lib/aws/services.js';
import { LAB_TAGS } from '../../lib/config/tags.js';
import { createKubeClient } from '../../lib/kube/kube-client.js';
import { runCli } from '../../lib/lab/cli.js';
import { allCommands } from '../../lib/lab/commands/index.js';
import { LabWorld } from '../checks/lab-world.js';
import { bgpWorldSetup } from '../checks/bgp-world.js';
import { advertisedRanges } from '../../lib/config/bgp-rules.js';
import { collectStandInBin } from '../helpers/collect-stand-ins.js';
import { QUICK_TIMEOUTS, healthyAnswers, scriptKind } from '../lab/harness.js';
import { CREDENTIALS, FakeAccount, QUICK_TIMING, REGION, type FakeLab } from '../lifecycle/fake-account.js';
import type { FakeResponse } from '../aws/fake-ssm-server.js';
import { runWorkflow, stepSummary, type JobRecord, type RunnerHost } from './workflow-runner.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKFLOW = parse(readFileSync(join(ROOT, '.github/workflows/nightly-lab.yml'), 'utf8')) as Record<string, any>;
const SHIM = fileURLToPath(new URL('./fixtures/tool-shim.mjs', import.meta.url));
const REPOSITORY = 'study-group/cilium-lab';
const OWNER = `github:${REPOSITORY}`;
const RUNNER_IP = '198.51.100.7';
const opensslSkip = spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed (the kubeconfig export script needs it)';

interface ToolCall {
  readonly tool: string;
  readonly args: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
}
interface ToolAnswer {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One night: a workspace, the account, the cluster, the stand-ins, and what they saw. */
class Night {
  readonly calls: ToolCall[] = [];
  readonly refused: string[] = [];
  readonly uploads: { name: string; files: string[] }[] = [];
  readonly kubeconfigsUsed: string[] = [];
  readonly labs: FakeLab[] = [];
  private server: Server | undefined;

  private constructor(
    readonly workspace: string,
    readonly account: FakeAccount,
    readonly world: LabWorld,
    private readonly socket: string,
    private readonly shims: string,
    private readonly nodeEnv: Record<string, string>,
  ) {}

  static async start(): Promise<Night> {
    const workspace = mkdtempSync(join(tmpdir(), 'nightly-rehearsal-'));
    const shims = join(workspace, '.runner', 'shims');
    mkdirSync(shims, { recursive: true });
    for (const tool of ['npm', 'npx', 'curl', 'cdk']) symlinkSync(SHIM, join(shims, tool));
    // What a node's log collection runs with: the cluster tools as stand-ins, planted files.
    const nodeRoot = join(workspace, '.runner', 'node');
    mkdirSync(join(nodeRoot, 'var/log/cilium-lab'), { recursive: true });
    mkdirSync(join(nodeRoot, 'etc/kubernetes'), { recursive: true });
    mkdirSync(join(workspace, '.runner', 'node-tmp'));
    writeFileSync(join(nodeRoot, 'var/log/cilium-lab/bootstrap.log'), 'kubeadm init: done\n');
    writeFileSync(join(nodeRoot, 'etc/kubernetes/admin.conf'), 'apiVersion: v1\nclient-key-data: NEVER-IN-A-TARBALL\n');
    const bin = collectStandInBin(join(workspace, '.runner'));
    const nodeEnv = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      LAB_COLLECT_ROOT: nodeRoot,
      LAB_COLLECT_TMPDIR: join(workspace, '.runner', 'node-tmp'),
      LAB_KUBECONFIG: join(nodeRoot, 'etc/kubernetes/admin.conf'),
      STUB_LOG: join(workspace, '.runner', 'stub.log'),
    };
    const account = await FakeAccount.start();
    const world = await LabWorld.start();
    // kubeadm's admin.conf on the control plane: the fake API server's address and credentials.
    world.adminConf = world.api.writeKubeconfig(mkdtempSync(join(workspace, '.runner', 'admin-')));
    const night = new Night(workspace, account, world, join(workspace, '.runner', 'tools.sock'), shims, nodeEnv);
    await account.startSsm((id, script) => night.nodeAnswer(id, script));
    await night.listen();
    return night;
  }

  private listen(): Promise<void> {
    this.server = createServer((connection) => {
      let text = '';
      connection.on('data', (chunk) => {
        text += chunk.toString('utf8');
        const newline = text.indexOf('\n');
        if (newline < 0) return;
        const call = JSON.parse(text.slice(0, newline)) as ToolCall;
        this.calls.push(call);
        this.answer(call).then(
          (a) => connection.end(JSON.stringify(a)),
          (error: Error) => connection.end(JSON.stringify({ code: 125, stdout: '', stderr: `rehearsal: ${error.stack ?? error.message}\n` })),
        );
      });
    });
    return new Promise((resolve) => this.server?.listen(this.socket, resolve));
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
    await Promise.all([this.account.close(), this.world.close()]);
    rmSync(this.workspace, { recursive: true, force: true });
  }

  /** The run of the whole workflow (a scheduled one, or a manual one with its inputs). */
  run(runId: string, inputs?: Readonly<Record<string, string>>): Promise<JobRecord[]> {
    const host: RunnerHost = {
      pathPrefix: this.shims,
      env: { REHEARSAL_SOCKET: this.socket },
      uses: async (action, inputs, env) => this.uses(action, inputs, env),
    };
    return runWorkflow(WORKFLOW, host, {
      workspace: this.workspace,
      github: { run_id: runId, repository: REPOSITORY },
      ...(inputs ? { inputs } : {}),
      vars: { AWS_ROLE_ARN: 'arn:aws:iam::000000000000:role/cilium-lab-ci/CiliumLabCiAccess-NightlyRole-AbC' },
    });
  }

  /** The actions the workflow uses, played. */
  private async uses(action: string, inputs: Readonly<Record<string, string>>, env: Readonly<Record<string, string>>): Promise<Record<string, string>> {
    const [name] = action.split('@');
    switch (name) {
      case 'actions/checkout': {
        // The repository's files, as the checkout leaves them in the job's workspace.
        const into = env['GITHUB_WORKSPACE'] as string;
        for (const entry of ['package.json', 'tsconfig.json', 'cdk.json', 'bin', 'lib', 'scripts', 'helm-values', 'node_modules']) symlinkSync(join(ROOT, entry), join(into, entry));
        return {};
      }
      case 'actions/setup-node':
        if (Number(inputs['node-version']) < 20) throw new Error(`setup-node: node ${inputs['node-version']} is older than the project's engines`);
        return {};
      case 'aws-actions/configure-aws-credentials': {
        for (const input of ['role-to-assume', 'aws-region']) if (!inputs[input]) throw new Error(`configure-aws-credentials: input ${input} is empty`);
        return {
          AWS_ACCESS_KEY_ID: 'ASIAREHEARSALREHEARS',
          AWS_SECRET_ACCESS_KEY: 'rehearsal-secret',
          AWS_SESSION_TOKEN: 'rehearsal-token',
          AWS_REGION: inputs['aws-region'] as string,
          AWS_DEFAULT_REGION: inputs['aws-region'] as string,
        };
      }
      case 'actions/upload-artifact': {
        const dir = join(env['GITHUB_WORKSPACE'] as string, inputs['path'] ?? '');
        const files = existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).sort() : [];
        this.uploads.push({ name: inputs['name'] ?? '', files });
        return {};
      }
      default:
        this.refused.push(`uses ${action}`);
        throw new Error(`rehearsal: the action ${action} is not played`);
    }
  }

  /** What a node of a deployed lab answers over SSM. */
  private nodeAnswer(instanceId: string, script: string): FakeResponse {
    const lab = this.labs.find((l) => l.instanceIds.includes(instanceId));
    if (!lab) return { exitCode: 99, stderr: `fake node ${instanceId}: not a node of a lab this night deployed\n` };
    const node = lab.plan.instances[lab.instanceIds.indexOf(instanceId)]?.name as string;
    const kind = scriptKind(script);
    // The log collection runs for real, as the agent runs it (it uploads to the S3 fake with curl).
    if (kind === 'logs') return { execute: true, executeEnv: this.nodeEnv };
    // A lab with a router (profile bgp): its resources go to the world's API server, whose BGP they bring up.
    if (kind === 'manifests' && lab.plan.router) {
      const applied = this.world.hostAnswer(node, script);
      return { exitCode: applied.exitCode, stdout: applied.stdout, stderr: applied.stderr ?? '' };
    }
    const healthy = healthyAnswers(lab.plan);
    const answer = kind ? healthy[kind] : undefined;
    if (answer !== undefined) return typeof answer === 'function' ? answer(script) : answer;
    const host = this.world.hostAnswer(node, script);
    return { exitCode: host.exitCode, stdout: host.stdout, stderr: host.stderr ?? '' };
  }

  private async answer(call: ToolCall): Promise<ToolAnswer> {
    const [first, ...rest] = call.args;
    if (call.tool === 'npm' && first === 'ci') return { code: 0, stdout: 'added 612 packages in 9s\n', stderr: '' };
    if (call.tool === 'npm' && first === 'run') {
      const dashes = rest.indexOf('--');
      const before = dashes < 0 ? rest : rest.slice(0, dashes);
      const script = before.filter((a) => !a.startsWith('-'))[0];
      if (script === 'lab') {
        const argv = dashes < 0 ? [] : rest.slice(dashes + 1);
        const ran = await this.lab(argv, call);
        // Without --silent, npm prints its banner on stdout, in front of the command's own output.
        const banner = before.includes('--silent') || before.includes('-s') ? '' : `\n> cilium-lab@0.1.0 lab\n> node --import tsx scripts/lab.ts ${argv.join(' ')}\n\n`;
        return { ...ran, stdout: banner + ran.stdout };
      }
    }
    if (call.tool === 'npx' && first === 'tsx') return this.tsx(rest, call);
    if (call.tool === 'npx' && first === 'cdk') return this.cdk(rest, call);
    if (call.tool === 'cdk') return this.cdk(call.args, call);
    if (call.tool === 'curl' && call.args.includes('https://checkip.amazonaws.com')) return { code: 0, stdout: `${RUNNER_IP}\n`, stderr: '' };
    this.refused.push(`${call.tool} ${call.args.join(' ')}`);
    return { code: 127, stdout: '', stderr: `rehearsal: no stand-in for ${call.tool} ${call.args.join(' ')}\n` };
  }

  /** `npm run lab -- <argv>`: the real CLI, in process, in the step's directory and home. */
  private async lab(argv: string[], call: ToolCall): Promise<ToolAnswer> {
    if (!call.env['AWS_ACCESS_KEY_ID']) {
      return { code: 1, stdout: '', stderr: `lab ${argv[0]} failed: Could not load credentials from any providers (no AWS credentials in this step)\n` };
    }
    let stdout = '';
    let stderr = '';
    // The step's own AWS environment (credentials, region) is what the command and the cdk it runs see.
    const stepKeys = Object.keys(call.env).filter((k) => k.startsWith('AWS_'));
    const keys = [...stepKeys, 'CILIUM_LAB_STATE_DIR', 'CILIUM_LAB_CDK', 'REHEARSAL_SOCKET'];
    const saved = { cwd: process.cwd(), env: Object.fromEntries(keys.map((k) => [k, process.env[k]])) };
    for (const k of stepKeys) process.env[k] = call.env[k];
    process.chdir(call.cwd);
    process.env['CILIUM_LAB_STATE_DIR'] = join(call.env['HOME'] as string, '.cilium-lab');
    // `lab deploy` runs cdk through $CILIUM_LAB_CDK: the stand-in, which calls back here.
    process.env['CILIUM_LAB_CDK'] = join(this.shims, 'cdk');
    process.env['REHEARSAL_SOCKET'] = this.socket;
    const region = call.env['AWS_REGION'];
    try {
      const code = await runCli(argv, {
        commands: allCommands({
          deploy: { createCloud: () => this.account.cloud() },
          postDeploy: { timeouts: QUICK_TIMEOUTS },
          check: {
            createKube: (path) => {
              this.kubeconfigsUsed.push(path);
              // The fetched file points at the Elastic IP (unreachable here): talk to the fake API as it serves.
              return createKubeClient(this.world.adminConf, {});
            },
            checkOptions: { podReadyTimeoutMs: 1_500, namespaceDeleteTimeoutMs: 2_000, execTimeoutMs: 3_000, remoteTimeoutMs: 2_000, pollIntervalMs: 20, hubbleWaitMs: 300, bgpWaitMs: 2_000 },
            signals: new EventEmitter(),
          },
          logs: { timeouts: QUICK_TIMEOUTS, budget: { sysdumpSeconds: 20, uploadSeconds: 5 } },
          lifecycle: { timing: QUICK_TIMING, createCloud: () => this.account.cloud(), defaultRegion: async () => region },
        }),
        createServices: (config) =>
          createAwsServices(
            { region: config.region ?? region ?? REGION },
            { endpoints: this.account.endpoints(), credentials: CREDENTIALS, maxAttempts: 1, pollIntervalMs: 20, retry: { baseMs: 10, maxMs: 50 } },
          ),
        out: () => ({ info: (line) => (stderr += `${line}\n`), result: (text) => (stdout += `${text}\n`) }),
      });
      return { code, stdout, stderr };
    } finally {
      process.chdir(saved.cwd);
      for (const [key, value] of Object.entries(saved.env)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  }

  /** `npx tsx <script>`: for real. */
  private tsx(args: string[], call: ToolCall): Promise<ToolAnswer> {
    return new Promise((resolve, reject) => {
      const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), args, { cwd: call.cwd, env: { ...call.env, PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** The cdk CLI: deploy creates the lab's stack from the -c settings; destroy deletes it. */
  private async cdk(args: string[], call: ToolCall): Promise<ToolAnswer> {
    const context: Record<string, string> = {};
    args.forEach((a, i) => {
      if (a === '-c' || a === '--context') {
        const flag = args[i + 1] ?? '';
        context[flag.slice(0, flag.indexOf('='))] = flag.slice(flag.indexOf('=') + 1);
      }
    });
    const labName = context['labName'];
    if (!labName) return { code: 1, stdout: '', stderr: 'cdk: no labName (-c labName=...)\n' };
    if (args[0] === 'deploy') {
      // CI has no terminal to answer cdk's approval prompt.
      const approval = args[args.indexOf('--require-approval') + 1];
      if (approval !== 'never') return { code: 1, stdout: '', stderr: '"--require-approval" is enabled and stack includes security-sensitive updates, but terminal (TTY) is not attached so we are unable to get a confirmation from the user\n' };
      if (!call.env['AWS_ACCESS_KEY_ID']) return { code: 1, stdout: '', stderr: 'Unable to resolve AWS account to use.\n' };
      const { expiresAt, ...deployed } = context;
      const owner = context['owner'];
      const lab = this.account.addLab(labName, { deployed, ...(owner ? { owner } : {}), ...(expiresAt ? { expiresAt } : {}), artifacts: true, creationTime: new Date() });
      this.labs.push(lab);
      // A lab with a router (profile bgp): the world's nodes where the plan puts them, its router and BGP speakers.
      if (lab.plan.router) this.world.useBgp(bgpWorldSetup(lab.plan, advertisedRanges(lab.plan.config)));
      // The real CLI prints the stack's outputs and ARN on stdout (shortened here).
      return { code: 0, stdout: `Outputs:\n${labName}.ControlPlanePublicIp = ${lab.stack.outputs['ControlPlanePublicIp']}\nStack ARN:\n${lab.stack.id}\n`, stderr: ` ✨  Deployment time: 612.4s\n` };
    }
    if (args[0] === 'destroy') {
      this.account.deleteStack(labName);
      return { code: 0, stdout: '', stderr: ` ✅  ${labName}: destroyed\n` };
    }
    return { code: 1, stdout: '', stderr: `cdk ${args[0]}: not played\n` };
  }

  stepOf(jobs: JobRecord[], job: string, id: string): JobRecord['steps'][number] {
    const found = jobs.find((j) => j.job === job)?.steps.find((s) => s.id === id);
    if (!found) throw new Error(`no step ${id} in job ${job}`);
    return found;
  }

  labCalls(): string[] {
    return this.calls.filter((c) => c.tool === 'npm' && c.args[0] === 'run').map((c) => c.args.slice(c.args.indexOf('--') + 1)[0] as string);
  }

  liveStacks(): string[] {
    return this.account.stacks.filter((s) => s.status !== 'DELETE_COMPLETE').map((s) => s.name);
  }
}

const HOUR = 3_600_000;

(opensslSkip === undefined ? describe : describe.skip)('the nightly workflow, rehearsed step by step against the fakes', () => {
  describe('a night whose lab goes green', () => {
    let night: Night;
    let jobs: JobRecord[];
    const runId = '19876543210';
    const labName = `nightly-${runId}`;

    beforeAll(async () => {
      night = await Night.start();
      // The account as a real one looks: the CI access stack, last week's leftover nightly lab,
      // and a study member's own lab, both older than the sweep's 3 h.
      night.account.addCiAccessStack();
      night.account.addLab('nightly-19876540000', { owner: OWNER, creationTime: new Date(Date.now() - 5 * HOUR) });
      night.account.addLab('kans-w8', { owner: 'alice', creationTime: new Date(Date.now() - 5 * HOUR) });
      jobs = await night.run(runId);
    }, 90_000);
    afterAll(() => night.close());

    it('plays every step (no unknown tool, action or expression) and both jobs succeed', () => {
      expect(night.refused).toEqual([]);
      const failed = jobs.flatMap((j) => j.steps.filter((s) => s.outcome === 'failure').map((s) => `${j.job}/${s.name}: exit ${s.exitCode}\n${s.stderr.slice(-2000)}`));
      expect(failed).toEqual([]);
      expect(jobs.map((j) => [j.job, j.result])).toEqual([
        ['lab', 'success'],
        ['teardown', 'success'],
      ]);
    });

    it('creates the lab the way a user does (deploy, up, check), with the runner as operator and an expiry', () => {
      expect(night.labCalls()).toEqual(['create', 'down', 'sweep']);
      const lab = night.labs[0];
      expect(lab?.name).toBe(labName);
      expect(lab?.plan.config.access.operatorCidr).toBe(`${RUNNER_IP}/32`);
      expect(lab?.stack.tags[LAB_TAGS.owner]).toBe(OWNER);
      // --ttl 3h: the stack's expiry tag is 3 h after the deploy, give or take the run.
      const expires = Date.parse(lab?.stack.tags[LAB_TAGS.expiresAt] ?? '');
      expect(Math.abs(expires - (lab?.stack.creationTime.getTime() ?? 0) - 3 * HOUR)).toBeLessThan(60_000);
    });

    it('fetched the kubeconfig on the fresh runner and checked the cluster through it', () => {
      expect(night.world.kubeconfigExports).toBe(1);
      expect(night.kubeconfigsUsed).toEqual([join(night.workspace, '.runner', 'lab', 'home', '.cilium-lab', labName, 'kubeconfig')]);
    });

    it('writes a clean JSON report, JUnit, and a job summary with one row per scenario', () => {
      const report = JSON.parse(readFileSync(join(night.workspace, 'lab', 'reports', 'create.json'), 'utf8'));
      expect(report).toMatchObject({ command: 'create', ok: true });
      expect(report.phases.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['deploy', 'preflight', 'tune', 'cilium', 'wait', 'kubeconfig', 'checks']));
      expect(readFileSync(join(night.workspace, 'lab', 'reports', 'junit.xml'), 'utf8')).toMatch(/<testsuites [^>]*failures="0"/);
      const summary = stepSummary(night.workspace, 'lab');
      expect(summary).toMatch(/^## ✅ cilium-lab nightly nightly-19876543210/);
      expect(summary).toContain('| datapath/pod-to-pod | ✅ passed |');
      expect(summary.match(/^\| [a-z-]+\/[a-z0-9-]+ \| ✅ passed \|/gm)?.length).toBeGreaterThanOrEqual(16);
    });

    it('skips the log collection and uploads the reports', () => {
      expect(night.stepOf(jobs, 'lab', 'create').outcome).toBe('success');
      const logs = jobs[0]?.steps.find((s) => /lab logs/.test(s.name));
      expect(logs?.outcome).toBe('skipped');
      expect(night.uploads[0]).toEqual({ name: `nightly-lab-${runId}`, files: expect.arrayContaining(['create.json', 'junit.xml', 'check-report.json']) });
    });

    it('leaves no lab of its own or of an earlier night, and never touches the CI stack or a member\'s lab', () => {
      expect(night.liveStacks().sort()).toEqual(['CiliumLabCiAccess', 'kans-w8']);
      expect(night.uploads[1]).toEqual({ name: `nightly-lab-${runId}-teardown`, files: ['down.json', 'sweep.json'] });
      const sweep = JSON.parse(readFileSync(join(night.workspace, 'teardown', 'reports', 'sweep.json'), 'utf8'));
      expect(sweep.ok).toBe(true);
    });
  });

  describe('a manual night of profile bgp (workflow_dispatch profile=bgp)', () => {
    let night: Night;
    let jobs: JobRecord[];
    const runId = '19876545555';

    beforeAll(async () => {
      night = await Night.start();
      night.account.addCiAccessStack();
      jobs = await night.run(runId, { profile: 'bgp' });
    }, 90_000);
    afterAll(() => night.close());

    it('deploys the bgp lab, applies its BGP resources in up, checks the router from both ends, and tears it down', () => {
      expect(night.refused).toEqual([]);
      expect(jobs.map((j) => [j.job, j.result])).toEqual([
        ['lab', 'success'],
        ['teardown', 'success'],
      ]);
      expect(night.labs[0]?.plan.router?.name).toBe('router');
      const report = JSON.parse(readFileSync(join(night.workspace, 'lab', 'reports', 'create.json'), 'utf8'));
      expect(report.phases.filter((p: { name: string }) => ['cilium', 'resources', 'wait'].includes(p.name)).map((p: { name: string; status: string }) => `${p.name} ${p.status}`)).toEqual(['cilium ok', 'resources ok', 'wait ok']);
      const summary = stepSummary(night.workspace, 'lab');
      expect(summary).toContain('| datapath/bgp | ✅ passed |');
      expect(summary).toMatch(/cilium-lab nightly nightly-19876545555 \(profile bgp\)/);
      expect(night.liveStacks()).toEqual(['CiliumLabCiAccess']);
    });
  });

  describe('a night whose checks fail', () => {
    let night: Night;
    let jobs: JobRecord[];
    const runId = '19876549999';
    const labName = `nightly-${runId}`;

    beforeAll(async () => {
      night = await Night.start();
      // A datapath fault: webpod2 never answers.
      night.world.unreachablePods.add('webpod2');
      jobs = await night.run(runId);
    }, 90_000);
    afterAll(() => night.close());

    it('fails the lab job at create, naming the failed scenarios, and plays every step', () => {
      expect(night.refused).toEqual([]);
      expect(jobs.map((j) => [j.job, j.result])).toEqual([
        ['lab', 'failure'],
        ['teardown', 'success'],
      ]);
      const create = night.stepOf(jobs, 'lab', 'create');
      expect([create.outcome, create.exitCode]).toEqual(['failure', 1]);
      const report = JSON.parse(readFileSync(join(night.workspace, 'lab', 'reports', 'create.json'), 'utf8'));
      expect(report).toMatchObject({ command: 'create', ok: false, result: { failedAt: 'check' } });
      expect(report.error).toMatch(/^lab create stopped at check: 3 of 16 scenario\(s\) failed \(datapath\/pod-to-pod, datapath\/pod-to-clusterip, datapath\/hubble-flows\)/);
    });

    it('reports each scenario in the job summary, the failed one with its reason', () => {
      const summary = stepSummary(night.workspace, 'lab');
      expect(summary).toMatch(/^## ❌ cilium-lab nightly nightly-19876549999/);
      expect(summary).toMatch(/\| datapath\/pod-to-pod \| ❌ failed \| .*webpod2/);
      expect(summary).toContain('| cluster/nodes-ready | ✅ passed |');
      expect(readFileSync(join(night.workspace, 'lab', 'reports', 'junit.xml'), 'utf8')).toMatch(/<testsuites [^>]*failures="[1-9]/);
    });

    it('collects every node\'s logs and the sysdump, and uploads them with the reports', () => {
      const logs = jobs[0]?.steps.find((s) => /lab logs/.test(s.name));
      expect(logs?.outcome).toBe('success');
      const collected = JSON.parse(readFileSync(join(night.workspace, 'lab', 'reports', 'logs.json'), 'utf8'));
      expect(collected.ok).toBe(true);
      expect(night.uploads[0]?.files).toEqual(expect.arrayContaining(['create.json', 'junit.xml', 'logs.json', join('logs', 'k8s-s', 'node-logs.tar.gz'), join('logs', 'k8s-s', 'cilium-sysdump.zip'), join('logs', 'testpc', 'node-logs.tar.gz')]));
    });

    it('still tears the lab down', () => {
      expect(night.liveStacks()).not.toContain(labName);
      expect(night.stepOf(jobs, 'teardown', 'down').outcome).toBe('success');
    });
  });
});
