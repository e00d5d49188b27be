/**
 * Profile bgp: Cilium's BGP control plane peers with the router and the routes work, seen from
 * both ends, as the study's BGP chapter checks them by hand:
 *   - every node's agent has its session with the router's address in its own subnet Established
 *     (`cilium-dbg bgp peers -o json`: an array of api/v1 BgpPeer, every scalar omitted when zero),
 *     and the router's FRR has every node Established (`show bgp summary json`);
 *   - the router learned each node's pod CIDR from that node and installed it (`show ip bgp json`,
 *     `ip -json route show proto bgp`), and netpod in the node subnet reaches the webpod behind the
 *     router by pod IP: the nodes' own routes via the router carry it (Cilium installs no BGP route:
 *     "BGP Control Plane does not program the datapath", docs network/bgp-control-plane);
 *   - two LoadBalancer Services labelled advertise=bgp get addresses from the lab's LB IPAM pool;
 *     the one with externalTrafficPolicy Cluster is advertised by every node (the router installs
 *     one ECMP route over all of them), the one with Local only by the nodes that run a backend
 *     ("stops advertisement when there's no local endpoint", docs bgp-control-plane-v2,
 *     "Service announcements"); testpc reaches both through the router.
 * Reads are repeated until BGP settles or CheckOptions.bgpWaitMs passes (sessions come up within a
 * connect retry, a new LoadBalancer IP within a reconcile); the verdicts are on the last reading.
 */
import { cidrContainsAddress, parseCidr, parseIpv4 } from '../../config/cidr.js';
import type { BgpFacts } from '../../config/profiles.js';
import { ADVERTISE_LABEL } from '../../bgp/resources.js';
import { sleep } from '../../kube/wait.js';
import type { KubePod, ServiceManifest } from '../../kube/types.js';
import { renderLabScript } from '../../lab/remote.js';
import type { NodeRunResult } from '../../lab/remote-runner.js';
import { kernelKey, parseRouterState, type RouterState } from '../bgp-state.js';
import { MANAGED_BY, type DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { CILIUM_AGENT_CONTAINER, CILIUM_AGENT_SELECTOR, KUBE_SYSTEM, remoteRecorded } from '../helpers.js';
import { curlWhoami } from '../netpod.js';
import type { Expectation, LabNodeInfo, Scenario, ScenarioRun } from '../types.js';
import { parseNodePortAnswers } from './nodeport.js';

/** The check's LoadBalancer Services, one per externalTrafficPolicy (in the fixture's namespace: its teardown removes them). */
export const BGP_SERVICES = { cluster: 'webpod-bgp', local: 'webpod-bgp-local' } as const;
/** Requests testpc sends to each LoadBalancer IP (enough for L4 ECMP and Cilium to spread them). */
export const LB_REQUESTS = 12;

/** A BGP peer as `cilium-dbg bgp peers -o json` prints it (api/v1 BgpPeer). */
export interface AgentPeer {
  readonly localAsn: number | undefined;
  readonly peerAsn: number | undefined;
  readonly peerAddress: string;
  readonly state: string;
}

/** `cilium-dbg bgp peers -o json`: an array of BgpPeer; "peer-address" may carry a port in some versions' text, never in JSON, but both are accepted. */
export function parseAgentPeers(stdout: string): AgentPeer[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout.trim() === '' ? 'null' : stdout);
  } catch {
    return undefined;
  }
  // A node without a BGP instance yet prints null: no peers.
  if (doc === null && stdout.trim() !== '') return [];
  if (!Array.isArray(doc)) return undefined;
  return doc
    .filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null)
    .map((p) => ({
      localAsn: typeof p['local-asn'] === 'number' ? p['local-asn'] : undefined,
      peerAsn: typeof p['peer-asn'] === 'number' ? p['peer-asn'] : undefined,
      peerAddress: String(p['peer-address'] ?? '').replace(/:\d+$/, ''),
      state: String(p['session-state'] ?? 'unknown'),
    }));
}

interface Reading {
  readonly agents: ReadonlyMap<string, { readonly peers?: readonly AgentPeer[]; readonly error?: string; readonly raw: string; readonly command: string }>;
  readonly router?: RouterState & { readonly missing: readonly string[] };
  readonly routerRun?: NodeRunResult;
}

