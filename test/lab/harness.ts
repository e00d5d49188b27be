/**
 * A deployed lab on loopback fakes of CloudFormation, EC2 and SSM, driven through the real CLI
 * (runCli), the real post-deploy commands and the real AWS services factory (SDK clients pointed
 * at the fakes). Each node answers per script kind (node-facts.sh, tune-nic.sh, ...), healthy by
 * default; a test overrides what it is about.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLabConfig } from '../../lib/config/load.js';
import { artifactsBucketName } from '../../lib/config/artifacts.js';
import { OUTPUTS } from '../../lib/config/outputs.js';
import { planLab, type LabPlan } from '../../lib/config/plan.js';
import { createAwsServices } from '../../lib/aws/services.js';
import { runCli, type LabCommand } from '../../lib/lab/cli.js';
import { postDeployCommands } from '../../lib/lab/commands/post-deploy.js';
import type { LabTimeouts } from '../../lib/lab/remote.js';
import type { ArtifactStore, LabServices } from '../../lib/lab/services.js';
import { CFN_QUERY, EC2_QUERY, FakeQueryServer, QueryFault, listParam, type XmlValue } from '../aws/fake-query-server.js';
import { FakeS3Server } from '../aws/fake-s3-server.js';
import { FakeSsmServer, type FakeNode, type FakeResponse } from '../aws/fake-ssm-server.js';
import { recordingOutput } from '../helpers/output.js';

export const QUICK_TIMEOUTS: LabTimeouts = {
  agentsOnlineMs: 600,
  factsMs: 5_000,
  tuneMs: 5_000,
  restartMs: 5_000,
  ciliumMs: 5_000,
  waitMs: 5_000,
  quickMs: 5_000,
};

export type ScriptKind = 'facts' | 'tune' | 'restart' | 'install' | 'manifests' | 'wait' | 'kubeconfig' | 'kubectl' | 'logs' | 'nicstate';

/** Which lab script a shipped script is, by the main function it calls. */
export function scriptKind(script: string): ScriptKind | undefined {
  const marks: [ScriptKind, RegExp][] = [
    ['facts', /^\s*facts::main "\$@"/m],
    ['tune', /^\s*nic::main "\$@"/m],
    ['restart', /^\s*restart::main "\$@"/m],
    ['install', /^\s*install::main "\$@"/m],
    ['manifests', /^\s*manifests::main "\$@"/m],
    ['wait', /^\s*wait::main "\$@"/m],
    ['kubeconfig', /^\s*kubeconfig::main "\$@"/m],
    ['logs', /^\s*collect::main "\$@"/m],
    ['kubectl', /kubectl get nodes -o wide/],
    ['nicstate', /^\s*state::main "\$@"/m],
  ];
  return marks.find(([, re]) => re.test(script))?.[0];
}

export type Answer = FakeResponse | ((script: string) => FakeResponse);
export type Answers = Partial<Record<ScriptKind, Answer>>;

export const factsLine = (facts: Partial<{ kernel: string; interface: string; driver: string; driverVersion: string; mtu: number }> = {}): string =>
  `CILIUM_LAB_FACTS ${JSON.stringify({ kernel: '6.8.0-1021-aws', interface: 'ens5', driver: 'ena', driverVersion: '6.8.0-1021-aws', mtu: 9001, ...facts })}`;

export const nicLine = (report: Partial<Record<string, unknown>> = {}): string =>
  `CILIUM_LAB_NIC ${JSON.stringify({
    interface: 'ens5',
    mac: '0a:00:00:00:00:01',
    mtuBefore: 9001,
    mtuAfter: 3498,
    channelsBefore: 4,
    channelsAfter: 2,
    channelsMax: 4,
    driver: 'ena',
    driverVersion: '6.8.0-1021-aws',
    xdp: true,
    changed: true,
    ...report,
  })}`;

export const helmLine = (revision = '1', status = 'deployed', version = '1.16.3'): string =>
  `CILIUM_LAB_HELM ${JSON.stringify([{ name: 'cilium', namespace: 'kube-system', revision, updated: '2026-11-23 10:00:00 +0000 UTC', status, chart: `cilium-${version}`, app_version: version }])}`;

