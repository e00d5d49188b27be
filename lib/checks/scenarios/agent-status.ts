/**
 * What each agent says about its own datapath (`cilium-dbg status -o json`, exec'd in every
 * cilium agent pod): the facts the study reads off `cilium status` by hand. XDP acceleration is
 * asserted only when the deployed cilium-config asks for it (bpf-lb-acceleration: native).
 */
import type { KubePod } from '../../kube/types.js';
import { EXPECT } from '../expectations.js';
import { CILIUM_AGENT_CONTAINER, CILIUM_AGENT_SELECTOR, KUBE_SYSTEM, execRecorded, mapLimit } from '../helpers.js';
import { parseCiliumStatus, type AgentFacts } from '../parsers.js';
import type { Expectation, Scenario, ScenarioRun } from '../types.js';

export const STATUS_COMMAND = ['cilium-dbg', 'status', '-o', 'json'] as const;

interface AgentReading {
  readonly node: string;
  readonly pod: string;
  readonly facts?: AgentFacts;
  readonly error?: string;
}

function assertAll(
  run: ScenarioRun<unknown>,
  expectation: Expectation,
  readings: readonly AgentReading[],
  field: (facts: AgentFacts) => string | undefined,
  wanted: string,
): void {
  const wrong = readings.filter((r) => !r.facts || field(r.facts) !== wanted);
  const detail =
    wrong.length === 0
      ? `${wanted} on ${readings.length} agent(s)`
      : wrong.map((r) => `${r.node}: ${r.facts ? (field(r.facts) ?? 'not reported') : r.error}`).join(', ') + ` (want ${wanted})`;
  run.expect(expectation, wrong.length === 0, detail);
}

export const agentStatus: Scenario = {
  name: 'agent-status',
  proves: 'every agent runs the kube-proxy-free datapath the values ask for: KPR, native routing, BPF host routing and BPF masquerading',
  expectations: [EXPECT.kubeProxyReplacement, EXPECT.routingNative, EXPECT.hostRoutingBpf, EXPECT.masqueradingBpf, EXPECT.xdpNative],
  async run(run) {
    const pods = (await run.env.kube.listPods(KUBE_SYSTEM, CILIUM_AGENT_SELECTOR)).filter((p) => p.phase === 'Running' && !p.terminating);
    if (pods.length === 0) run.skip('no running cilium agent pod to ask (see cilium-agents-ready)');
    const readings = await mapLimit(pods, 5, async (pod: KubePod): Promise<AgentReading> => {
      const node = pod.nodeName ?? '?';
      const result = await execRecorded(run, { namespace: KUBE_SYSTEM, pod: pod.name, container: CILIUM_AGENT_CONTAINER }, STATUS_COMMAND);
      if (result.exitCode !== 0) return { node, pod: pod.name, error: `exit ${result.exitCode}${result.error ? ` (${result.error})` : ''}` };
      try {
        return { node, pod: pod.name, facts: parseCiliumStatus(result.stdout) };
      } catch (error) {
        return { node, pod: pod.name, error: (error as Error).message };
      }
    });
    assertAll(run, EXPECT.kubeProxyReplacement, readings, (f) => f.kubeProxyReplacement, 'True');
    assertAll(run, EXPECT.routingNative, readings, (f) => f.interHostRouting, 'Native');
    assertAll(run, EXPECT.hostRoutingBpf, readings, (f) => f.intraHostRouting, 'BPF');
    assertAll(run, EXPECT.masqueradingBpf, readings, (f) => (f.masqueradingEnabled ? f.masqueradingMode : 'disabled'), 'BPF');

    const config = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'cilium-config');
    const acceleration = config?.data['bpf-lb-acceleration'] ?? '';
    run.record(`get configmap ${KUBE_SYSTEM}/cilium-config: bpf-lb-acceleration`, acceleration || '(not set)');
    if (acceleration === 'native') {
      assertAll(run, EXPECT.xdpNative, readings, (f) => f.nodePortAcceleration, 'Native');
    }
  },
};
