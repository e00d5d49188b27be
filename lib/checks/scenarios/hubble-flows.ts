/**
 * Hubble relay proves the datapath scenarios' traffic was forwarded: `hubble observe` against the
 * relay's ClusterIP, exec'd in the cilium agent on netpod's node (the agent image ships the hubble
 * CLI; the relay image does not). For each peer netpod talked to (webpod1, webpod2, the hostport
 * pod) a FORWARDED flow from netpod to it (`--from-pod --to-pod --verdict FORWARDED`), and no
 * DROPPED flow of netpod at all (`--pod --verdict DROPPED`; a drop is reported with Hubble's drop
 * reason). Runs after the traffic scenarios of its check. Flows reach the relay with a short lag,
 * so it reads again until the deadline (CheckOptions.hubbleWaitMs).
 * Flags: https://docs.cilium.io/en/stable/observability/hubble/hubble-cli/ (hubble observe --help).
 */
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { CILIUM_AGENT_CONTAINER, CILIUM_AGENT_SELECTOR, KUBE_SYSTEM, execRecorded } from '../helpers.js';
import { parseHubbleFlows, type FlowSummary } from '../parsers.js';
import { pollUntil } from '../../kube/wait.js';
import type { Scenario, ScenarioRun } from '../types.js';

export type HubbleFilter = { readonly fromPod: string; readonly toPod: string; readonly verdict: 'FORWARDED' } | { readonly pod: string; readonly verdict: 'DROPPED' };

/**
 * `--since` the fixture was set up: the test pods' names are fixed, so without it a drop of an
 * earlier run still in Hubble's ring buffer would fail a clean run.
 */
export function hubbleObserveCommand(server: string, filter: HubbleFilter, since: Date): string[] {
  const selection = 'pod' in filter ? ['--pod', filter.pod] : ['--from-pod', filter.fromPod, '--to-pod', filter.toPod];
  return ['hubble', 'observe', '--server', server, ...selection, '--verdict', filter.verdict, '--since', since.toISOString().replace(/\.\d+Z$/, 'Z'), '--last', '200', '-o', 'json'];
}

export const hubbleFlows: Scenario<DatapathPods> = {
  name: 'hubble-flows',
  proves: 'Hubble (agents and relay) shows netpod\'s traffic to each peer FORWARDED and none of it DROPPED, as the study reads it in the UI',
  expectations: [EXPECT.hubbleForwardedToPeers, EXPECT.hubbleNoDropsOfNetpod],
  async run(run) {
    const { netpod, namespace, webpods, hostport, setUpAt } = run.fixture;
    const relay = await run.env.kube.getService(KUBE_SYSTEM, 'hubble-relay');
    const port = relay?.ports[0]?.port;
    if (!relay?.clusterIp || port === undefined) throw new Error('service kube-system/hubble-relay not found (hubble.relay.enabled?)');
    const agents = await run.env.kube.listPods(KUBE_SYSTEM, CILIUM_AGENT_SELECTOR);
    const agent = agents.find((p) => p.nodeName === netpod.nodeName && p.phase === 'Running' && !p.terminating);
    if (!agent) throw new Error(`no running cilium agent on ${netpod.nodeName} to run the hubble CLI in`);
    const server = `${relay.clusterIp}:${port}`;
    const subject = `${namespace}/${netpod.name}`;
    const observe = async (filter: HubbleFilter): Promise<{ flows: FlowSummary[] } | { failed: string }> => {
      const result = await execRecorded(run as ScenarioRun<unknown>, { namespace: KUBE_SYSTEM, pod: agent.name, container: CILIUM_AGENT_CONTAINER }, hubbleObserveCommand(server, filter, setUpAt));
      if (result.exitCode !== 0) return { failed: `hubble observe exit ${result.exitCode}: ${(result.stderr.trim() || result.error || '').split('\n').pop()}` };
      return { flows: parseHubbleFlows(result.stdout) };
    };

    // FORWARDED to each peer, read again until every peer has one (or the deadline).
    const peers = [...webpods, hostport].map((p) => `${namespace}/${p.name}`);
    const forwarded = new Map<string, number>();
    const waited = await pollUntil(
      `no FORWARDED flow from ${subject}`,
      async () => {
        const lines: string[] = [];
        for (const peer of peers.filter((p) => !forwarded.has(p))) {
          const read = await observe({ fromPod: subject, toPod: peer, verdict: 'FORWARDED' });
          if ('failed' in read) {
            lines.push(`${peer}: ${read.failed}`);
            continue;
          }
          const mine = read.flows.filter((f) => f.source === subject && f.destination === peer && f.verdict === 'FORWARDED');
          if (mine.length > 0) forwarded.set(peer, mine.length);
          else lines.push(`${peer}: ${read.flows.length} flow(s), none FORWARDED from ${subject}`);
        }
        return forwarded.size === peers.length ? { done: true, value: true } : { done: false, seen: lines.join('; ') };
      },
      { timeoutMs: run.env.options.hubbleWaitMs, pollIntervalMs: Math.min(run.env.options.pollIntervalMs, 5_000), signal: run.env.signal },
    ).catch((error: Error) => error);
    run.expect(
      EXPECT.hubbleForwardedToPeers,
      !(waited instanceof Error),
      waited instanceof Error ? `${waited.message} (seen: ${peers.map((p) => `${p} ${forwarded.get(p) ?? 0}`).join(', ')})` : peers.map((p) => `${p}: ${forwarded.get(p)} FORWARDED`).join(', '),
    );

    // No DROPPED flow of netpod, either way.
    const dropped = await observe({ pod: subject, verdict: 'DROPPED' });
    if ('failed' in dropped) {
      run.expect(EXPECT.hubbleNoDropsOfNetpod, false, dropped.failed);
      return;
    }
    const drops = dropped.flows.filter((f) => f.verdict === 'DROPPED' && (f.source === subject || f.destination === subject));
    run.expect(
      EXPECT.hubbleNoDropsOfNetpod,
      drops.length === 0,
      drops.length === 0
        ? `no DROPPED flow of ${subject}`
        : `${drops.length} DROPPED flow(s) of ${subject}: ${drops
            .slice(0, 5)
            .map((f) => `${f.source} -> ${f.destination} (${f.dropReason ?? 'no reason given'})`)
            .join(', ')}`,
    );
  },
};