const KUBECTL_CRDS = fileURLToPath(new URL('../bgp/fixtures/kubectl-crds.sh', import.meta.url));

/**
 * apply-manifests.sh run for real, as the control plane would, against the kubectl stand-in
 * (test/bgp/fixtures/kubectl-crds.sh) with every BGP definition Established and serving `versions`.
 */
export function applyManifestsForReal(versions = 'v2alpha1'): (script: string) => FakeResponse {
  return (script) => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-manifests-'));
    try {
      const crds = join(dir, 'crds');
      const bin = join(dir, 'bin');
      mkdirSync(crds);
      mkdirSync(bin);
      for (const plural of ['ciliumbgpclusterconfigs', 'ciliumbgppeerconfigs', 'ciliumbgpadvertisements', 'ciliumloadbalancerippools']) writeFileSync(join(crds, `${plural}.cilium.io`), versions);
      symlinkSync(KUBECTL_CRDS, join(bin, 'kubectl'));
      writeFileSync(join(dir, 'admin.conf'), 'apiVersion: v1\nkind: Config\n');
      const ran = spawnSync('bash', ['-c', script, 'cilium-lab-remote'], {
        encoding: 'utf8',
        env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir, LAB_KUBECONFIG: join(dir, 'admin.conf'), LAB_NODE_NAME: 'k8s-s', LAB_LOG_FILE: join(dir, 'log'), STUB_CRD_DIR: crds },
      });
      return { exitCode: ran.status ?? -1, stdout: ran.stdout, stderr: ran.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** A healthy node's answers; the control plane also answers the control-plane scripts. */
export function healthyAnswers(plan: LabPlan): Answers {
  return {
    facts: { stdout: `kernel 6.8.0-1021-aws, NIC ens5\n${factsLine()}\n` },
    tune: { stdout: `NIC ens5 ...\n${nicLine()}\n` },
    restart: { stdout: 'CILIUM_LAB_AGENTS absent\n' },
    install: { stdout: `Release "cilium" has been upgraded.\n${helmLine()}\n` },
    manifests: applyManifestsForReal(),
    nicstate: { stdout: 'CILIUM_LAB_NIC_STATE {"interface":"ens5","mtu":3498,"wantMtu":3498,"channels":2,"maxChannels":4,"wantChannels":2,"xdp":"driver","xdpProgId":1234}\n' },
    wait: { stdout: `${plan.instances.filter((n) => n.role === 'control-plane' || n.role === 'worker').map((n) => `CILIUM_LAB_NODE ${n.name} True`).join('\n')}\n` },
    kubectl: { stdout: 'NAME     STATUS   ROLES           AGE   VERSION\nk8s-s    Ready    control-plane   1h    v1.30.14\n' },
  };
}

function respondWith(answers: Answers): (script: string) => FakeResponse {
  return (script) => {
    const kind = scriptKind(script);
    const answer = kind ? answers[kind] : undefined;
    if (answer === undefined) return { exitCode: 99, stderr: `fake node: no answer for this script (${kind ?? 'unknown kind'})\n` };
    return typeof answer === 'function' ? answer(script) : answer;
  };
}

/** For in-memory LabServices of tests that never touch the artifact store: every call fails, naming itself. */
export const noArtifacts: ArtifactStore = {
  uploadUrl: (bucket, key) => Promise.reject(new Error(`this test has no artifact store (uploadUrl ${bucket}/${key})`)),
  list: (bucket, prefix) => Promise.reject(new Error(`this test has no artifact store (list ${bucket}/${prefix})`)),
  download: (bucket, key) => Promise.reject(new Error(`this test has no artifact store (download ${bucket}/${key})`)),
  remove: (bucket) => Promise.reject(new Error(`this test has no artifact store (remove from ${bucket})`)),
};

export const instanceIdOf = (index: number): string => `i-0${String(index + 1).padStart(16, '0')}`;

/** The outputs LabStack writes for this plan (see lib/infra/lab-stack.ts). */
export function stackOutputsFor(plan: LabPlan, publicIp = '203.0.113.10'): Record<string, string> {
  return {
    [OUTPUTS.artifactsBucket]: artifactsBucketName(plan.config.labName, '000000000000', 'eu-west-1'),
    [OUTPUTS.controlPlanePublicIp]: publicIp,
    [OUTPUTS.nodeAddresses]: plan.instances.map((n) => `${n.name}=${n.privateIp}`).join(','),
    [OUTPUTS.labConfig]: JSON.stringify(plan.config),
    [OUTPUTS.kubernetesVersion]: plan.kubernetes.version,
    [OUTPUTS.ciliumVersion]: plan.config.cilium.version,
    ...Object.fromEntries(plan.instances.map((n, i) => [OUTPUTS.nodeOutput(n.name, 'InstanceId'), instanceIdOf(i)])),
  };
}

export interface Ec2Scenario {
  /** instance type -> facts DescribeInstanceTypes answers (default: nitro, ENA required). */
  readonly types?: Readonly<Record<string, { hypervisor?: string; enaSupport?: string }>>;
  /** instance id -> state (default running). */
  readonly states?: Readonly<Record<string, string>>;
  /** EnaSupport of the AMI (default true). */
  readonly amiEnaSupport?: boolean;
}

export interface LabScenario {
  /** -c settings of the deployed lab (default: the study lab). */
  readonly deployed?: Record<string, unknown>;
  /** Per node name: answers overriding the healthy ones, and SSM agent pings. */
  readonly nodes?: Readonly<Record<string, { answers?: Answers; ping?: FakeNode['ping']; runMs?: number; execute?: boolean }>>;
  /** Every node runs what it is sent for real, on this machine, as the SSM agent would (see FakeSsmServer). */
  readonly executeScripts?: boolean;
  /** The environment those scripts get on top of this process's. */
  readonly executeEnv?: Readonly<Record<string, string>>;
  /** A stack deployed before the artifacts bucket existed (no ArtifactsBucket output). */
  readonly noArtifactsBucket?: boolean;
  readonly ec2?: Ec2Scenario;
  /** No stack at all (DescribeStacks: does not exist). */
  readonly noStack?: boolean;
}

export interface CliRun {
  readonly code: number;
  /** Progress lines (Output.info). */
  readonly info: string[];
  /** The final document(s) (Output.result). */
  readonly result: string;
  /** Everything, in order. */
  readonly all: string;
}

export const AMI = 'ami-0123456789abcdef0';

export class FakeLab {
  servicesCreated = 0;

  private constructor(
    readonly plan: LabPlan,
    readonly ssm: FakeSsmServer,
    readonly ec2: FakeQueryServer,
    readonly cfn: FakeQueryServer,
    readonly s3: FakeS3Server,
    /** The lab's artifacts bucket in the S3 fake. */
    readonly bucket: string,
  ) {}

  static async start(scenario: LabScenario = {}): Promise<FakeLab> {
    const plan = planLab(loadLabConfig({ context: scenario.deployed ?? {} }));
    const healthy = healthyAnswers(plan);
    const nodes: Record<string, FakeNode> = {};
    plan.instances.forEach((node, i) => {
      const custom = scenario.nodes?.[node.name];
      nodes[instanceIdOf(i)] = {
        respond: respondWith({ ...healthy, ...custom?.answers }),
        runMs: custom?.runMs ?? 20,
        ...(custom?.ping ? { ping: custom.ping } : {}),
        ...((custom?.execute ?? scenario.executeScripts) ? { execute: true, ...(scenario.executeEnv ? { executeEnv: scenario.executeEnv } : {}) } : {}),
      };
    });
    const ssm = await FakeSsmServer.start({ nodes });
    const ids = plan.instances.map((_, i) => instanceIdOf(i));
    const ec2Scenario = scenario.ec2 ?? {};
    const ec2 = await FakeQueryServer.start({
      ...EC2_QUERY,
      handlers: {
        DescribeInstanceTypes: (params) => ({
          instanceTypeSet: listParam(params, 'InstanceType').map((type) => {
            const facts = ec2Scenario.types?.[type] ?? {};
            return {
              instanceType: type,
              hypervisor: facts.hypervisor ?? 'nitro',
              bareMetal: false,
              networkInfo: { enaSupport: facts.enaSupport ?? 'required' },
            };
          }),
        }),
        DescribeInstances: (params) => {
          const wanted = listParam(params, 'InstanceId');
          const unknown = wanted.filter((id) => !ids.includes(id));
          if (unknown.length > 0) throw new QueryFault('InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
          return {
            reservationSet: [
              {
                reservationId: 'r-0123',
                ownerId: '000000000000',
                instancesSet: wanted.map((id) => {
                  const node = plan.instances[ids.indexOf(id)];
                  return {
                    instanceId: id,
                    imageId: AMI,
                    instanceType: node?.instanceType,
                    instanceState: { code: 16, name: ec2Scenario.states?.[id] ?? 'running' },
                    privateIpAddress: node?.privateIp,
                  } satisfies Record<string, XmlValue>;
                }),
              },
            ],
          };
        },
        DescribeImages: (params) => ({
          imagesSet: listParam(params, 'ImageId').map((id) => ({ imageId: id, name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20261101', enaSupport: ec2Scenario.amiEnaSupport ?? true })),
        }),
      },
    });
    const { [OUTPUTS.artifactsBucket]: bucket = '', ...withoutBucket } = stackOutputsFor(plan);
    const outputs = scenario.noArtifactsBucket ? withoutBucket : { ...withoutBucket, [OUTPUTS.artifactsBucket]: bucket };
    const s3 = await FakeS3Server.start();
    s3.createBucket(bucket);
    const cfn = await FakeQueryServer.start({
      ...CFN_QUERY,
      handlers: {
        DescribeStacks: (params) => {
          const name = params['StackName'];
          if (scenario.noStack || name !== plan.stackName) throw new QueryFault('ValidationError', `Stack with id ${String(name)} does not exist`);
          return {
            Stacks: [
              {
                StackId: `arn:aws:cloudformation:eu-west-1:000000000000:stack/${name}/0000`,
                StackName: name,
                CreationTime: '2026-11-23T09:00:00.000Z',
                StackStatus: 'CREATE_COMPLETE',
                Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
              },
            ],
          };
        },
      },
    });
    return new FakeLab(plan, ssm, ec2, cfn, s3, bucket);
  }

  /** The real services factory, pointed at the fakes, with quick polling. */
  services(region = 'eu-west-1'): LabServices {
    this.servicesCreated++;
    return createAwsServices(
      { region },
      {
        endpoints: { ssm: this.ssm.endpoint, ec2: this.ec2.endpoint, cloudformation: this.cfn.endpoint, s3: this.s3.endpoint },
        credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret' },
        maxAttempts: 1,
        pollIntervalMs: 20,
        retry: { baseMs: 10, maxMs: 50 },
      },
    );
  }

  instanceId(nodeName: string): string {
    return instanceIdOf(this.plan.instances.findIndex((n) => n.name === nodeName));
  }

  /** The kinds of script each SendCommand carried, in order. */
  scriptKinds(): (ScriptKind | undefined)[] {
    return this.ssm.scriptsSent().map(scriptKind);
  }

  /** Every AWS call any fake saw. */
  totalCalls(): number {
    return this.ssm.calls.length + this.ec2.calls.length + this.cfn.calls.length + this.s3.calls.length;
  }

  /** Runs `lab <argv>` through runCli with the real commands and services. */
  async run(argv: readonly string[], commands: readonly LabCommand[] = postDeployCommands({ timeouts: QUICK_TIMEOUTS })): Promise<CliRun> {
    const recorded = recordingOutput();
    const { info, results, all } = recorded;
    const code = await runCli(argv, {
      commands,
      createServices: () => this.services(),
      out: () => recorded.output,
    });
    return { code, info, result: results.join('\n'), all: all.join('\n') };
  }

  async close(): Promise<void> {
    await Promise.all([this.ssm.close(), this.ec2.close(), this.cfn.close(), this.s3.close()]);
  }
}
