/**
 * Hubble relay sees the datapath scenarios' traffic: `hubble observe` against the relay's
 * ClusterIP, exec'd in the cilium agent on netpod's node (the agent image ships the hubble CLI;
 * the relay image does not). Runs after the traffic scenarios of its check. Flows reach the relay
 * with a short lag, so it reads again until
 * the deadline (CheckOptions.hubbleWaitMs).
 */
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { CILIUM_AGENT_CONTAINER, CILIUM_AGENT_SELECTOR, KUBE_SYSTEM, execRecorded } from '../helpers.js';
import { parseHubbleFlows, type FlowSummary } from '../parsers.js';
import { pollUntil } from '../../kube/wait.js';
import type { Scenario } from '../types.js';

export function hubbleObserveCommand(server: string, pod: string): string[] {
  return ['hubble', 'observe', '--server', server, '--pod', pod, '--last', '200', '-o', 'json'];
}

export const hubbleFlows: Scenario<DatapathPods> = {
  name: 'hubble-flows',
  proves: 'Hubble (agents and relay) records the flows of the test traffic, as the study reads them in the UI',
  expectations: [EXPECT.hubbleSeesNetpod],
  async run(run) {
    const { netpod, namespace } = run.fixture;
    const relay = await run.env.kube.getService(KUBE_SYSTEM, 'hubble-relay');
    const port = relay?.ports[0]?.port;
    if (!relay?.clusterIp || port === undefined) throw new Error('service kube-system/hubble-relay not found (hubble.relay.enabled?)');
    const agents = await run.env.kube.listPods(KUBE_SYSTEM, CILIUM_AGENT_SELECTOR);
    const agent = agents.find((p) => p.nodeName === netpod.nodeName && p.phase === 'Running' && !p.terminating);
    if (!agent) throw new Error(`no running cilium agent on ${netpod.nodeName} to run the hubble CLI in`);

    const subject = `${namespace}/${netpod.name}`;
    const command = hubbleObserveCommand(`${relay.clusterIp}:${port}`, subject);
    let lastFlows: FlowSummary[] = [];
    const involving = (f: FlowSummary) => f.source === subject || f.destination === subject;
    const found = await pollUntil(
      `hubble relay returned no flow of ${subject}`,
      async () => {
        const result = await execRecorded(run, { namespace: KUBE_SYSTEM, pod: agent.name, container: CILIUM_AGENT_CONTAINER }, command);
        if (result.exitCode !== 0) {
          return { done: false, seen: `hubble observe exit ${result.exitCode}: ${(result.stderr.trim() || result.error).split('\n').pop()}` };
        }
        lastFlows = parseHubbleFlows(result.stdout);
        const mine = lastFlows.filter(involving);
        return mine.length > 0 ? { done: true, value: mine } : { done: false, seen: `${lastFlows.length} flow(s), none of ${subject}` };
      },
      { timeoutMs: run.env.options.hubbleWaitMs, pollIntervalMs: Math.min(run.env.options.pollIntervalMs, 5_000), signal: run.env.signal },
    ).catch((error: Error) => error);

    if (found instanceof Error) {
      run.expect(EXPECT.hubbleSeesNetpod, false, found.message);
      return;
    }
    const peers = [...new Set(found.map((f) => (f.source === subject ? f.destination : f.source)))];
    run.expect(EXPECT.hubbleSeesNetpod, true, `${found.length} flow(s) of ${subject}, peers: ${peers.slice(0, 6).join(', ')}`);
  },
};
