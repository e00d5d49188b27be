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
/**
 * Nodes per probe run: SSM returns only the first 24,000 characters of stdout, and a node's two
 * answer lines take up to ~600 (with curl errors), so a large lab is probed in runs of this many.
 */
export const NODEPORT_NODES_PER_RUN = 16;

/** One node's answers on one node port (nodeport-probe.sh counts them on testpc). */
export interface NodePortAnswer {
  readonly service: string;
  readonly node: string;
  readonly ip: string;
  readonly port: number;
  readonly requests: number;
  /** Who answered, and how often (whoami's Hostname). */
  readonly answers: Readonly<Record<string, number>>;
  /** Requests without an answer; lastExit and error are curl's for the last one (7 refused, 28 timed out). */
  readonly failed: number;
  readonly lastExit: number;
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
      return typeof a.node === 'string' && typeof a.service === 'string' && typeof a.requests === 'number' && typeof a.answers === 'object' && a.answers !== null ? [a] : [];
    } catch {
      return [];
    }
  });
}

const answersBy = (a: NodePortAnswer | undefined, names: ReadonlySet<string> | readonly string[]): number =>
  a ? Object.entries(a.answers).filter(([name]) => [...names].includes(name)).reduce((sum, [, n]) => sum + n, 0) : 0;

function perNode(answers: readonly NodePortAnswer[], service: string, node: string): string {
  const a = answers.find((x) => x.service === service && x.node === node);
  if (!a) return `${node} no answer line`;
  const parts = Object.entries(a.answers)
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([name, n]) => `${n}x ${name}`);
  if (a.failed > 0) parts.push(`${a.failed}x curl exit ${a.lastExit}${a.error ? `: ${a.error}` : ''}`);
  return `${node} ${parts.join(', ')}`;
}

/**
 * Each node's count of packets its XDP program sent on (XDP_TX, XDP_REDIRECT: nic-state.sh's
 * xdpForwarded), undefined where the driver exposes none. XDP_PASS is left out: every packet the
 * NIC receives passes the hook, so it moves with any traffic.
 */
