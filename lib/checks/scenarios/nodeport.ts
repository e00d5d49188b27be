/**
 * testpc -> every node's IP on the webpods' NodePorts, the study's test from outside the cluster
 * (scripts/node/nodeport-probe.sh over SSM on testpc). With externalTrafficPolicy Cluster every
 * node answers, and the two webpods share the requests; with Local only the nodes that run a
 * webpod answer, each with its own webpod, and the others do not answer at all (Cilium's
 * NodePort has no local backend to send to).
 * https://kubernetes.io/docs/reference/networking/virtual-ips/#external-traffic-policy
 */
import { renderLabScript, taggedJson, taggedLines } from '../../lab/remote.js';
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { KUBE_SYSTEM, remoteRecorded } from '../helpers.js';
import { NIC_STATE_TAG, nicStateScript } from './nic-tuning.js';
import type { LabNodeInfo, Scenario, ScenarioRun } from '../types.js';

export const NODEPORT_TAG = 'CILIUM_LAB_NODEPORT';
/** Requests per node and port, and curl's budget for each. */
export const NODEPORT_REQUESTS = 4;
export const NODEPORT_TIMEOUT_SECONDS = 3;

export interface NodePortAnswer {
  readonly service: string;
  readonly node: string;
  readonly ip: string;
  readonly port: number;
  readonly attempt: number;
  /** curl's exit status: 0 answered, 7 refused, 28 timed out. */
  readonly exit: number;
  readonly hostname: string;
  readonly remote: string;
  readonly error: string;
}

/** The probe for these nodes and ports (pure). */
export function nodePortProbeScript(nodes: readonly Pick<LabNodeInfo, 'name' | 'privateIp'>[], ports: Readonly<Record<string, number>>): string {
  return renderLabScript('nodeport-probe.sh', {}, {
    LAB_PROBE_TARGETS: nodes.map((n) => `${n.name}=${n.privateIp}`).join(' '),
    LAB_PROBE_PORTS: Object.entries(ports)
      .map(([service, port]) => `${service}=${port}`)
      .join(' '),
    LAB_PROBE_REQUESTS: String(NODEPORT_REQUESTS),
    LAB_PROBE_TIMEOUT: String(NODEPORT_TIMEOUT_SECONDS),
  });
}

/** The probe's answer lines; a line that is not one is skipped. */
export function parseNodePortAnswers(stdout: string): NodePortAnswer[] {
  return taggedLines(stdout, NODEPORT_TAG).flatMap((line) => {
    try {
      const a = JSON.parse(line) as NodePortAnswer;
      return typeof a.node === 'string' && typeof a.exit === 'number' && typeof a.service === 'string' ? [a] : [];
    } catch {
      return [];
    }
  });
}

const outcome = (a: NodePortAnswer): string => (a.exit === 0 ? a.hostname || '(no Hostname)' : `curl exit ${a.exit}${a.error ? `: ${a.error}` : ''}`);

function perNode(answers: readonly NodePortAnswer[], node: string): string {
  const mine = answers.filter((a) => a.node === node);
  const counts = new Map<string, number>();
  for (const a of mine) counts.set(outcome(a), (counts.get(outcome(a)) ?? 0) + 1);
  return `${node} ${[...counts].map(([what, n]) => `${n}x ${what}`).join(', ') || 'no answer line'}`;
}

/** Each node's XDP packet count (nic-state.sh's xdpPackets), undefined where the driver exposes none. */
async function xdpPackets(run: ScenarioRun<DatapathPods>, nodes: readonly LabNodeInfo[], what: string): Promise<Map<string, number | undefined>> {
  const results = await remoteRecorded(run as ScenarioRun<unknown>, what, nodes, nicStateScript());
  return new Map(
    results.map((r) => {
      const facts = taggedJson(r.stdout, NIC_STATE_TAG) as Record<string, unknown> | undefined;
      return [r.name, typeof facts?.xdpPackets === 'number' ? facts.xdpPackets : undefined];
    }),
  );
}

