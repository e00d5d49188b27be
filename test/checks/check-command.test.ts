/**
 * `lab check` end to end: the real CLI (runCli), the real check command and scenarios, the real
 * client-node against the loopback API server (test/kube/fake-kube-api.ts) playing a lab, and an
 * in-memory RemoteRunner for the host scripts. Each test breaks one thing and checks the verdict,
 * the reason, the evidence, the cleanup and the exit code.
 */
import { EventEmitter } from 'node:events';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { createKubeClient } from '../../lib/kube/kube-client.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../lib/lab/cli.js';
import { checkCommand, type CheckCommandSettings } from '../../lib/lab/commands/check.js';
import type { ArtifactStore, LabServices } from '../../lib/lab/services.js';
import { loadLabConfig } from '../../lib/config/load.js';
import { OUTPUTS } from '../../lib/config/outputs.js';
import { planLab } from '../../lib/config/plan.js';
import { composeLabCiliumValues } from '../../lib/lab/cilium.js';
import { fileURLToPath } from 'node:url';
import type { ResultsDocument } from '../../lib/checks/report.js';
import type { ScenarioResult } from '../../lib/checks/types.js';
import { noArtifacts } from '../lab/harness.js';
import { stackOutputsOf } from '../helpers/lab-services.js';
import { LabWorld, PUBLIC_IP, hubbleFlowLine } from './lab-world.js';
import { findAll, parseXml } from './mini-xml.js';

const NS = 'cilium-lab-check';
const plan = planLab(loadLabConfig({ context: {} }));

const stackOutputs = (labPlan = plan): Record<string, string> => stackOutputsOf(labPlan);

let world: LabWorld;
let stateDir: string;
const savedStateDir = process.env.CILIUM_LAB_STATE_DIR;

beforeEach(async () => {
  world = await LabWorld.start();
  stateDir = mkdtempSync(join(tmpdir(), 'lab-check-'));
  process.env.CILIUM_LAB_STATE_DIR = stateDir;
  mkdirSync(join(stateDir, plan.config.labName), { recursive: true });
  world.api.writeKubeconfig(join(stateDir, plan.config.labName));
});

afterEach(async () => {
  await world.close();
  rmSync(stateDir, { recursive: true, force: true });
  if (savedStateDir === undefined) delete process.env.CILIUM_LAB_STATE_DIR;
  else process.env.CILIUM_LAB_STATE_DIR = savedStateDir;
});

interface CheckRun {
  readonly code: number;
  readonly info: string[];
  readonly result: string;
  readonly report: ResultsDocument;
  result_of(id: string): ScenarioResult;
}

async function runCheck(args: string[] = [], settings: CheckCommandSettings = {}, bucket?: { artifacts: ArtifactStore; bucket: string }, labPlan = plan): Promise<CheckRun> {
  const info: string[] = [];
  const results: string[] = [];
  const services: LabServices = {
    stackOutputs: async () => ({ ...stackOutputs(labPlan), ...(bucket ? { [OUTPUTS.artifactsBucket]: bucket.bucket } : {}) }),
    remote: world.remote,
    ec2: {
      instanceTypes: async () => [],
      instances: async () => [],
      images: async () => [],
    },
    artifacts: bucket?.artifacts ?? noArtifacts,
    agentsNotOnline: async () => ({}),
  };
  const code = await runCli(['check', ...args], {
    commands: [
      checkCommand({
        checkOptions: { podReadyTimeoutMs: 1_500, namespaceDeleteTimeoutMs: 2_000, execTimeoutMs: 3_000, remoteTimeoutMs: 2_000, pollIntervalMs: 20, hubbleWaitMs: 300, policyWaitMs: 1_000 },
        signals: new EventEmitter(),
        ...settings,
      }),
    ],
    createServices: () => services,
    out: () => ({ info: (line) => info.push(line), result: (text) => results.push(text) }),
  });
  const report = JSON.parse(readFileSync(join(stateDir, plan.config.labName, 'check-report.json'), 'utf8')) as ResultsDocument;
  return {
    code,
    info,
    result: results.join('\n'),
    report,
    result_of(id: string) {
      const found = report.results.find((r) => `${r.check}/${r.scenario}` === id);
      if (!found) throw new Error(`no result ${id}; have ${report.results.map((r) => `${r.check}/${r.scenario}`).join(', ')}`);
      return found;
    },
  };
}

const ALL_SCENARIOS = [
  'cluster/nodes-ready',
  'cluster/no-kube-proxy',
  'cluster/coredns-ready',
  'cluster/cilium-agents-ready',
  'cluster/cilium-components-ready',
  'agent/agent-status',
  'hosts/no-kube-svc-rules',
  'hosts/nic-tuning',
  'datapath/pod-to-pod',
  'datapath/pod-to-clusterip',
  'datapath/pod-to-service-dns',
  'datapath/pod-to-internet',
  'datapath/hostport',
  'datapath/nodeport-from-testpc',
  'datapath/hubble-flows',
  'datapath/hubble-ui',
];

