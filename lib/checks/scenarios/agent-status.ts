/**
 * What each agent says about its own datapath (`cilium-dbg status -o json`, exec'd in every
 * cilium agent pod): the facts the study reads off `cilium status` by hand, each held to what the
 * cluster's own cilium-config asks (lib/checks/datapath-settings.ts), whatever overlay or values
 * file was installed; every verdict names the keys it came from. XDP acceleration is asserted only
 * when cilium-config asks for it.
 */
import type { KubePod } from '../../kube/types.js';
import { expectedAgentStatus, readDatapathSettings, type AgentExpectation } from '../datapath-settings.js';
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
  wanted: AgentExpectation,
): void {
  const wrong = readings.filter((r) => !r.facts || field(r.facts) !== wanted.want);
  const detail =
    wrong.length === 0
      ? `${wanted.want} on ${readings.length} agent(s), as ${wanted.because}`
      : wrong.map((r) => `${r.node}: ${r.facts ? (field(r.facts) ?? 'not reported') : r.error}`).join(', ') + ` (want ${wanted.want}: ${wanted.because})`;
  run.expect(expectation, wrong.length === 0, detail);
}

export const agentStatus: Scenario = {
  name: 'agent-status',
  proves: 'every agent runs the datapath its cilium-config asks for (the lab: kube-proxy replacement, native routing, BPF host routing, BPF masquerading, XDP)',
  expectations: [EXPECT.kubeProxyReplacement, EXPECT.routing, EXPECT.hostRouting, EXPECT.masquerading, EXPECT.xdpAcceleration],
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
    const config = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'cilium-config');
    if (!config) throw new Error(`configmap ${KUBE_SYSTEM}/cilium-config not found: nothing says what the agents should run`);
    const settings = readDatapathSettings(config.data);
    run.record(`get configmap ${KUBE_SYSTEM}/cilium-config`, Object.entries(settings.source).map(([k, v]) => `${k}: ${v}`).join('\n'));
    const want = expectedAgentStatus(settings);
    assertAll(run, EXPECT.kubeProxyReplacement, readings, (f) => f.kubeProxyReplacement, want.kubeProxyReplacement);
    assertAll(run, EXPECT.routing, readings, (f) => f.interHostRouting, want.routing);
    assertAll(run, EXPECT.hostRouting, readings, (f) => f.intraHostRouting, want.hostRouting);
    assertAll(run, EXPECT.masquerading, readings, (f) => (f.masqueradingEnabled ? f.masqueradingMode : 'disabled'), want.masquerading);
    if (want.acceleration) assertAll(run, EXPECT.xdpAcceleration, readings, (f) => f.nodePortAcceleration, want.acceleration);
  },
};
