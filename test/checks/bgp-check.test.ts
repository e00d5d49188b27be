/**
 * `lab check` of a lab of profile bgp, end to end against the lab world (bgp-world.ts: the
 * router's FRR and the agents' BGP speakers as the real ones behave where the checks look). Each
 * test breaks one thing the study's BGP chapter is about and checks the verdict and its words.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { advertisedRanges } from '../../lib/config/bgp-rules.js';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import type { ResultsDocument } from '../../lib/checks/report.js';
import type { ScenarioResult } from '../../lib/checks/types.js';
import { composeLabCiliumValues } from '../../lib/lab/cilium.js';
import { runCli } from '../../lib/lab/cli.js';
import { checkCommand } from '../../lib/lab/commands/check.js';
import { useLabWorld, worldServices } from '../helpers/lab-services.js';
import { bgpResources, type KubeObject } from '../../lib/bgp/resources.js';
import { applyProfileResources } from '../../lib/lab/manifests.js';
import { DEFAULT_TIMEOUTS } from '../../lib/lab/remote.js';
import { labTargetFromOutputs } from '../../lib/lab/target.js';
import { stackOutputsOf } from '../helpers/lab-services.js';
import { bgpWorldSetup, type BgpWorld } from './bgp-world.js';

const plan = planLab(loadLabConfig({ context: { profile: 'bgp' } }));
const lab = useLabWorld(plan);

async function runCheck(options: { bgpWaitMs?: number } = {}): Promise<{ code: number; report: ResultsDocument; result_of(id: string): ScenarioResult; detail(id: string): Record<string, string> }> {
  const code = await runCli(['check'], {
    commands: [
      checkCommand({
        checkOptions: { podReadyTimeoutMs: 1_500, namespaceDeleteTimeoutMs: 2_000, execTimeoutMs: 3_000, remoteTimeoutMs: 2_000, pollIntervalMs: 20, hubbleWaitMs: 300, policyWaitMs: 1_000, bgpWaitMs: options.bgpWaitMs ?? 400 },
        signals: new EventEmitter(),
      }),
    ],
    createServices: () => worldServices(plan, lab.world().remote),
    out: () => ({ info: () => undefined, result: () => undefined }),
  });
  const report = JSON.parse(readFileSync(join(process.env.CILIUM_LAB_STATE_DIR as string, plan.config.labName, 'check-report.json'), 'utf8')) as ResultsDocument;
  const result_of = (id: string): ScenarioResult => {
    const found = report.results.find((r) => `${r.check}/${r.scenario}` === id);
    if (!found) throw new Error(`no result ${id}; have ${report.results.map((r) => `${r.check}/${r.scenario}`).join(', ')}`);
    return found;
  };
  return { code, report, result_of, detail: (id) => Object.fromEntries(result_of(id).expectations.map((e) => [e.id, e.detail])) };
}

/** A bgp lab after Helm: Cilium with the profile's values, the router booted; nothing of BGP applied on the cluster side yet. */
function givenBgpCluster(crds = '1.16.3'): BgpWorld {
  const world = lab.world();
  world.installValues(composeLabCiliumValues(plan, { xdp: true }).values as Record<string, unknown>);
  return world.useBgp(bgpWorldSetup(plan, advertisedRanges(plan.config), crds));
}

/** A healthy bgp lab: and the lab's BGP resources applied (as `lab up` applies them: see the first test). */
function givenBgpLab(objects: readonly KubeObject[] = bgpResources(plan).objects): BgpWorld {
  const bgp = givenBgpCluster();
  bgp.applyResources(objects as unknown as Record<string, unknown>[]);
  return bgp;
}

const withSpec = (objects: readonly KubeObject[], kind: string, edit: (spec: any) => void): KubeObject[] =>
  objects.map((o) => {
    if (o.kind !== kind) return o;
    const copy = structuredClone(o) as KubeObject;
    edit(copy.spec);
    return copy;
  });

const failedOthers = (report: ResultsDocument, except: readonly string[] = []) =>
  report.results.filter((x) => x.status !== 'passed' && !except.includes(`${x.check}/${x.scenario}`)).map((x) => `${x.check}/${x.scenario}: ${x.reason}`);