describe('lab check on a healthy lab', () => {
  it('passes every scenario, prints the table, exits 0 and removes the test namespace', async () => {
    // when
    const run = await runCheck();
    // then
    expect(run.code).toBe(0);
    expect(run.report.results.map((r) => `${r.check}/${r.scenario}`)).toEqual(ALL_SCENARIOS);
    expect(run.report.results.filter((r) => r.status !== 'passed')).toEqual([]);
    expect(run.report.summary).toEqual({ passed: 16, failed: 0, skipped: 0, total: 16 });
    expect(run.result).toMatch(/^datapath\/pod-to-clusterip\s+PASS/m);
    expect(run.result).toMatch(/16 passed, 0 failed, 0 skipped of 16/);
    expect(world.api.deletedNamespaces).toEqual([NS]);
    expect(world.api.hasNamespace(NS)).toBe(false);
  });

  it('proves what the study checks by hand, with the facts in each scenario\'s detail', async () => {
    // when
    const run = await runCheck();
    // then: both backends answered, the peer is netpod's own IP, egress is the node's public IP
    expect(run.result_of('datapath/pod-to-clusterip').reason).toMatch(/answers from webpod1 x10, webpod2 x10/);
    expect(run.result_of('datapath/pod-to-clusterip').reason).toMatch(/every backend saw the expected source \(cilium-config .*ipv4-native-routing-cidr=172\.16\.0\.0\/16.*: 172\.16\.\d+\.\d+ is inside the native routing CIDR, not masqueraded/);
    expect(run.result_of('datapath/pod-to-pod').reason).toMatch(/webpod1 saw 172\.16\.0\.\d+ \(cilium-config/);
    expect(run.result_of('datapath/pod-to-internet').reason).toMatch(new RegExp(`seen as ${PUBLIC_IP.replace(/\./g, '\\.')}, the control plane's public IP`));
    expect(run.result_of('agent/agent-status').expectations.map((e) => e.id)).toEqual([
      'kube-proxy-replacement-as-configured',
      'routing-as-configured',
      'host-routing-as-configured',
      'masquerading-as-configured',
      'xdp-acceleration-as-configured',
    ]);
    expect(run.result_of('agent/agent-status').reason).toMatch(/True on 3 agent\(s\), as cilium-config kube-proxy-replacement=true/);
    expect(run.result_of('datapath/hubble-flows').reason).toMatch(
      /cilium-lab-check\/webpod1: \d+ FORWARDED, cilium-lab-check\/webpod2: \d+ FORWARDED, cilium-lab-check\/hostport: \d+ FORWARDED.*no DROPPED flow of cilium-lab-check\/netpod/,
    );
    // and the pods sat where the study puts them
    expect(world.api.execCalls.find((c) => c.pod === 'netpod')).toBeDefined();
  });

  it('pins netpod to the control plane (tolerating its taint) and the webpods to two workers', async () => {
    // given a run that keeps the namespace to look at it
    const run = await runCheck(['--keep-namespace']);
    // then
    expect(run.code).toBe(0);
    const node = (name: string) => ((world.api.pod(NS, name)?.spec as Record<string, unknown>).nodeName as string);
    expect([node('netpod'), node('webpod1'), node('webpod2'), node('hostport')]).toEqual(['k8s-s', 'k8s-w1', 'k8s-w2', 'k8s-w1']);
    const tolerations = (world.api.pod(NS, 'netpod')?.spec as Record<string, unknown>).tolerations;
    expect(tolerations).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' });
    expect(world.api.deletedNamespaces).toEqual([]);
    expect(run.result_of('datapath/hubble-flows').status).toBe('passed');
  });

  it('deletes a namespace left by an interrupted earlier run before creating its own', async () => {
    // given a leftover
    world.api.addNamespace(NS);
    // when
    const run = await runCheck();
    // then
    expect(run.code).toBe(0);
    expect(world.api.deletedNamespaces).toEqual([NS, NS]);
  });

  it('writes JUnit that parses, with one testcase per scenario and nothing marked failed', async () => {
    // given
    const junit = join(stateDir, 'out', 'junit.xml');
    // when
    await runCheck(['--junit', junit]);
    // then
    const root = parseXml(readFileSync(junit, 'utf8'));
    expect(root.name).toBe('testsuites');
    expect(root.attributes).toMatchObject({ tests: '16', failures: '0', skipped: '0' });
    expect(findAll(root, 'testsuite').map((s) => s.attributes.name)).toEqual(['cluster', 'agent', 'hosts', 'datapath']);
    expect(findAll(root, 'testcase').map((t) => `${t.attributes.classname}/${t.attributes.name}`)).toEqual(ALL_SCENARIOS.map((s) => `cilium-lab.${s}`));
    expect(findAll(root, 'failure')).toEqual([]);
    // and the full report (with the evidence) lands beside it
    const beside = JSON.parse(readFileSync(join(stateDir, 'out', 'check-report.json'), 'utf8')) as ResultsDocument;
    expect(beside.results.map((r) => `${r.check}/${r.scenario}`)).toEqual(ALL_SCENARIOS);
  });

  it('prints the results document with --json', async () => {
    // when
    const run = await runCheck(['--json']);
    // then
    const doc = JSON.parse(run.result) as { ok: boolean; result: ResultsDocument };
    expect(doc.ok).toBe(true);
    expect(doc.result.summary.passed).toBe(16);
    expect(doc.result.results[0]).toMatchObject({ check: 'cluster', scenario: 'nodes-ready', status: 'passed' });
  });
});

describe('lab check holds the datapath to the installed values', () => {
  const valuesOf = (userValuesFile?: string) =>
    composeLabCiliumValues(plan, { xdp: true, ...(userValuesFile ? { userValuesFile } : {}) }).values as Record<string, unknown>;

  it.each([
    ['the lab default (helm-values/cilium.yaml + xdp.yaml)', undefined, /inside the native routing CIDR, not masqueraded/, '172\\.16\\.0\\.'],
    ['the study-original overlay (ipv4NativeRoutingCIDR = the VPC)', fileURLToPath(new URL('../../helm-values/study-original.yaml', import.meta.url)), /outside the native routing CIDR, SNATed to the node/, '192\\.168\\.10\\.10'],
  ])('gives an all-green run with %s, the peer seeing the source Cilium picks', async (_name, file, rule, seen) => {
    // given Cilium installed with these values, the datapath doing what Cilium does with them
    world.installValues(valuesOf(file));
    // when
    const run = await runCheck();
    // then
    expect(run.report.results.filter((r) => r.status !== 'passed').map((r) => `${r.check}/${r.scenario}: ${r.reason}`)).toEqual([]);
    const source = run.result_of('datapath/pod-to-pod').expectations.find((e) => e.id === 'peer-sees-source-as-configured');
    expect(source?.detail).toMatch(rule);
    expect(source?.detail).toMatch(new RegExp(`webpod1 saw ${seen}`));
  });

  it('expects legacy host routing and iptables masquerading from values that ask for them, and says which keys', async () => {
    // given
    world.installValues({ ...valuesOf(), bpf: { masquerade: false, hostLegacyRouting: false } });
    // when
    const run = await runCheck();
    // then
    const agent = run.result_of('agent/agent-status');
    expect(agent.status).toBe('passed');
    expect(agent.expectations.find((e) => e.id === 'host-routing-as-configured')?.detail).toMatch(/^Legacy on 3 agent\(s\), as cilium-config enable-host-legacy-routing=false, kube-proxy-replacement=true, enable-bpf-masquerade=false/);
    expect(agent.expectations.find((e) => e.id === 'masquerading-as-configured')?.detail).toMatch(/^IPTables on 3 agent\(s\)/);
  });
});

describe('lab check of a cluster-pool lab (profile cluster-pool)', () => {
  const poolPlan = planLab(loadLabConfig({ context: { profile: 'cluster-pool' } }));
  const givenBlocks = (blocks: Record<string, string[]>) => {
    for (const [node, cidrs] of Object.entries(blocks)) world.api.ciliumNodePodCidrs.set(node, cidrs);
  };

  it('proves every node has its own block of the pool and the pods live in their node\'s block', async () => {
    // given Cilium's operator gave each node a /24 of 10.200.0.0/16 (the agents allocate pod IPs from it)
    givenBlocks({ 'k8s-s': ['10.200.0.0/24'], 'k8s-w1': ['10.200.1.0/24'], 'k8s-w2': ['10.200.2.0/24'] });
    world.installValues(composeLabCiliumValues(poolPlan, { xdp: true }).values as Record<string, unknown>);
    // when
    const run = await runCheck([], {}, undefined, poolPlan);
    // then
    const r = run.result_of('datapath/ipam-pool');
    expect(r).toMatchObject({ status: 'passed' });
    expect(r.expectations.map((e) => e.detail)).toEqual(['k8s-s 10.200.0.0/24, k8s-w1 10.200.1.0/24, k8s-w2 10.200.2.0/24', "every test pod has an address of its node's block"]);
    expect(run.report.results.filter((x) => x.status !== 'passed').map((x) => `${x.check}/${x.scenario}: ${x.reason}`)).toEqual([]);
  });

  it('fails when a node has no block, or a block outside the pools', async () => {
    // given
    givenBlocks({ 'k8s-s': ['10.200.0.0/24'], 'k8s-w1': ['10.0.1.0/24'] });
    // when
    const run = await runCheck([], {}, undefined, poolPlan);
    // then
    const r = run.result_of('datapath/ipam-pool');
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/ipam-pool-node-blocks: k8s-w1: 10\.0\.1\.0\/24 is outside clusterPool\.cidrs 10\.200\.0\.0\/16; k8s-w2: no CiliumNode/);
  });

  it('runs no ipam-pool scenario on a study lab', async () => {
    const run = await runCheck();
    expect(run.report.results.map((x) => x.scenario)).not.toContain('ipam-pool');
  });
});

describe('lab check of a netkit lab (profile netkit)', () => {
  const netkitPlan = planLab(loadLabConfig({ context: { profile: 'netkit' } }));

  it('proves the pods sit behind netkit devices on every node, and the rest of the suite stays green', async () => {
    // given Cilium installed with the netkit profile's values
    world.installValues(composeLabCiliumValues(netkitPlan, { xdp: true }).values as Record<string, unknown>);
    // when
    const run = await runCheck([], {}, undefined, netkitPlan);
    // then
    const r = run.result_of('datapath/netkit-devices');
    expect(r.expectations.map((e) => [e.id, e.met, e.detail])).toEqual([
      ['netkit-datapath-mode', true, 'cilium-config datapath-mode=netkit'],
      ['netkit-endpoint-devices', true, 'k8s-s 2 netkit, 0 veth, k8s-w1 4 netkit, 0 veth, k8s-w2 2 netkit, 0 veth'],
    ]);
    expect(run.report.results.filter((x) => x.status !== 'passed').map((x) => `${x.check}/${x.scenario}: ${x.reason}`)).toEqual([]);
  });

  it('fails when the agents keep veth pairs, naming the node and a device', async () => {
    world.installValues(composeLabCiliumValues(netkitPlan, { xdp: true }).values as Record<string, unknown>);
    world.endpointsStayVeth = true;
    const run = await runCheck([], {}, undefined, netkitPlan);
    expect(run.result_of('datapath/netkit-devices').reason).toMatch(/^netkit-endpoint-devices: k8s-s: 2 veth endpoint device\(s\) \(lxc8e2f1a: veth\); k8s-s: 0 netkit device\(s\) for 1 test pod\(s\)/);
  });
});

describe('lab check of an ENI lab (profile eni)', () => {
  const eniPlan = planLab(loadLabConfig({ context: { profile: 'eni' } }));
  const eniValues = () => composeLabCiliumValues(eniPlan, { xdp: true }).values as Record<string, unknown>;

  it("proves the pods have VPC addresses of their own node's ENIs, unmasqueraded, and each node's pod capacity is its ENIs' figure; the rest stays green", async () => {
    // given: Cilium's operator attached ENIs in the node subnet, kubeadm set maxPods from the lab's figures (t3.xlarge: 61 on the control plane, 56 on workers)
    world.useEniIpam({ 'k8s-s': 61, 'k8s-w1': 56, 'k8s-w2': 56 });
    world.installValues(eniValues());
    // when
    const run = await runCheck([], {}, undefined, eniPlan);
    // then
    const r = run.result_of('datapath/eni-ipam');
    expect(r.expectations.map((e) => [e.id, e.met])).toEqual([
      ['eni-pod-ips-in-node-subnet', true],
      ['eni-testpc-reaches-pods-directly', true],
      ['eni-ciliumnode-enis', true],
      ['eni-node-pod-capacity', true],
    ]);
    expect(r.expectations[1]?.detail).toMatch(/^testpc reached webpod1 at 192\.168\.10\.\d+ and webpod2 at 192\.168\.10\.\d+ directly$/);
    expect(r.expectations[3]?.detail).toBe('k8s-s 61, k8s-w1 56, k8s-w2 56');
    // pods see each other's own addresses: the base suite's source expectations hold with ENI addresses
    expect(run.result_of('datapath/pod-to-pod').expectations.find((e) => e.id === 'peer-sees-source-as-configured')?.detail).toMatch(/webpod1 saw 192\.168\.10\.\d+/);
    expect(run.report.results.filter((x) => x.status !== 'passed').map((x) => `${x.check}/${x.scenario}: ${x.reason}`)).toEqual([]);
  });

  it("fails when the kubelets kept kubeadm's default 110 pods, or an ENI sits in another subnet", async () => {
    // given
    world.useEniIpam({ 'k8s-w1': 56, 'k8s-w2': 56 });
    world.api.ciliumNodeEnis.set('k8s-w2', [{ id: 'eni-stray', ip: '192.168.20.50', subnetCidr: '192.168.20.0/24', vpcPrimaryCidr: '192.168.0.0/16', addresses: ['192.168.20.51', '192.168.20.52', '192.168.20.53'] }]);
    world.installValues(eniValues());
    // when
    const run = await runCheck([], {}, undefined, eniPlan);
    // then
    const r = run.result_of('datapath/eni-ipam');
    expect(r.status).toBe('failed');
    const detail = Object.fromEntries(r.expectations.map((e) => [e.id, e.detail]));
    expect(detail['eni-node-pod-capacity']).toBe('k8s-s 110, want 61, k8s-w1 56, k8s-w2 56');
    expect(detail['eni-ciliumnode-enis']).toMatch(/k8s-w2: eni-stray is in subnet 192\.168\.20\.0\/24, not 192\.168\.10\.0\/24/);
    expect(detail['eni-pod-ips-in-node-subnet']).toMatch(/^not in 192\.168\.10\.0\/24: .*192\.168\.20\.5\d/);
  });

  it('fails when testpc cannot reach the pods at their own addresses (pod addresses the VPC does not route)', async () => {
    // given: the pods' addresses look right, but nothing in the VPC routes them
    world.useEniIpam({ 'k8s-s': 61, 'k8s-w1': 56, 'k8s-w2': 56 });
    world.vpcRoutesPods = false;
    world.installValues(eniValues());
    // when
    const run = await runCheck([], {}, undefined, eniPlan);
    // then
    const r = run.result_of('datapath/eni-ipam');
    expect(r.status).toBe('failed');
    expect(r.expectations.find((e) => e.id === 'eni-testpc-reaches-pods-directly')?.detail).toMatch(/^webpod1 192\.168\.10\.\d+: 0 of 4 answered by it \(curl: \(28\)/);
  });

  it('runs no eni-ipam scenario on a study lab', async () => {
    const run = await runCheck();
    expect(run.report.results.map((x) => x.scenario)).not.toContain('eni-ipam');
  });
});

describe('lab check of a kube-proxy lab (profile kube-proxy): the mirror image of the default', () => {
  const kpPlan = planLab(loadLabConfig({ context: { profile: 'kube-proxy' } }));
  const givenKubeProxyCluster = () => {
    world.installValues(composeLabCiliumValues(kpPlan, { xdp: true }).values as Record<string, unknown>);
    world.addKubeProxy();
    for (const node of ['k8s-s', 'k8s-w1', 'k8s-w2']) world.kubeSvcRules.set(node, 12);
    world.cniHostportRules.set('k8s-w1', 4);
  };

  it('proves kube-proxy runs, Services live in iptables and HostPort is portmap\'s, and the rest stays green', async () => {
    // given
    givenKubeProxyCluster();
    // when
    const run = await runCheck([], {}, undefined, kpPlan);
    // then
    expect(run.report.results.map((x) => `${x.check}/${x.scenario}`)).toEqual(
      expect.arrayContaining(['cluster/kube-proxy-present', 'hosts/kube-svc-rules-present', 'datapath/hostport-portmap']),
    );
    expect(run.report.results.map((x) => x.scenario)).not.toEqual(expect.arrayContaining(['no-kube-proxy']));
    expect(run.report.results.filter((x) => x.status !== 'passed').map((x) => `${x.check}/${x.scenario}: ${x.reason}`)).toEqual([]);
    expect(run.result_of('agent/agent-status').reason).toMatch(/False on 3 agent\(s\), as cilium-config kube-proxy-replacement=false/);
    expect(run.result_of('datapath/hostport-portmap').expectations.find((e) => e.id === 'cni-hostport-iptables-rules')?.detail).toBe('k8s-w1: 4 CNI-HOSTPORT rule(s)');
  });

  it('fails each mirrored check where the cluster looks like the default instead', async () => {
    // given Cilium installed for kube-proxy, but no kube-proxy, no KUBE-SVC rules, no portmap rules
    world.installValues(composeLabCiliumValues(kpPlan, { xdp: true }).values as Record<string, unknown>);
    // when
    const run = await runCheck([], {}, undefined, kpPlan);
    // then
    expect(run.result_of('cluster/kube-proxy-present').reason).toMatch(/kube-proxy-daemonset-ready: no kube-proxy DaemonSet/);
    expect(run.result_of('hosts/kube-svc-rules-present').reason).toMatch(/k8s-s: no KUBE-SVC rule/);
    expect(run.result_of('datapath/hostport-portmap').reason).toMatch(/cni-hostport-iptables-rules: k8s-w1: 0 CNI-HOSTPORT rule\(s\)/);
  });
});

describe('lab check when something is wrong', () => {
  it('fails the datapath set-up with the reason from the pod\'s events when a pod never becomes Ready, skips what depends on it, and still removes the namespace', async () => {
    // given webpod2's image never pulls
    world.api.podBehaviour('webpod2', { kind: 'image-pull-fails' });
    // when
    const run = await runCheck();
    // then
    expect(run.code).toBe(1);
    const setup = run.result_of('datapath/setup');
    expect(setup.status).toBe('failed');
    expect(setup.reason).toMatch(/pod cilium-lab-check\/webpod2 did not become Ready within 1\.5 s/);
    expect(setup.reason).toMatch(/Failed to pull image "traefik\/whoami:v1\.10\.3"/);
    expect(setup.evidence.events.some((e) => e.startsWith('Warning BackOff') && e.includes('Pod/webpod2'))).toBe(true);
    expect(setup.evidence.command).toMatch(/create pod cilium-lab-check\/webpod2 on k8s-w2/);
    for (const id of ['datapath/pod-to-pod', 'datapath/pod-to-clusterip', 'datapath/hubble-flows']) {
      expect(run.result_of(id)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^not run: the datapath namespace failed/) });
    }
    expect(run.result_of('cluster/nodes-ready').status).toBe('passed');
    expect(world.api.hasNamespace(NS)).toBe(false);
    expect(run.info.join('\n')).toMatch(/--- datapath\/setup failed/);
    expect(run.result).toMatch(/lab check failed: 1 of 17 scenario\(s\) failed \(datapath\/setup\); report: .*check-report\.json/);
  });

  it('fails agent-status with the exit code and stderr when cilium-dbg fails in an agent pod', async () => {
    // given
    world.agentExecFailure.set('k8s-w1', { exitCode: 1, stderr: 'Error: Unable to contact the Cilium daemon: dial unix /var/run/cilium/cilium.sock: connect: no such file or directory\n' });
    // when
    const run = await runCheck();
    // then
    expect(run.code).toBe(1);
    const agent = run.result_of('agent/agent-status');
    expect(agent.status).toBe('failed');
    expect(agent.reason).toMatch(/kube-proxy-replacement-as-configured: k8s-w1: exit 1/);
    expect(agent.evidence.output).toMatch(/exec kube-system\/cilium-b9q4m \[cilium-agent\]: cilium-dbg status -o json\nexit 1/);
    expect(agent.evidence.output).toMatch(/Unable to contact the Cilium daemon/);
  });

  it('fails agent-status when an agent runs a tunnel, legacy host routing or iptables masquerading', async () => {
    // given
    Object.assign(world.agent, { interHost: 'Tunnel', intraHost: 'Legacy', masqMode: 'iptables' });
    // when
    const run = await runCheck();
    // then
    const agent = run.result_of('agent/agent-status');
    expect(agent.status).toBe('failed');
    expect(agent.expectations.filter((e) => !e.met).map((e) => e.id)).toEqual(['routing-as-configured', 'host-routing-as-configured', 'masquerading-as-configured']);
    expect(agent.reason).toMatch(/routing-as-configured: k8s-s: Tunnel, k8s-w1: Tunnel, k8s-w2: Tunnel \(want Native: cilium-config routing-mode=native\)/);
  });

  it('fails XDP only when cilium-config asks for native acceleration', async () => {
    // given agents without XDP
    world.agent.acceleration = 'None';
    // when
    const asked = await runCheck();
    const config = world.api.configMap('kube-system', 'cilium-config') as { data: Record<string, string> };
    world.api.addConfigMap('kube-system', 'cilium-config', { ...config.data, 'bpf-lb-acceleration': 'disabled' });
    const notAsked = await runCheck();
    // then
    expect(asked.result_of('agent/agent-status').reason).toMatch(/xdp-acceleration-as-configured: .*None \(want Native: cilium-config bpf-lb-acceleration=native\)/);
    expect(notAsked.result_of('agent/agent-status').status).toBe('passed');
    expect(notAsked.result_of('agent/agent-status').expectations.map((e) => e.id)).not.toContain('xdp-acceleration-as-configured');
  });

  it('holds best-effort acceleration to the agent API\'s own spelling, Best-Effort', async () => {
    // given
    const config = world.api.configMap('kube-system', 'cilium-config') as { data: Record<string, string> };
    world.api.addConfigMap('kube-system', 'cilium-config', { ...config.data, 'bpf-lb-acceleration': 'best-effort' });
    world.agent.acceleration = 'Best-Effort';
    // when
    const run = await runCheck();
    // then
    const xdp = run.result_of('agent/agent-status').expectations.find((e) => e.id === 'xdp-acceleration-as-configured');
    expect(xdp).toMatchObject({ met: true, detail: expect.stringMatching(/^Best-Effort on 3 agent\(s\), as cilium-config bpf-lb-acceleration=best-effort/) });
  });

  it('fails pod-to-clusterip when one backend never answers through the service, naming it', async () => {
    // given the service reaches only webpod1
    world.serviceBackends = ['webpod1'];
    // when
    const run = await runCheck();
    // then
    expect(run.code).toBe(1);
    const svc = run.result_of('datapath/pod-to-clusterip');
    expect(svc.status).toBe('failed');
    expect(svc.reason).toMatch(/clusterip-both-backends: answers from webpod1 x20; never answered: webpod2 \(172\.16\.2\.\d+ on k8s-w2\)/);
    expect(svc.expectations.find((e) => e.id === 'clusterip-every-request-answered')?.met).toBe(true);
    expect(svc.evidence.output).toMatch(/=== request 20/);
    expect(run.result_of('datapath/pod-to-pod').status).toBe('passed');
    expect(world.api.hasNamespace(NS)).toBe(false);
  });

  it('fails pod-to-clusterip and pod-to-pod when a backend times out, with curl\'s error', async () => {
    // given
    world.unreachablePods.add('webpod2');
    // when
    const run = await runCheck();
    // then
    expect(run.result_of('datapath/pod-to-clusterip').reason).toMatch(/10\/20 requests .* answered, 10 failed \(e\.g\. curl exit 28: curl: \(28\) Connection timed out/);
    expect(run.result_of('datapath/pod-to-pod').reason).toMatch(/webpod2 \(172\.16\.2\.\d+ on k8s-w2\): attempt 1: http:\/\/172\.16\.2\.\d+\/: curl exit 28: .*; attempt 3: http:\/\/172\.16\.2\.\d+\/: curl exit 28/);
  });

  it('passes a pod-to-pod curl that blinked once, showing the failed attempt, and does not retry an HTTP error', async () => {
    // given webpod1 times out once (a network blink), then answers
    world.blinks.set('webpod1', 1);
    // when
    const run = await runCheck();
    // then
    const pod = run.result_of('datapath/pod-to-pod');
    expect(pod.status).toBe('passed');
    expect(pod.reason).toMatch(/webpod1 \(172\.16\.1\.\d+ on k8s-w1\) \[answered on attempt 2 of 3, after attempt 1: http:\/\/172\.16\.1\.\d+\/: curl exit 28: curl: \(28\) Connection timed out/);
    expect(pod.evidence.output.match(/curl -sS --fail --max-time 5 http:\/\/172\.16\.1\./g)).toHaveLength(2);
  });

  it('retries an exec that lost its connection once, and reports a second loss as a transport error, not a datapath failure', async () => {
    // given: the first exec into netpod breaks (no exit status), then every exec of webpod1's curl breaks
    world.execTransportFailures.set('netpod', 1);
    // when
    const once = await runCheck();
    // then: retried, passed, both attempts in the evidence
    expect(once.result_of('datapath/pod-to-pod').status).toBe('passed');
    expect(once.result_of('datapath/pod-to-pod').evidence.output).toMatch(/\(attempt 1 of 2: exec transport error, retried\)/);
    // given: it breaks twice
    world.execTransportFailures.set('netpod', 2);
    const twice = await runCheck();
    const pod = twice.result_of('datapath/pod-to-pod');
    expect(pod.status).toBe('failed');
    expect(pod.reason).toMatch(/webpod1 .*: not run \(exec transport error, twice \(.*\); the command's own result is unknown\)/);
    expect(pod.reason).not.toMatch(/curl exit/);
  });

  it('fails peer-sees-source-as-configured when the backends see the node IP (SNAT) where cilium-config says they must not', async () => {
    // given a datapath that masquerades whatever the config says
    world.snat = true;
    // when
    const run = await runCheck();
    // then
    const pod = run.result_of('datapath/pod-to-pod');
    expect(pod.status).toBe('failed');
    expect(pod.expectations).toContainEqual(
      expect.objectContaining({ id: 'peer-sees-source-as-configured', met: false, detail: expect.stringMatching(/webpod1 saw 192\.168\.10\.10, want 172\.16\.0\.\d+ \(cilium-config .*is inside the native routing CIDR, not masqueraded\)/) }),
    );
    expect(pod.expectations).toContainEqual(expect.objectContaining({ id: 'pod-reaches-pod-across-nodes', met: true }));
  });

  it('fails peer-sees-source-as-configured when cilium-config says SNAT and the backends see the pod IP', async () => {
    // given: the study's native routing CIDR (the VPC) leaves the pod CIDR outside, so Cilium
    // must masquerade pod-to-pod traffic; a datapath that does not is wrong
    const config = world.api.configMap('kube-system', 'cilium-config') as { data: Record<string, string> };
    world.api.addConfigMap('kube-system', 'cilium-config', { ...config.data, 'ipv4-native-routing-cidr': '192.168.0.0/16' });
    world.neverSnat = true;
    // when
    const run = await runCheck();
    // then
    const pod = run.result_of('datapath/pod-to-pod');
    expect(pod.expectations).toContainEqual(
      expect.objectContaining({ id: 'peer-sees-source-as-configured', met: false, detail: expect.stringMatching(/webpod1 saw 172\.16\.0\.\d+, want 192\.168\.10\.10 \(cilium-config .*ipv4-native-routing-cidr=192\.168\.0\.0\/16.*outside the native routing CIDR, SNATed to the node\)/) }),
    );
  });

  it('proves HostPort in eBPF: from another node and its own, the agent feature, the service table entry, no CNI-HOSTPORT rules', async () => {
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/hostport');
    expect(r.status).toBe('passed');
    const detail = Object.fromEntries(r.expectations.map((e) => [e.id, e.detail]));
    expect(detail['hostport-reachable']).toMatch(/^netpod \(on k8s-s\) -> http:\/\/192\.168\.10\.101:8080\/: answered by hostport$/);
    expect(detail['hostport-same-node']).toMatch(/^hostclient \(on k8s-w1\) -> http:\/\/192\.168\.10\.101:8080\/: answered by hostport$/);
    expect(detail['hostport-agent-enabled']).toMatch(/on k8s-w1: HostPort enabled$/);
    expect(detail['hostport-service-entry']).toMatch(/^HostPort frontends 192\.168\.10\.101:8080 \(1 backend\(s\)\), 0\.0\.0\.0:8080 \(1 backend\(s\)\)$/);
    expect(detail['no-cni-hostport-iptables-rules']).toBe('k8s-w1: 0 CNI-HOSTPORT rule(s)');
  });

  it('fails hostport on each sign of the portmap era: no same-node hairpin, no service entry, CNI-HOSTPORT rules, the agent feature off', async () => {
    // given
    world.hostPortSameNodeBroken = true;
    world.hostPortMissingFromServiceTable = true;
    world.cniHostportRules.set('k8s-w1', 3);
    world.agent.hostPort = false;
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/hostport');
    expect(r.status).toBe('failed');
    expect(r.expectations.filter((e) => !e.met).map((e) => e.id)).toEqual(['hostport-same-node', 'hostport-agent-enabled', 'hostport-service-entry', 'no-cni-hostport-iptables-rules']);
    expect(r.reason).toMatch(/hostport-same-node: hostclient \(on k8s-w1\) -> attempt 1: http:\/\/192\.168\.10\.101:8080\/: curl exit 28/);
    expect(r.reason).toMatch(/no-cni-hostport-iptables-rules: k8s-w1: 3 CNI-HOSTPORT rule\(s\)/);
  });

  it('fails xdp-attached-driver-mode when a node runs XDP in generic mode (the driver refused native XDP), naming it', async () => {
    // given
    (world.nic.get('k8s-w2') as { xdp?: string }).xdp = 'generic';
    // when
    const run = await runCheck();
    // then
    const nic = run.result_of('hosts/nic-tuning');
    expect(nic.status).toBe('failed');
    expect(nic.reason).toBe('xdp-attached-driver-mode: k8s-w2 ens5: XDP generic, want driver mode (cilium-config bpf-lb-acceleration=native)');
  });

  it('fails no-kube-proxy when kube-proxy\'s DaemonSet and ConfigMap are there', async () => {
    // given
    world.addKubeProxy();
    // when
    const run = await runCheck();
    // then
    expect(run.code).toBe(1);
    const r = run.result_of('cluster/no-kube-proxy');
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/no-kube-proxy-daemonset: kube-proxy DaemonSet present \(daemonset kube-system\/kube-proxy: 3\/3 ready/);
    expect(r.reason).toMatch(/no-kube-proxy-configmap: kube-proxy ConfigMap present/);
  });

  it('fails no-kube-svc-rules naming the node that has KUBE-SVC chains', async () => {
    // given
    world.kubeSvcRules.set('k8s-w2', 4);
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('hosts/no-kube-svc-rules');
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('no-kube-svc-iptables-rules: k8s-w2: 1 KUBE-SVC chain(s), 4 rule(s)');
    expect(r.evidence.output).toMatch(/ssm k8s-w2 \(i-0\d+\): iptables-save \| grep KUBE-SVC\nSuccess, exit 0\niptables-save: :KUBE-SVC-/);
  });

  it('fails nic-tuning when a DHCP renewal put the MTU back to 9001', async () => {
    // given
    world.nic.set('k8s-w1', { mtu: 9001, wantMtu: 3498, channels: 2, wantChannels: 2 });
    // when
    const run = await runCheck();
    // then
    expect(run.result_of('hosts/nic-tuning').reason).toBe('mtu-as-tuned: k8s-w1: MTU 9001, tuned to 3498');
  });

  it('fails cilium-agents-ready and nodes-ready when a node has no working agent', async () => {
    // given
    world.api.addDaemonSet('kube-system', 'cilium', { desired: 3, ready: 2 }, { 'k8s-app': 'cilium' });
    world.api.addNode({ name: 'k8s-w2', internalIp: '192.168.10.102', podCidr: '172.16.2.0/24', ready: false });
    // when
    const run = await runCheck();
    // then
    expect(run.result_of('cluster/cilium-agents-ready').reason).toMatch(/cilium-daemonset-ready: desired 3, ready 2, nodes in the lab 3/);
    expect(run.result_of('cluster/nodes-ready').reason).toMatch(/k8s-w2 is NotReady \(False, KubeletNotReady: container runtime network not ready/);
  });

  it('fails hubble-ui when its Service does not answer with the page', async () => {
    // given
    world.hubbleUiServes = false;
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/hubble-ui');
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/^hubble-ui-answers: attempt 1: http:\/\/hubble-ui\.kube-system\.svc\.cluster\.local:80\/: curl exit 7: .*; attempt 3: /);
  });

  it('fails hubble-flows when the relay returns no flow of netpod, after waiting', async () => {
    // given flows of other pods only
    world.hubbleSeesTraffic = false;
    world.hubbleExtraFlows.push(
      hubbleFlowLine({ ns: 'kube-system', pod: 'coredns-7db6d8ff4d-abcde', ip: '172.16.1.5', node: 'k8s-w1' }, { ns: 'kube-system', pod: 'hubble-relay-5c8b9d7f4-xyz12', ip: '172.16.2.7' }),
    );
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/hubble-flows');
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/no FORWARDED flow from cilium-lab-check\/netpod within 0\.3 s; last seen: cilium-lab-check\/webpod1: 1 flow\(s\), none FORWARDED from cilium-lab-check\/netpod/);
    expect(r.evidence.command).toMatch(/hubble observe --server 10\.10\.200\.50:80 --from-pod cilium-lab-check\/netpod --to-pod cilium-lab-check\/webpod1 --verdict FORWARDED --since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ --last 200 -o json/);
  });

  it('fails hubble-flows naming the peer without a FORWARDED flow (the hostport pod never answered)', async () => {
    // given
    world.unreachablePods.add('hostport');
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/hubble-flows');
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/hubble-forwarded-to-each-peer: no FORWARDED flow from cilium-lab-check\/netpod .*cilium-lab-check\/hostport: 0 flow\(s\)/);
    expect(r.reason).toMatch(/seen: cilium-lab-check\/webpod1 \d+, cilium-lab-check\/webpod2 \d+, cilium-lab-check\/hostport 0/);
  });

  it('ignores a drop from before this run (an earlier run\'s, still in Hubble\'s buffer)', async () => {
    // given a drop an hour old
    world.hubbleDrops.push({ from: 'netpod', to: 'webpod2', reason: 'POLICY_DENIED', at: Date.now() - 3_600_000 });
    // when
    const run = await runCheck();
    // then
    expect(run.result_of('datapath/hubble-flows').status).toBe('passed');
  });

  it("reads Hubble from the namespace's creation on the cluster's clock, so a machine running ahead hides no drop", async () => {
    // given: the cluster's clocks 10 minutes behind this machine's, and a drop just now (node time)
    world.api.clockOffsetMs = -600_000;
    world.hubbleDrops.push({ from: 'netpod', to: 'webpod2', reason: 'POLICY_DENIED' });
    // when
    const run = await runCheck();
    // then: --since is the namespace's creationTimestamp, and the drop is seen
    const r = run.result_of('datapath/hubble-flows');
    expect(r.status).toBe('failed');
    expect(r.reason).toContain('(POLICY_DENIED)');
    const since = /--since (\S+)/.exec(r.evidence.command ?? '')?.[1] as string;
    expect(Date.now() - Date.parse(since)).toBeGreaterThan(590_000);
  });

  it('fails hubble-flows on a DROPPED flow of netpod, showing the drop reason', async () => {
    // given: Hubble saw a packet of netpod dropped by policy
    world.hubbleDrops.push({ from: 'netpod', to: 'webpod2', reason: 'POLICY_DENIED' });
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/hubble-flows');
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('hubble-no-dropped-flows-of-netpod: 1 DROPPED flow(s) of cilium-lab-check/netpod: cilium-lab-check/netpod -> cilium-lab-check/webpod2 (POLICY_DENIED)');
    expect(r.evidence.command).toMatch(/hubble observe --server 10\.10\.200\.50:80 --pod cilium-lab-check\/netpod --verdict DROPPED --since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ --last 200 -o json/);
  });

  it('passes nodeport-from-testpc only with every node answering (Cluster) and only backend nodes answering (Local)', async () => {
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/nodeport-from-testpc');
    expect(r.status).toBe('passed');
    const met = Object.fromEntries(r.expectations.map((e) => [e.id, e.detail]));
    expect(met['nodeport-every-node-answers']).toBe('port 30080: k8s-s 2x webpod1, 2x webpod2; k8s-w1 2x webpod1, 2x webpod2; k8s-w2 2x webpod1, 2x webpod2');
    expect(met['nodeport-both-backends']).toBe('answered by webpod1, webpod2');
    expect(met['nodeport-local-only-backend-nodes']).toBe('port 30081: k8s-s 4x curl exit 28: curl: (28) Connection timed out after 3002 milliseconds; k8s-w1 4x webpod1; k8s-w2 4x webpod2');
    const call = world.remote.calls.find((c) => c.script.includes('CILIUM_LAB_NODEPORT'));
    expect(call?.targets).toEqual(['testpc']);
    expect(call?.script).toContain("LAB_PROBE_TARGETS='k8s-s=192.168.10.10 k8s-w1=192.168.10.101 k8s-w2=192.168.10.102'");
    expect(call?.script).toContain("LAB_PROBE_PORTS='webpod-nodeport=30080 webpod-local=30081'");
  });

  it('holds NodePort load balancing to XDP: each node forwards in XDP (XDP_TX) at least the requests it sends to another node, where the driver counts them', async () => {
    // when
    const healthy = await runCheck();
    // then: k8s-s runs no webpod (4 requests sent on), each worker sends on the 2 the other worker's webpod answers
    const moved = healthy.result_of('datapath/nodeport-from-testpc').expectations.find((e) => e.id === 'xdp-counters-move');
    expect(moved).toMatchObject({ met: true, detail: 'k8s-s: +20 for 4 request(s) sent to another node, k8s-w1: +10 for 2 request(s) sent to another node, k8s-w2: +10 for 2 request(s) sent to another node' });
    // given XDP attached but the stack doing the load balancing
    world.xdpForwarded.clear();
    world.xdpBypassed = true;
    const bypassed = await runCheck();
    expect(bypassed.result_of('datapath/nodeport-from-testpc').reason).toBe(
      'xdp-counters-move: k8s-s: +0 for 4 request(s) sent to another node (too few: not load-balanced in XDP), k8s-w1: +0 for 2 request(s) sent to another node (too few: not load-balanced in XDP), k8s-w2: +0 for 2 request(s) sent to another node (too few: not load-balanced in XDP)',
    );
    // given a driver without XDP counters: nothing to hold it to
    world.xdpCountersExposed = false;
    const silent = await runCheck();
    expect(silent.result_of('datapath/nodeport-from-testpc').expectations.map((e) => e.id)).not.toContain('xdp-counters-move');
  });

  it('fails nodeport-from-testpc naming the node whose NodePort does not answer', async () => {
    // given
    world.nodePortDown.add('k8s-w2');
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/nodeport-from-testpc');
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/nodeport-every-node-answers: port 30080: .*k8s-w2 4x curl exit 28: .* \(want 4x a webpod from each node\)/);
    expect(r.reason).toMatch(/nodeport-local-only-backend-nodes: port 30081: k8s-w2 4x curl exit 28.* \(want only webpod2\)/);
  });

  it('fails nodeport-from-testpc when a node without a backend answers a Local NodePort', async () => {
    // given
    world.nodePortIgnoresLocal = true;
    // when
    const run = await runCheck();
    // then
    const r = run.result_of('datapath/nodeport-from-testpc');
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/nodeport-local-only-backend-nodes: port 30081: k8s-s 2x webpod1, 2x webpod2 \(runs no webpod: want no answer\); k8s-w1 2x webpod1, 2x webpod2 \(want only webpod1\)/);
  });

  it('fails egress-masqueraded when the internet sees another address than the control plane\'s', async () => {
    // given
    world.egressIp = '198.51.100.7';
    // when
    const run = await runCheck();
    // then
    expect(run.result_of('datapath/pod-to-internet').reason).toBe(`egress-masqueraded: seen as 198.51.100.7, not the control plane's public IP ${PUBLIC_IP}`);
  });
});