interface Judgement {
  readonly met: boolean;
  readonly detail: string;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

function judgeNodeSessions(reading: Reading, nodes: readonly LabNodeInfo[], bgp: BgpFacts): Judgement {
  const problems: string[] = [];
  const good: string[] = [];
  for (const node of nodes) {
    const want = bgp.routerAddresses[node.subnet ?? 'nodes'];
    const agent = reading.agents.get(node.name);
    if (!agent?.peers) {
      problems.push(`${node.name}: ${agent?.error ?? 'no agent read'}`);
      continue;
    }
    const peer = agent.peers.find((p) => p.peerAddress === want);
    if (!peer) problems.push(`${node.name}: no peer ${want} (peers: ${agent.peers.map((p) => `${p.peerAddress} ${p.state}`).join(', ') || 'none'})`);
    else if (peer.state !== 'established') problems.push(`${node.name}: ${want} is ${peer.state}`);
    else if (peer.localAsn !== bgp.clusterAsn || peer.peerAsn !== bgp.routerAsn) problems.push(`${node.name}: AS ${peer.localAsn ?? '?'} -> ${peer.peerAsn ?? '?'}, want ${bgp.clusterAsn} -> ${bgp.routerAsn}`);
    else good.push(`${node.name} -> ${want} established`);
  }
  return { met: problems.length === 0, detail: problems.length === 0 ? good.join(', ') : problems.join('; ') };
}

function judgeRouterSessions(router: RouterState, nodes: readonly LabNodeInfo[], bgp: BgpFacts): Judgement {
  const problems = nodes.flatMap((node) => {
    const peer = router.peers.find((p) => p.address === node.privateIp);
    if (!peer) return [`${node.name} ${node.privateIp}: not a neighbour of the router`];
    if (peer.state !== 'Established') return [`${node.name} ${node.privateIp}: ${peer.state}`];
    if (peer.remoteAs !== bgp.clusterAsn) return [`${node.name} ${node.privateIp}: AS ${peer.remoteAs ?? '?'}, want ${bgp.clusterAsn}`];
    return [];
  });
  return { met: problems.length === 0, detail: problems.length === 0 ? `${nodes.length} neighbour(s) Established in AS ${bgp.clusterAsn}` : problems.join('; ') };
}

/** The prefix's next hops in FRR (used paths) and in the kernel must both be `want`. */
function judgePrefix(router: RouterState, prefix: string, want: readonly string[], names: ReadonlyMap<string, string>): { ok: boolean; text: string } {
  const name = (ip: string): string => names.get(ip) ?? ip;
  const inBgp = router.prefixes.find((p) => p.prefix === prefix)?.usedNextHops ?? [];
  const inKernel = router.kernel.get(kernelKey(prefix)) ?? [];
  const ok = sameSet(inBgp, want) && sameSet(inKernel, want);
  const text = `${prefix} via ${inBgp.map(name).join(' ') || 'nothing'}${sameSet(inBgp, inKernel) ? '' : ` (kernel: ${inKernel.map(name).join(' ') || 'no route'})`}${ok ? '' : `, want ${want.map(name).join(' ') || 'no route'}`}`;
  return { ok, text };
}

function lbService(name: string, policy: 'Cluster' | 'Local'): ServiceManifest {
  return {
    name,
    type: 'LoadBalancer',
    externalTrafficPolicy: policy,
    labels: { ...MANAGED_BY, [ADVERTISE_LABEL.key]: ADVERTISE_LABEL.value },
    selector: { app: 'webpod' },
    ports: [{ name: 'http', port: 80, targetPort: 80 }],
  };
}

async function readAgents(run: ScenarioRun<DatapathPods>, nodes: readonly LabNodeInfo[]): Promise<Reading['agents']> {
  const agents = await run.env.kube.listPods(KUBE_SYSTEM, CILIUM_AGENT_SELECTOR);
  const out = new Map<string, { peers?: readonly AgentPeer[]; error?: string; raw: string; command: string }>();
  for (const node of nodes) {
    const pod = agents.find((p) => p.nodeName === node.name);
    if (!pod) {
      out.set(node.name, { error: 'no cilium agent pod', raw: '', command: '' });
      continue;
    }
    const command = ['cilium-dbg', 'bgp', 'peers', '-o', 'json'];
    const result = await run.env.kube.exec({ namespace: KUBE_SYSTEM, pod: pod.name, container: CILIUM_AGENT_CONTAINER, command, timeoutMs: run.env.options.execTimeoutMs, signal: run.env.signal });
    const peers = result.exitCode === 0 ? parseAgentPeers(result.stdout) : undefined;
    const error = peers ? undefined : `cilium-dbg bgp peers: exit ${result.exitCode ?? '?'} ${(result.stderr || result.stdout || result.error || '').trim().split('\n').at(-1) ?? ''}`.trim();
    out.set(node.name, { ...(peers ? { peers } : {}), ...(error ? { error } : {}), raw: result.stdout || result.stderr, command: `exec ${KUBE_SYSTEM}/${pod.name} [${CILIUM_AGENT_CONTAINER}]: ${command.join(' ')}` });
  }
  return out;
}

async function readRouter(run: ScenarioRun<DatapathPods>): Promise<{ state?: Reading['router']; result?: NodeRunResult }> {
  const router = run.env.lab.router;
  if (!router || !run.env.remote) return {};
  const [result] = await run.env.remote.runOnNodes([router], renderLabScript('bgp-router-state.sh'), { timeoutMs: run.env.options.remoteTimeoutMs, comment: 'cilium-lab check: BGP state of the router', signal: run.env.signal });
  return result ? { state: parseRouterState(result.stdout), result } : {};
}

export const bgp: Scenario<DatapathPods> = {
  name: 'bgp',
  proves: "Cilium's BGP control plane peers with the router from every node, the router routes the pod CIDRs and the LoadBalancer IPs it learned (ECMP over the nodes, Local narrowed to the nodes with a backend), and traffic crosses the router: pod to pod across the subnets, testpc to the LoadBalancer IPs",
  expectations: [EXPECT.bgpSessionsFromNodes, EXPECT.bgpSessionsOnRouter, EXPECT.bgpPodCidrsOnRouter, EXPECT.bgpCrossSubnetPods, EXPECT.bgpLbIpAssigned, EXPECT.bgpLbEcmp, EXPECT.bgpLbLocalAdvertisers, EXPECT.bgpTestpcReachesLb],
  async run(run) {
    const facts = run.env.lab.bgp;
    if (!facts) return run.skip('the lab does not peer with a router (profile=bgp)');
    const { options } = run.env;
    const nodes = run.env.lab.nodes;
    const names = new Map(nodes.map((n) => [n.privateIp, n.name]));
    const { webpods } = run.fixture;

    // Two LoadBalancer Services for the webpods, labelled for the lab's Service advertisement.
    for (const [policy, name] of [['Cluster', BGP_SERVICES.cluster], ['Local', BGP_SERVICES.local]] as const) {
      await run.env.kube.applyService(options.namespace, lbService(name, policy));
    }
    run.record(`create services ${BGP_SERVICES.cluster} (externalTrafficPolicy Cluster) and ${BGP_SERVICES.local} (Local), type LoadBalancer, labelled ${ADVERTISE_LABEL.key}=${ADVERTISE_LABEL.value}`, 'created');

    const kubeNodes = await run.env.kube.listNodes();
    const podCidrs = nodes.map((n) => ({ node: n, cidr: kubeNodes.find((k) => k.name === n.name)?.podCidr }));
    const backendNodes = [...new Set(webpods.map((p) => p.nodeName))];
    const lbIps = { cluster: '', local: '' };
    const pool = parseCidr(facts.lbPoolCidr);

    // The verdicts on one reading: the sessions from the nodes, the LoadBalancer IPs, and what the
    // router holds (or why it cannot be judged). The wait ends when all of them hold.
    const judge = (reading: Reading): { expectation: Expectation; met: boolean; detail: string }[] => {
      const sessions = judgeNodeSessions(reading, nodes, facts);
      const assigned = (['cluster', 'local'] as const).map((key) => {
        const ip = lbIps[key];
        const address = parseIpv4(ip);
        return { key, ip, ok: ip !== '' && typeof pool !== 'string' && address !== undefined && cidrContainsAddress(pool, address) };
      });
      const verdicts = [
        { expectation: EXPECT.bgpSessionsFromNodes, met: sessions.met, detail: sessions.detail },
        {
          expectation: EXPECT.bgpLbIpAssigned,
          met: assigned.every((a) => a.ok),
          detail: assigned.map((a) => `${BGP_SERVICES[a.key]} ${a.ip || 'no address'}${a.ip && !a.ok ? ` (outside ${facts.lbPoolCidr})` : ''}`).join(', '),
        },
      ];
      const onRouter = [EXPECT.bgpSessionsOnRouter, EXPECT.bgpPodCidrsOnRouter, EXPECT.bgpLbEcmp, EXPECT.bgpLbLocalAdvertisers];
      const { router, routerRun } = reading;
      const noRouter = !run.env.remote ? 'not judged: no access to the router (no SSM RemoteRunner in this run)' : !run.env.lab.router ? 'not judged: the lab has no router instance' : undefined;
      if (noRouter) return [...verdicts, ...onRouter.map((expectation) => ({ expectation, met: true, detail: noRouter }))];
      if (!router || router.missing.length > 0 || routerRun?.status !== 'Success') {
        const why = `no BGP state from ${run.env.lab.router?.name ?? 'the router'} (${routerRun ? `${routerRun.status}, exit ${routerRun.exitCode}${routerRun.stderr.trim() ? `: ${routerRun.stderr.trim().split('\n').at(-1)}` : ''}` : 'no result'}${router?.missing.length ? `; missing ${router.missing.join(', ')}` : ''}${routerRun?.stdoutTruncated ? '; its output was cut by SSM at 24,000 characters' : ''})`;
        return [...verdicts, ...onRouter.map((expectation) => ({ expectation, met: false, detail: why }))];
      }
      const peers = judgeRouterSessions(router, nodes, facts);
      const cidrs = podCidrs.map(({ node, cidr }) => (cidr === undefined ? { ok: false, text: `${node.name} has no pod CIDR (Node spec.podCIDR)` } : judgePrefix(router, cidr, [node.privateIp], names)));
      const ecmp = lbIps.cluster ? judgePrefix(router, `${lbIps.cluster}/32`, nodes.map((n) => n.privateIp), names) : { ok: false, text: `${BGP_SERVICES.cluster} has no LoadBalancer IP` };
      const local = lbIps.local ? judgePrefix(router, `${lbIps.local}/32`, nodes.filter((n) => backendNodes.includes(n.name)).map((n) => n.privateIp), names) : { ok: false, text: `${BGP_SERVICES.local} has no LoadBalancer IP` };
      return [
        ...verdicts,
        { expectation: EXPECT.bgpSessionsOnRouter, met: peers.met, detail: peers.detail },
        { expectation: EXPECT.bgpPodCidrsOnRouter, met: cidrs.every((c) => c.ok), detail: cidrs.map((c) => c.text).join('; ') },
        { expectation: EXPECT.bgpLbEcmp, met: ecmp.ok, detail: ecmp.text },
        { expectation: EXPECT.bgpLbLocalAdvertisers, met: local.ok, detail: `${local.text} (backends on ${backendNodes.join(', ')})` },
      ];
    };

    // Read until everything holds or the wait is over; judge the last reading.
    const deadline = Date.now() + options.bgpWaitMs;
    let reading: Reading;
    let judged: ReturnType<typeof judge>;
    for (;;) {
      for (const key of ['cluster', 'local'] as const) {
        if (lbIps[key] === '') lbIps[key] = (await run.env.kube.getService(options.namespace, BGP_SERVICES[key]))?.loadBalancerIps[0] ?? '';
      }
      const router = await readRouter(run);
      reading = { agents: await readAgents(run, nodes), ...(router.state ? { router: router.state } : {}), ...(router.result ? { routerRun: router.result } : {}) };
      judged = judge(reading);
      if (judged.every((v) => v.met) || Date.now() >= deadline) break;
      await sleep(Math.min(options.pollIntervalMs, Math.max(0, deadline - Date.now())), run.env.signal);
    }
    for (const [node, agent] of reading.agents) run.record(agent.command || `${node}: cilium-dbg bgp peers -o json`, agent.raw.trim() || agent.error || '(no output)');
    if (reading.routerRun) {
      const r = reading.routerRun;
      run.record(`ssm ${r.name} (${r.instanceId}): BGP state of the router (vtysh show bgp summary json, show ip bgp json; ip -json route show proto bgp)`, `${r.status}, exit ${r.exitCode}\n${r.stdout.trimEnd()}${r.stderr.trim() ? `\n[stderr]\n${r.stderr.trimEnd()}` : ''}`);
    }
    for (const v of judged) run.expect(v.expectation, v.met, v.detail);

    // Pod to pod across the router: netpod (node subnet) to a webpod on a node behind the router.
    const behindRouter = nodes.filter((n) => n.subnet === 'test').map((n) => n.name);
    const behind = webpods.find((p: KubePod) => behindRouter.includes(p.nodeName ?? ''));
    if (!behind) {
      run.expect(EXPECT.bgpCrossSubnetPods, false, `no webpod runs on a node behind the router (webpods on ${webpods.map((p) => p.nodeName).join(', ')}; nodes behind it: ${behindRouter.join(', ') || 'none'})`);
    } else {
      const { answer, failure } = await curlWhoami(run, `http://${behind.podIp}/`);
      const podCidr = parseCidr(facts.podCidr);
      const address = parseIpv4(behind.podIp ?? '');
      const inPods = typeof podCidr !== 'string' && address !== undefined && cidrContainsAddress(podCidr, address);
      run.expect(
        EXPECT.bgpCrossSubnetPods,
        answer?.hostname === behind.name && inPods,
        answer?.hostname === behind.name ? `netpod on ${run.fixture.netpod.nodeName} reached ${behind.name} ${behind.podIp} on ${behind.nodeName}${inPods ? '' : ` (not in ${facts.podCidr})`}` : `netpod -> ${behind.name} ${behind.podIp} on ${behind.nodeName}: ${failure || `answered by ${answer?.hostname ?? 'nobody'}`}`,
      );
    }

    // testpc to both LoadBalancer IPs through the router.
    const testpc = run.env.lab.testpc;
    if (!testpc) {
      run.expect(EXPECT.bgpTestpcReachesLb, true, 'not judged: the lab has no testpc (testpc.enabled=false)');
      return;
    }
    const targets = (['cluster', 'local'] as const).filter((k) => lbIps[k] !== '').map((k) => ({ name: BGP_SERVICES[k], privateIp: lbIps[k] }));
    if (targets.length < 2) {
      run.expect(EXPECT.bgpTestpcReachesLb, false, 'not probed: a Service has no LoadBalancer IP');
      return;
    }
    const script = renderLabScript('nodeport-probe.sh', {}, {
      LAB_PROBE_TARGETS: targets.map((t) => `${t.name}=${t.privateIp}`).join(' '),
      LAB_PROBE_PORTS: 'loadbalancer=80',
      LAB_PROBE_REQUESTS: String(LB_REQUESTS),
      LAB_PROBE_TIMEOUT: '3',
    });
    const [result] = await remoteRecorded(run as ScenarioRun<unknown>, `curl ${targets.map((t) => t.privateIp).join(' and ')} from ${testpc.name}`, [testpc], script);
    const answers = parseNodePortAnswers(result?.stdout ?? '');
    const webpodNames = webpods.map((p) => p.name);
    const verdicts = targets.map((t) => {
      const a = answers.find((x) => x.node === t.name);
      if (!a) return { ok: false, text: `${t.name} ${t.privateIp}: no answer line from ${testpc.name} (exit ${result?.exitCode ?? '?'})` };
      const by = Object.entries(a.answers).filter(([name]) => webpodNames.includes(name));
      const answered = by.reduce((sum, [, n]) => sum + n, 0);
      const several = webpodNames.length < 2 || by.length >= 2;
      const ok = answered === a.requests && several;
      const counts = by.map(([name, n]) => `${n}x ${name}`).join(', ') || 'no backend';
      return { ok, text: `${t.name} ${t.privateIp}: ${answered}/${a.requests} answered (${counts})${a.failed > 0 ? `, ${a.failed}x curl exit ${a.lastExit}${a.error ? `: ${a.error}` : ''}` : ''}${answered === a.requests && !several ? ', one backend only' : ''}` };
    });
    run.expect(EXPECT.bgpTestpcReachesLb, verdicts.every((v) => v.ok), verdicts.map((v) => v.text).join('; '));
  },
};