describe('lab check of a BGP lab (profile bgp)', () => {
  it("lab up's resources phase then lab check: what up applies is what brings the sessions up (before it, no node has a peer)", async () => {
    givenBgpCluster();
    const before = await runCheck({ bgpWaitMs: 100 });
    expect(before.detail('datapath/bgp')['bgp-sessions-established-on-nodes']).toBe('k8s-s: no peer 192.168.10.200 (peers: none); k8s-w1: no peer 192.168.10.200 (peers: none); k8s-w2: no peer 192.168.20.200 (peers: none)');
    expect(before.detail('datapath/bgp')['bgp-loadbalancer-ip-assigned']).toBe('webpod-bgp no address, webpod-bgp-local no address');
    // lab up's phase, with the CLI's own code, through the world's API server (objects checked against Cilium 1.16's CRDs)
    const target = labTargetFromOutputs(plan.stackName, stackOutputsOf(plan));
    const deps = { services: { remote: lab.world().remote } as never, info: () => undefined, timeouts: DEFAULT_TIMEOUTS };
    const applied = await applyProfileResources(deps, target, bgpResources(plan));
    expect(applied.applied.map((a) => a.object)).toEqual([
      'ciliumbgpclusterconfig.cilium.io/cilium-lab-nodes-subnet',
      'ciliumbgpclusterconfig.cilium.io/cilium-lab-test-subnet',
      'ciliumbgppeerconfig.cilium.io/cilium-lab-router',
      'ciliumbgpadvertisement.cilium.io/cilium-lab-bgp',
      'ciliumloadbalancerippool.cilium.io/cilium-lab-bgp',
    ]);
    const after = await runCheck();
    expect(after.result_of('datapath/bgp').status).toBe('passed');
    expect(failedOthers(after.report)).toEqual([]);
  });

  it('lab up refuses, naming both versions, to apply resources a Cilium of another minor does not serve', async () => {
    givenBgpCluster('1.16.3');
    const newer = planLab(loadLabConfig({ context: { profile: 'bgp', 'cilium.version': '1.18.12' } }));
    const target = labTargetFromOutputs(plan.stackName, stackOutputsOf(plan));
    const deps = { services: { remote: lab.world().remote } as never, info: () => undefined, timeouts: DEFAULT_TIMEOUTS };
    await expect(applyProfileResources(deps, target, bgpResources(newer))).rejects.toThrow(/ciliumbgpclusterconfigs\.cilium\.io on k8s-s serves v2alpha1, not v2, which the lab renders for Cilium 1\.16\.3/);
  });

  it('proves the sessions from both ends, the pod CIDRs and LoadBalancer IPs on the router (ECMP, Local narrowed), and traffic through it; the rest stays green', async () => {
    givenBgpLab();
    const run = await runCheck();
    const r = run.result_of('datapath/bgp');
    expect(r.expectations.map((e) => [e.id, e.met])).toEqual([
      ['bgp-sessions-established-on-nodes', true],
      ['bgp-loadbalancer-ip-assigned', true],
      ['bgp-sessions-established-on-router', true],
      ['bgp-pod-cidrs-on-router', true],
      ['bgp-loadbalancer-ecmp', true],
      ['bgp-loadbalancer-local-advertisers', true],
      ['bgp-pod-to-pod-across-subnets', true],
      ['bgp-testpc-reaches-loadbalancer', true],
    ]);
    const d = run.detail('datapath/bgp');
    expect(d['bgp-sessions-established-on-nodes']).toBe('k8s-s -> 192.168.10.200 established, k8s-w1 -> 192.168.10.200 established, k8s-w2 -> 192.168.20.200 established');
    expect(d['bgp-pod-cidrs-on-router']).toBe('172.16.0.0/24 via k8s-s; 172.16.1.0/24 via k8s-w1; 172.16.2.0/24 via k8s-w2');
    // allowFirstLastIPs: No: the pool's network address is not handed out
    expect(d['bgp-loadbalancer-ip-assigned']).toBe('webpod-bgp 10.20.0.1, webpod-bgp-local 10.20.0.2');
    expect(d['bgp-loadbalancer-ecmp']).toMatch(/^10\.20\.0\.\d+\/32 via k8s-s k8s-w1 k8s-w2$/);
    expect(d['bgp-loadbalancer-local-advertisers']).toMatch(/^10\.20\.0\.\d+\/32 via k8s-w1 k8s-w2 \(backends on k8s-w1, k8s-w2\)$/);
    expect(d['bgp-pod-to-pod-across-subnets']).toMatch(/^netpod on k8s-s reached webpod2 172\.16\.2\.\d+ on k8s-w2$/);
    expect(d['bgp-testpc-reaches-loadbalancer']).toMatch(/^webpod-bgp 10\.20\.0\.\d+: 12\/12 answered \(\dx webpod1, \dx webpod2\); webpod-bgp-local 10\.20\.0\.\d+: 12\/12 answered/);
    // The evidence is the real commands' output: the agents' peers and the router's FRR JSON.
    expect(r.evidence.command).toMatch(/cilium-dbg bgp peers -o json/);
    expect(r.evidence.command).toMatch(/ssm router \(i-0\d+\): BGP state of the router/);
    expect(failedOthers(run.report)).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("fails where the nodes have no route via the router: Cilium installs none of the routes it receives", async () => {
    const bgp = givenBgpLab();
    bgp.nodesRouteViaRouter = false;
    const run = await runCheck();
    const r = run.result_of('datapath/bgp');
    expect(r.status).toBe('failed');
    expect(r.expectations.filter((e) => !e.met).map((e) => e.id)).toEqual(['bgp-pod-to-pod-across-subnets']);
    expect(run.detail('datapath/bgp')['bgp-pod-to-pod-across-subnets']).toMatch(/^netpod -> webpod2 172\.16\.2\.\d+ on k8s-w2: .*curl: \(28\)/);
    // the base suite's pod-to-pod sees the same break (webpod2 sits behind the router)
    expect(run.result_of('datapath/pod-to-pod').status).toBe('failed');
  });

  it("fails when every node is given the router's node-subnet address: the node behind the router never connects, on either end", async () => {
    // one cluster config for every node, peering the router's node-subnet address
    givenBgpLab([
      ...withSpec(bgpResources(plan).objects.slice(0, 1), 'CiliumBGPClusterConfig', (spec) => delete spec.nodeSelector),
      ...bgpResources(plan).objects.slice(2),
    ]);
    const run = await runCheck();
    const d = run.detail('datapath/bgp');
    expect(d['bgp-sessions-established-on-nodes']).toBe('k8s-w2: no peer 192.168.20.200 (peers: 192.168.10.200 active)');
    expect(d['bgp-sessions-established-on-router']).toBe('k8s-w2 192.168.20.101: Active');
    expect(d['bgp-pod-cidrs-on-router']).toMatch(/172\.16\.2\.0\/24 via nothing, want k8s-w2/);
  });

  it('fails when the advertisement leaves out the pod CIDRs, naming each missing prefix', async () => {
    givenBgpLab(withSpec(bgpResources(plan).objects, 'CiliumBGPAdvertisement', (spec) => spec.advertisements.shift()));
    const run = await runCheck();
    expect(run.detail('datapath/bgp')['bgp-pod-cidrs-on-router']).toBe('172.16.0.0/24 via nothing, want k8s-s; 172.16.1.0/24 via nothing, want k8s-w1; 172.16.2.0/24 via nothing, want k8s-w2');
  });

  it('fails when a Local Service is advertised by a node without a backend: the connections the router sends there are dropped', async () => {
    givenBgpLab().localIgnored = true;
    const run = await runCheck();
    const r = run.result_of('datapath/bgp');
    expect(r.expectations.filter((e) => !e.met).map((e) => e.id)).toEqual(['bgp-loadbalancer-local-advertisers', 'bgp-testpc-reaches-loadbalancer']);
    const d = run.detail('datapath/bgp');
    expect(d['bgp-loadbalancer-local-advertisers']).toMatch(/via k8s-s k8s-w1 k8s-w2, want k8s-w1 k8s-w2 \(backends on k8s-w1, k8s-w2\)$/);
    expect(d['bgp-testpc-reaches-loadbalancer']).toMatch(/webpod-bgp-local 10\.20\.0\.\d+: 8\/12 answered \(.*\), 4x curl exit 28/);
  });

  it('fails when the router installs one path only (no ECMP)', async () => {
    givenBgpLab().noMultipath = true;
    const run = await runCheck();
    expect(run.detail('datapath/bgp')['bgp-loadbalancer-ecmp']).toMatch(/^10\.20\.0\.\d+\/32 via k8s-s, want k8s-s k8s-w1 k8s-w2$/);
  });

  it("fails naming the router when its bgpd does not answer, and the nodes' sessions stay active", async () => {
    givenBgpLab().routerDown = true;
    const run = await runCheck();
    const d = run.detail('datapath/bgp');
    expect(d['bgp-sessions-established-on-router']).toBe('no BGP state from router (Failed, exit 3: bgp-router-state: bgpd does not answer: bgpd is not running; missing CILIUM_LAB_BGP_SUMMARY, CILIUM_LAB_BGP_TABLE, CILIUM_LAB_BGP_KERNEL)');
    expect(d['bgp-sessions-established-on-nodes']).toMatch(/^k8s-s: 192\.168\.10\.200 is active; /);
  });

  it('fails when LB IPAM has no pool: no LoadBalancer IP, nothing probed', async () => {
    givenBgpLab(bgpResources(plan).objects.filter((o) => o.kind !== 'CiliumLoadBalancerIPPool'));
    const run = await runCheck();
    const d = run.detail('datapath/bgp');
    expect(d['bgp-loadbalancer-ip-assigned']).toBe('webpod-bgp no address, webpod-bgp-local no address');
    expect(d['bgp-testpc-reaches-loadbalancer']).toBe('not probed: a Service has no LoadBalancer IP');
  });

  it('waits for sessions that take a few reads to come up', async () => {
    const slow = givenBgpLab();
    slow.establishAfterReads = 9; // three rounds of three agents
    expect((await runCheck()).result_of('datapath/bgp').status).toBe('passed');
  });

  it('gives up after bgpWaitMs with the state it last saw', async () => {
    givenBgpLab().establishAfterReads = Number.MAX_SAFE_INTEGER;
    const run = await runCheck({ bgpWaitMs: 100 });
    expect(run.detail('datapath/bgp')['bgp-sessions-established-on-nodes']).toBe('k8s-s: 192.168.10.200 is active; k8s-w1: 192.168.10.200 is active; k8s-w2: 192.168.20.200 is active');
  });
});