describe('lab check skips what it cannot run, and says why', () => {
  it('skips pod-to-internet with --no-internet and marks it skipped in JUnit', async () => {
    // given
    const junit = join(stateDir, 'junit.xml');
    // when
    const run = await runCheck(['--no-internet', '--junit', junit]);
    // then
    expect(run.code).toBe(0);
    expect(run.result_of('datapath/pod-to-internet')).toMatchObject({ status: 'skipped', reason: '--no-internet: internet egress is not tested' });
    expect(world.api.execCalls.some((c) => c.command.some((w) => w.includes('checkip')))).toBe(false);
    const root = parseXml(readFileSync(junit, 'utf8'));
    const skipped = findAll(root, 'testcase').filter((t) => t.children.some((c) => c.name === 'skipped'));
    expect(skipped.map((t) => t.attributes.name)).toEqual(['pod-to-internet']);
    expect(skipped[0]?.children.find((c) => c.name === 'skipped')?.attributes.message).toBe('--no-internet: internet egress is not tested');
    expect(root.attributes.skipped).toBe('1');
  });

  it('skips nic-tuning when no node was tuned and cilium-config asks for no XDP, but still checks XDP when it does', async () => {
    // given untuned nodes
    for (const node of ['k8s-s', 'k8s-w1', 'k8s-w2']) world.nic.set(node, { mtu: 9001, wantMtu: null, channels: 4, wantChannels: null });
    // when: native XDP asked for
    const withXdp = await runCheck();
    // then XDP is still checked (and attached)
    expect(withXdp.result_of('hosts/nic-tuning')).toMatchObject({ status: 'passed', reason: expect.stringMatching(/XDP program 1234 in driver mode/) });
    // when: no acceleration
    const config = world.api.configMap('kube-system', 'cilium-config') as { data: Record<string, string> };
    world.api.addConfigMap('kube-system', 'cilium-config', { ...config.data, 'bpf-lb-acceleration': 'disabled' });
    const run = await runCheck();
    // then
    expect(run.result_of('hosts/nic-tuning')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^no node was tuned/) });
    expect(run.code).toBe(0);
  });
});