async function xdpForwarded(run: ScenarioRun<DatapathPods>, nodes: readonly LabNodeInfo[], what: string): Promise<Map<string, number | undefined>> {
  const results = await remoteRecorded(run as ScenarioRun<unknown>, what, nodes, nicStateScript());
  return new Map(
    results.map((r) => {
      const facts = taggedJson(r.stdout, NIC_STATE_TAG) as Record<string, unknown> | undefined;
      return [r.name, typeof facts?.xdpForwarded === 'number' ? facts.xdpForwarded : undefined];
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
    const ports = { [nodePorts.cluster.name]: clusterPort, [nodePorts.local.name]: localPort };
    // With native XDP, a NodePort request a node sends on to a backend on another node is load
    // balanced by its XDP program (XDP_TX): those counters (where the driver exposes them, ENA's
    // ethtool -S queue_N_rx_xdp_tx/_redirect) must grow by at least one per such request.
    const config = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'cilium-config');
    const xdpAsked = config?.data['bpf-lb-acceleration'] === 'native';
    const before = xdpAsked ? await xdpForwarded(run, lab.nodes, 'XDP forwarding counters before the NodePort probe') : undefined;
    const answers: NodePortAnswer[] = [];
    const failures: string[] = [];
    for (let i = 0; i < lab.nodes.length; i += NODEPORT_NODES_PER_RUN) {
      const nodes = lab.nodes.slice(i, i + NODEPORT_NODES_PER_RUN);
      // Worst case: every request times out.
      const worstMs = nodes.length * 2 * NODEPORT_REQUESTS * (NODEPORT_TIMEOUT_SECONDS + 1) * 1000;
      const [result] = await remoteRecorded(run, `curl ${nodes.length} node(s) on NodePorts ${clusterPort} and ${localPort}`, [testpc], nodePortProbeScript(nodes, ports), Math.max(options.remoteTimeoutMs, worstMs + 30_000));
      const got = parseNodePortAnswers(result?.stdout ?? '');
      answers.push(...got);
      if (!result || result.status !== 'Success' || got.length === 0) {
        failures.push(`no answer from ${testpc.name} (${result?.status ?? 'no result'}, exit ${result?.exitCode ?? '?'}${result?.note ? `; ${result.note}` : ''}${result?.stderr.trim() ? `: ${result.stderr.trim().split('\n').pop()}` : ''})`);
      } else if (result.stdoutTruncated) {
        failures.push(`${testpc.name}'s answer was cut by SSM at 24,000 characters`);
      }
    }
    const webpodNames = new Set(webpods.map((p) => p.name));
    if (before) {
      const after = await xdpForwarded(run, lab.nodes, 'XDP forwarding counters after the NodePort probe');
      const counted = lab.nodes.filter((n) => before.get(n.name) !== undefined && after.get(n.name) !== undefined);
      if (counted.length > 0) {
        const lines: string[] = [];
        let ok = true;
        for (const node of counted) {
          const elsewhere = webpods.filter((p) => p.nodeName !== node.name).map((p) => p.name);
          const sent = answersBy(answers.find((a) => a.service === nodePorts.cluster.name && a.node === node.name), elsewhere);
          const grew = (after.get(node.name) as number) - (before.get(node.name) as number);
          if (grew < sent) ok = false;
          lines.push(`${node.name}: +${grew} for ${sent} request(s) sent to another node${grew < sent ? ' (too few: not load-balanced in XDP)' : ''}`);
        }
        for (const node of lab.nodes.filter((n) => !counted.includes(n))) lines.push(`${node.name}: not exposed`);
        run.expect(EXPECT.xdpCountersMove, ok, lines.join(', '));
      }
    }
    if (failures.length > 0) {
      run.expect(EXPECT.nodePortEveryNode, false, failures.join('; '));
      return;
    }
    // externalTrafficPolicy Cluster: every node, every request, a webpod; both webpods among them.
    const clusterOf = (node: string) => answers.find((a) => a.service === nodePorts.cluster.name && a.node === node);
    const silent = lab.nodes.filter((n) => answersBy(clusterOf(n.name), webpodNames) < NODEPORT_REQUESTS);
    run.expect(
      EXPECT.nodePortEveryNode,
      silent.length === 0,
      `port ${clusterPort}: ${lab.nodes.map((n) => perNode(answers, nodePorts.cluster.name, n.name)).join('; ')}${silent.length > 0 ? ` (want ${NODEPORT_REQUESTS}x a webpod from each node)` : ''}`,
    );
    const answeredBy = new Set(answers.filter((a) => a.service === nodePorts.cluster.name).flatMap((a) => Object.keys(a.answers).filter((k) => (a.answers[k] ?? 0) > 0)));
    const missing = [...webpodNames].filter((w) => !answeredBy.has(w));
    run.expect(
      EXPECT.nodePortBothBackends,
      missing.length === 0,
      missing.length === 0 ? `answered by ${[...answeredBy].sort().join(', ')}` : `never answered by ${missing.join(', ')} (answered by ${[...answeredBy].sort().join(', ') || 'nobody'})`,
    );

    // externalTrafficPolicy Local: nodes with a webpod answer with their own; the others stay silent.
    const problems: string[] = [];
    for (const node of lab.nodes) {
      const own = webpods.filter((p) => p.nodeName === node.name).map((p) => p.name);
      const mine = answers.find((a) => a.service === nodePorts.local.name && a.node === node.name);
      const line = perNode(answers, nodePorts.local.name, node.name);
      const total = mine ? Object.values(mine.answers).reduce((x, y) => x + y, 0) : 0;
      if (own.length > 0) {
        if (answersBy(mine, own) < NODEPORT_REQUESTS || total > answersBy(mine, own)) problems.push(`${line} (want only ${own.join('/')})`);
      } else if (total > 0) {
        problems.push(`${line} (runs no webpod: want no answer)`);
      }
    }
    run.expect(
      EXPECT.nodePortLocalOnlyBackendNodes,
      problems.length === 0,
      problems.length === 0 ? `port ${localPort}: ${lab.nodes.map((n) => perNode(answers, nodePorts.local.name, n.name)).join('; ')}` : `port ${localPort}: ${problems.join('; ')}`,
    );
  },
};