export const nodePortFromTestpc: Scenario<DatapathPods> = {
  name: 'nodeport-from-testpc',
  proves:
    'a client outside the cluster (testpc) reaches the webpods through every node\'s IP on a NodePort (Cilium\'s eBPF NodePort, XDP where enabled), and with externalTrafficPolicy Local only through the nodes that run one',
  expectations: [EXPECT.nodePortEveryNode, EXPECT.nodePortBothBackends, EXPECT.nodePortLocalOnlyBackendNodes, EXPECT.xdpCountersMove],
  async run(run) {
    const { lab, options } = run.env;
    const testpc = lab.testpc;
    if (!testpc) return run.skip('the lab has no testpc (testpc.enabled=false): nothing outside the cluster to call the NodePorts from');
    const { nodePorts, webpods } = run.fixture;
    const clusterPort = nodePorts.cluster.ports[0]?.nodePort as number;
    const localPort = nodePorts.local.ports[0]?.nodePort as number;
    const script = nodePortProbeScript(lab.nodes, { [nodePorts.cluster.name]: clusterPort, [nodePorts.local.name]: localPort });
    // With native XDP, the requests must go through each node's XDP hook: its packet counters
    // (where the driver exposes them, ENA's ethtool -S *_xdp_*) move across the probe.
    const config = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'cilium-config');
    const xdpAsked = config?.data['bpf-lb-acceleration'] === 'native';
    const before = xdpAsked ? await xdpPackets(run, lab.nodes, 'XDP packet counters before the NodePort probe') : undefined;
    // Worst case: every request times out.
    const worstMs = lab.nodes.length * 2 * NODEPORT_REQUESTS * (NODEPORT_TIMEOUT_SECONDS + 1) * 1000;
    const [result] = await remoteRecorded(run, `curl every node's IP on NodePorts ${clusterPort} and ${localPort}`, [testpc], script, Math.max(options.remoteTimeoutMs, worstMs + 30_000));
    const answers = parseNodePortAnswers(result?.stdout ?? '');
    if (before) {
      const after = await xdpPackets(run, lab.nodes, 'XDP packet counters after the NodePort probe');
      const counted = lab.nodes.filter((n) => before.get(n.name) !== undefined && after.get(n.name) !== undefined);
      if (counted.length > 0) {
        const still = counted.filter((n) => (after.get(n.name) as number) <= (before.get(n.name) as number));
        const uncounted = lab.nodes.filter((n) => !counted.includes(n)).map((n) => `${n.name}: not exposed`);
        run.expect(
          EXPECT.xdpCountersMove,
          still.length === 0,
          [...counted.map((n) => `${n.name}: ${before.get(n.name)} -> ${after.get(n.name)}${still.includes(n) ? ' (did not move)' : ''}`), ...uncounted].join(', '),
        );
      }
    }
    if (!result || result.status !== 'Success' || answers.length === 0) {
      const why = `no answer from ${testpc.name} (${result?.status ?? 'no result'}, exit ${result?.exitCode ?? '?'}${result?.note ? `; ${result.note}` : ''}${result?.stderr.trim() ? `: ${result.stderr.trim().split('\n').pop()}` : ''})`;
      run.expect(EXPECT.nodePortEveryNode, false, why);
      return;
    }
    const webpodNames = new Set(webpods.map((p) => p.name));

    // externalTrafficPolicy Cluster: every node, every request, a webpod; both webpods among them.
    const cluster = answers.filter((a) => a.service === nodePorts.cluster.name);
    const silent = lab.nodes.filter((n) => cluster.filter((a) => a.node === n.name && a.exit === 0 && webpodNames.has(a.hostname)).length < NODEPORT_REQUESTS);
    run.expect(
      EXPECT.nodePortEveryNode,
      silent.length === 0,
      `port ${clusterPort}: ${lab.nodes.map((n) => perNode(cluster, n.name)).join('; ')}${silent.length > 0 ? ` (want ${NODEPORT_REQUESTS}x a webpod from each node)` : ''}`,
    );
    const answeredBy = new Set(cluster.filter((a) => a.exit === 0).map((a) => a.hostname));
    const missing = [...webpodNames].filter((w) => !answeredBy.has(w));
    run.expect(
      EXPECT.nodePortBothBackends,
      missing.length === 0,
      missing.length === 0 ? `answered by ${[...answeredBy].sort().join(', ')}` : `never answered by ${missing.join(', ')} (answered by ${[...answeredBy].sort().join(', ') || 'nobody'})`,
    );

    // externalTrafficPolicy Local: nodes with a webpod answer with their own; the others stay silent.
    const local = answers.filter((a) => a.service === nodePorts.local.name);
    const problems: string[] = [];
    for (const node of lab.nodes) {
      const own = webpods.filter((p) => p.nodeName === node.name).map((p) => p.name);
      const mine = local.filter((a) => a.node === node.name);
      if (own.length > 0) {
        const wrong = mine.filter((a) => a.exit !== 0 || !own.includes(a.hostname));
        if (wrong.length > 0 || mine.length < NODEPORT_REQUESTS) problems.push(`${perNode(local, node.name)} (want only ${own.join('/')})`);
      } else if (mine.some((a) => a.exit === 0)) {
        problems.push(`${perNode(local, node.name)} (runs no webpod: want no answer)`);
      }
    }
    run.expect(
      EXPECT.nodePortLocalOnlyBackendNodes,
      problems.length === 0,
      problems.length === 0 ? `port ${localPort}: ${lab.nodes.map((n) => perNode(local, n.name)).join('; ')}` : `port ${localPort}: ${problems.join('; ')}`,
    );
  },
};