describe('lab check JUnit on a failing run', () => {
  it('has a failure element with the reason and the evidence, escaped, for each failed scenario', async () => {
    // given two failures, one with XML-hostile output
    world.addKubeProxy();
    world.agentExecFailure.set('k8s-s', { exitCode: 2, stderr: 'level=fatal msg="<bad> & \'worse\' ]]> \u0001"\n' });
    const junit = join(stateDir, 'junit.xml');
    // when
    const run = await runCheck(['--junit', junit]);
    // then
    const text = readFileSync(junit, 'utf8');
    const root = parseXml(text);
    const cases = findAll(root, 'testcase');
    expect(cases).toHaveLength(run.report.results.length);
    const failed = cases.filter((t) => t.children.some((c) => c.name === 'failure'));
    expect(failed.map((t) => `${t.attributes.classname}/${t.attributes.name}`)).toEqual(['cilium-lab.cluster/no-kube-proxy', 'cilium-lab.agent/agent-status']);
    const failure = failed[1]?.children.find((c) => c.name === 'failure');
    expect(failure?.attributes.message).toMatch(/k8s-s: exit 2/);
    expect(failure?.text).toContain('level=fatal msg="<bad> & \'worse\' ]]> "');
    expect(root.attributes).toMatchObject({ failures: '2', tests: String(cases.length) });
  });
});

describe('lab check JUnit when the run fails before its scenarios', () => {
  it('writes one error testcase with the stage and the reason (the kubeconfig could not be fetched)', async () => {
    rmSync(join(stateDir, plan.config.labName, 'kubeconfig'));
    world.adminConf = join(stateDir, 'no-such-admin.conf');
    const junit = join(stateDir, 'reports', 'junit.xml');
    const code = await runCli(['check', '--junit', junit], {
      commands: [checkCommand({ signals: new EventEmitter() })],
      createServices: () => ({ stackOutputs: async () => stackOutputs(), remote: world.remote }) as unknown as LabServices,
      out: () => ({ info: () => undefined, result: () => undefined }),
    });
    expect(code).toBe(1);
    const root = parseXml(readFileSync(junit, 'utf8'));
    expect(root.attributes).toMatchObject({ tests: '1', errors: '1', failures: '0' });
    const cases = findAll(root, 'testcase');
    expect(cases.map((c) => `${c.attributes.classname}/${c.attributes.name}`)).toEqual(['cilium-lab.setup/kubeconfig']);
    expect(cases[0]?.children.find((c) => c.name === 'error')?.text).toContain('admin.conf');
  });

  it('writes one error testcase when the lab is not there at all', async () => {
    const junit = join(stateDir, 'junit-nolab.xml');
    const code = await runCli(['check', '--junit', junit], {
      commands: [checkCommand({ signals: new EventEmitter() })],
      createServices: () =>
        ({
          stackOutputs: async () => {
            throw new Error('there is no stack cilium-lab in ap-northeast-2');
          },
          remote: world.remote,
        }) as unknown as LabServices,
      out: () => ({ info: () => undefined, result: () => undefined }),
    });
    expect(code).toBe(1);
    const cases = findAll(parseXml(readFileSync(junit, 'utf8')), 'testcase');
    expect(cases.map((c) => c.attributes.name)).toEqual(['find the lab']);
  });
});

describe('lab check on Ctrl-C and SIGTERM', () => {
  it('stops at the first SIGINT, skips what is left, removes the namespace and exits 130', async () => {
    // given a SIGINT during the first curl from netpod
    const signals = new EventEmitter();
    let sent = false;
    world.onExec = (call) => {
      if (!sent && call.pod === 'netpod') {
        sent = true;
        signals.emit('SIGINT');
      }
    };
    // when
    const run = await runCheck([], { signals });
    // then
    expect(run.code).toBe(130);
    expect(run.result).toMatch(/lab check failed: interrupted by SIGINT/);
    expect(run.result_of('datapath/pod-to-pod')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^interrupted while running \(pod-reaches-pod-across-nodes not proven\)/) });
    expect(run.result_of('datapath/pod-to-clusterip')).toMatchObject({ status: 'skipped', reason: 'not run: interrupted' });
    expect(run.result_of('cluster/nodes-ready').status).toBe('passed');
    expect(run.result_of('datapath/hubble-flows').status).toBe('skipped');
    expect(world.api.deletedNamespaces).toEqual([NS]);
    expect(world.api.hasNamespace(NS)).toBe(false);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });

  it('on SIGTERM mid-scenario cancels the remote command it was waiting for, removes the namespace and exits 143', async () => {
    // given a SIGTERM while testpc runs the NodePort probe (a CI job's timeout)
    const signals = new EventEmitter();
    world.remote.onRun = (targets) => {
      if (targets.includes('testpc')) signals.emit('SIGTERM');
    };
    // when
    const run = await runCheck([], { signals });
    // then
    expect(run.code).toBe(143);
    expect(run.result).toMatch(/lab check failed: interrupted by SIGTERM after \d+ scenario\(s\)/);
    expect(world.remote.cancelled).toEqual([['testpc']]);
    expect(run.result_of('datapath/nodeport-from-testpc')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^interrupted: cilium-lab: interrupted \(SIGTERM\): SSM command\(s\) cmd-0001 cancelled/) });
    expect(run.result_of('datapath/hubble-flows')).toMatchObject({ status: 'skipped', reason: 'not run: interrupted' });
    expect(world.api.deletedNamespaces).toEqual([NS]);
    expect(world.api.hasNamespace(NS)).toBe(false);
    expect([signals.listenerCount('SIGINT'), signals.listenerCount('SIGTERM')]).toEqual([0, 0]);
  });

  it('keeps cleaning up when SIGTERM follows SIGINT (a cancelled GitHub job), and exits 130', async () => {
    // given SIGINT then SIGTERM during the first curl from netpod
    const signals = new EventEmitter();
    let exits = 0;
    let sent = false;
    world.onExec = (call) => {
      if (!sent && call.pod === 'netpod') {
        sent = true;
        signals.emit('SIGINT');
        signals.emit('SIGTERM');
      }
    };
    // when
    const run = await runCheck([], { signals, exitNow: () => (exits += 1) });
    // then
    expect([exits, run.code]).toEqual([0, 130]);
    expect(run.info.join('\n')).toContain('SIGTERM during the clean-up: still removing the test namespace');
    expect(world.api.hasNamespace(NS)).toBe(false);
  });

  it('exits at once on a second SIGINT', async () => {
    // given
    const signals = new EventEmitter();
    let exits = 0;
    const exitNow = () => {
      exits += 1;
    };
    let sent = false;
    world.onExec = () => {
      if (sent) return;
      sent = true;
      signals.emit('SIGINT');
      signals.emit('SIGINT');
    };
    // when
    await runCheck([], { signals, exitNow });
    // then
    expect(exits).toBe(1);
  });
});

describe('lab check --upstream', () => {
  it('runs cilium connectivity test on the control plane and writes its JUnit next to ours', async () => {
    // given
    const junit = join(stateDir, 'junit.xml');
    // when
    const run = await runCheck(['--upstream', '--no-internet', '--junit', junit]);
    // then
    expect(run.code).toBe(0);
    const r = run.result_of('upstream/cilium-connectivity-test');
    expect(r.status).toBe('passed');
    const upstreamJunit = join(stateDir, 'junit.cilium-connectivity.xml');
    expect(r.reason).toBe(`cilium connectivity test exit 0; JUnit ${upstreamJunit} (3 tests, 0 failures)`);
    expect(parseXml(readFileSync(upstreamJunit, 'utf8')).name).toBe('testsuites');
    const call = world.remote.calls.find((c) => c.script.includes('CILIUM_LAB_UPSTREAM'));
    expect(call?.targets).toEqual(['k8s-s']);
    expect(call?.script).toContain("LAB_TEST_FILTER='!pod-to-world,!pod-to-cidr,!to-fqdns'");
    expect(call?.script).toContain("LAB_TEST_MINUTES='17'");
    expect(call?.script).toContain("LAB_TEST_NAMESPACE='cilium-lab-upstream'");
    expect(call?.script).toMatch(/--log-check-levels error/);
    expect(call?.script).not.toMatch(/^LAB_SYSDUMP_UPLOAD_URL=/m);
    expect(call?.options.timeoutMs).toBe(20 * 60_000);
  });

  it('reports a run its timeout stopped as a timeout', async () => {
    // given
    world.upstream = { exitCode: 124, timedOut: true };
    // when
    const run = await runCheck(['--upstream']);
    // then
    expect(run.result_of('upstream/cilium-connectivity-test').reason).toBe('cilium-connectivity-test-passed: timed out: cilium connectivity test did not end within 17 min (+1 min grace; exit 124); no JUnit file');
  });

  it('brings the sysdump of a failed run back through the artifacts bucket, beside the JUnit file, and empties the bucket', async () => {
    // given a failing suite, and a lab with an artifacts bucket (an in-memory store the world's node uploads to)
    world.upstream = { exitCode: 1, sysdump: true };
    const objects = new Map<string, string>();
    const artifacts: ArtifactStore = {
      uploadUrl: async (bucket, key) => {
        objects.set(`https://${bucket}.s3.example/${key}?X-Amz-Signature=abc`, key);
        return `https://${bucket}.s3.example/${key}?X-Amz-Signature=abc`;
      },
      list: async () => [],
      download: async (_bucket, key, path) => {
        const url = [...objects].find(([, k]) => k === key)?.[0] as string;
        const body = world.uploads.get(url);
        if (!body) throw new Error(`no object ${key}`);
        writeFileSync(path, body);
        return body.length;
      },
      remove: async (_bucket, keys) => {
        for (const k of keys) for (const [url, key] of objects) if (key === k) objects.delete(url);
      },
    };
    const junit = join(stateDir, 'reports', 'junit.xml');
    // when
    const run = await runCheck(['--upstream', '--junit', junit], {}, { artifacts, bucket: 'cilium-lab-cilium-lab-000000000000-ap-northeast-2' });
    // then
    const r = run.result_of('upstream/cilium-connectivity-test');
    const sysdump = join(stateDir, 'reports', 'cilium-connectivity-sysdump.zip');
    expect(r.reason).toMatch(new RegExp(`cilium connectivity test exit 1; no JUnit file; sysdump ${sysdump.replace(/[.]/g, '\\.')} \\(\\d+ bytes\\)`));
    expect(readFileSync(sysdump, 'utf8')).toContain('a cilium sysdump');
    expect(objects.size).toBe(0);
    const call = world.remote.calls.find((c) => c.script.includes('CILIUM_LAB_UPSTREAM'));
    expect(call?.script).toMatch(/^LAB_SYSDUMP_UPLOAD_URL='https:\/\/cilium-lab-cilium-lab-000000000000-ap-northeast-2\.s3\.example\/logs\/[^/]+\/k8s-s\/cilium-connectivity-sysdump\.zip\?X-Amz-Signature=abc'$/m);
  });

  it('fails when the upstream suite fails', async () => {
    // given
    world.upstream = { exitCode: 1 };
    // when
    const run = await runCheck(['--upstream']);
    // then
    expect(run.code).toBe(1);
    expect(run.result_of('upstream/cilium-connectivity-test').reason).toBe('cilium-connectivity-test-passed: cilium connectivity test exit 1; no JUnit file');
    // without an artifacts bucket the sysdump stays on the node, and the result says where
    world.upstream = { exitCode: 1, sysdump: true };
    const kept = await runCheck(['--upstream']);
    expect(kept.result_of('upstream/cilium-connectivity-test').reason).toMatch(/; sysdump kept at \/var\/tmp\/cilium-lab-connectivity\/cilium-sysdump-\d+-\d+\.zip$/);
  });
});

describe('lab check without a kubeconfig', () => {
  const opensslSkip = spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed';

  (opensslSkip === undefined ? it : it.skip)('fetches the lab\'s kubeconfig first (a fresh machine, like the nightly runner), then checks with it', async () => {
    // given: no state on this machine; the control plane holds kubeadm's admin.conf
    const labDir = join(stateDir, plan.config.labName);
    const served = readFileSync(join(labDir, 'kubeconfig'), 'utf8');
    rmSync(join(labDir, 'kubeconfig'));
    world.adminConf = join(stateDir, 'admin.conf');
    writeFileSync(world.adminConf, served, { mode: 0o600 });
    const used: { path: string; context: string; server: string; mode: number }[] = [];
    // when
    const run = await runCheck([], {
      createKube: (path, context) => {
        const written = parseYaml(readFileSync(path, 'utf8')) as Record<string, any>;
        used.push({ path, context, server: written['clusters'][0].cluster.server, mode: statSync(path).mode & 0o777 });
        // The fetched file points at the Elastic IP (unreachable here): talk to the fake API as it serves.
        const loopback = join(stateDir, 'loopback.kubeconfig');
        writeFileSync(loopback, served);
        return createKubeClient(loopback, {});
      },
    });
    // then
    expect(run.code).toBe(0);
    expect(world.kubeconfigExports).toBe(1);
    expect(used).toEqual([{ path: join(labDir, 'kubeconfig'), context: 'CiliumLab', server: `https://${PUBLIC_IP}:6443`, mode: 0o600 }]);
    expect(run.info.join('\n')).toMatch(/kubeconfig.*fetched to .*cilium-lab\/kubeconfig/);
  });

  it('refuses a --kubeconfig that does not exist, naming it, without fetching', async () => {
    const results: string[] = [];
    const code = await runCli(['check', '--kubeconfig', join(stateDir, 'nope.yaml')], {
      commands: [checkCommand({ signals: new EventEmitter() })],
      createServices: () => ({ stackOutputs: async () => stackOutputs(), remote: world.remote }) as unknown as LabServices,
      out: () => ({ info: () => undefined, result: (t) => results.push(t) }),
    });
    expect(code).toBe(2);
    expect(world.kubeconfigExports).toBe(0);
    expect(results.join('\n')).toMatch(/--kubeconfig .*nope\.yaml: no such file/);
  });
});

describe('lab check --suite policy: the network policy exercise (exercises/policy/ applied step by step)', () => {
  it('proves each step from both ends (the client\'s result and Hubble\'s verdict), shows both identities, and deletes the namespace and its policies', async () => {
    // when
    const run = await runCheck(['--suite', 'policy']);
    // then
    expect(run.report.results.map((r) => `${r.check}/${r.scenario}:${r.status}${r.status === 'failed' ? ` ${r.reason}` : ''}`)).toEqual([
      'policy/l3-identity:passed',
      'policy/l4-port:passed',
      'policy/l7-http:passed',
      'policy/dns-fqdn:passed',
      'policy/dns-search-path:passed',
      'policy/policies-removed:passed',
    ]);
    const detail = (scenario: string, id: string) => run.result_of(`policy/${scenario}`).expectations.find((e) => e.id === id)?.detail;
    expect(detail('l3-identity', 'policy-l3-other-dropped')).toBe('client-other: curl exit 28 (timed out: dropped); Hubble: 1 DROPPED flow(s) (POLICY_DENIED)');
    expect(detail('l3-identity', 'policy-l3-relabel-changes-identity')).toMatch(/^client-other identity (\d+) -> (?!\1)\d+ with access=granted \(client-granted's: \d+\): HTTP 200 "Hostname: web"; label removed again$/);
    expect(detail('l4-port', 'policy-l4-port-80-only')).toBe('port 8080: curl exit 28 (timed out: dropped); Hubble: 1 DROPPED flow(s) (POLICY_DENIED); port 80: HTTP 200 "Hostname: web"');
    expect(detail('l7-http', 'policy-l7-other-403')).toBe('GET /forbidden: HTTP 403 "Access denied"; Hubble: 1 L7 DROPPED flow(s)');
    expect(detail('dns-fqdn', 'policy-dns-other-name-dropped')).toBe('example.com: curl exit 28 (timed out: dropped)');
    expect(detail('dns-search-path', 'policy-dns-narrow-rule-breaks-search')).toBe('checkip.amazonaws.com: curl exit 6 (could not resolve)');
    expect(detail('dns-search-path', 'policy-dns-full-name-resolves')).toBe('checkip.amazonaws.com.: HTTP 200 "203.0.113.10"');
    expect(run.code).toBe(0);
    expect(world.api.hasNamespace('cilium-lab-policy')).toBe(false);
    expect([...world.api.ciliumNetworkPolicies.keys()]).toEqual([]);
  });

  it('judges each step under its own policy when the agents take a while to enforce it (the first answers come from the policy before)', async () => {
    // given: every change of policies takes 3 requests to be in force
    world.policyLagRequests = 3;
    // when
    const run = await runCheck(['--suite', 'policy']);
    // then
    expect(run.report.results.map((r) => `${r.scenario}:${r.status}${r.status === 'failed' ? ` ${r.reason}` : ''}`)).toEqual(['l3-identity:passed', 'l4-port:passed', 'l7-http:passed', 'dns-fqdn:passed', 'dns-search-path:passed', 'policies-removed:passed']);
    // and every allowed case was answered under its own step's policy, not the one before
    const details = run.report.results.flatMap((r) => r.expectations.map((e) => e.detail));
    expect(details.filter((d) => d.includes('(stale policy)'))).toEqual([]);
  });

  it('fails the L7 step when Hubble shows no L7 drop, even with the earlier steps\' L4 drops in its buffer', async () => {
    // given: the proxy answers 403, but no L7 flow reaches Hubble
    const push = world.hubbleDrops.push.bind(world.hubbleDrops);
    world.hubbleDrops.push = (...items) => push(...items.filter((d) => !d.l7));
    // when
    const run = await runCheck(['--suite', 'policy', '--no-internet']);
    // then
    expect(run.result_of('policy/l7-http').reason).toMatch(/^policy-l7-other-403: GET \/forbidden: HTTP 403 "Access denied"; Hubble: no DROPPED flow/);
  });

  it('fails the steps when the datapath does not enforce the policies', async () => {
    // given
    world.policiesIgnored = true;
    // when (each step waits its whole budget for a drop that never comes: a short one)
    const run = await runCheck(['--suite', 'policy', '--no-internet'], { checkOptions: { podReadyTimeoutMs: 1_500, namespaceDeleteTimeoutMs: 2_000, execTimeoutMs: 3_000, remoteTimeoutMs: 2_000, pollIntervalMs: 20, hubbleWaitMs: 300, policyWaitMs: 250 } });
    // then
    expect(run.code).toBe(1);
    expect(run.result_of('policy/l3-identity').reason).toMatch(/^policy-l3-other-dropped: client-other: HTTP 200/);
    expect(run.result_of('policy/l4-port').status).toBe('failed');
    expect(run.result_of('policy/dns-fqdn')).toMatchObject({ status: 'skipped' });
  });

  it("skips the DNS pitfall, saying why, where Cilium answers refused names with NXDOMAIN (the resolver goes on)", async () => {
    // given
    world.api.addConfigMap('kube-system', 'cilium-config', { 'kube-proxy-replacement': 'true', 'routing-mode': 'native', 'tofqdns-dns-reject-response-code': 'nameError' });
    // when
    const run = await runCheck(['--suite', 'policy']);
    // then
    expect(run.result_of('policy/dns-search-path')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('tofqdns-dns-reject-response-code=nameError') });
  });

  it('refuses an unknown suite before any call', async () => {
    const lines: string[] = [];
    const code = await runCli(['check', '--suite', 'security'], {
      commands: [checkCommand({ signals: new EventEmitter() })],
      createServices: () => {
        throw new Error('no call expected');
      },
      out: () => ({ info: (l) => lines.push(l), result: (l) => lines.push(l) }),
    });
    expect([code, lines.join('\n')]).toEqual([2, expect.stringContaining("--suite security: lab (the lab's own checks) or policy (the network policy exercise)")]);
  });
});
