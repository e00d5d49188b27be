/**
 * HostPort done by Cilium in eBPF, not by the portmap plugin: the `hostport` pod (hostPort 8080
 * on the first worker) answers on its node's IP from netpod on another node and from hostclient
 * on the same node (pod -> its own node's IP:hostPort, which portmap's iptables DNAT did not
 * hairpin); the agent on that node reports HostPort enabled and has the HostPort frontend in its
 * service table (`cilium-dbg service list`), and the node has no CNI-HOSTPORT iptables rules.
 */
import type { KubePod } from '../../kube/types.js';
import { HOST_PORT, type DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { CILIUM_AGENT_CONTAINER, CILIUM_AGENT_SELECTOR, KUBE_SYSTEM, execRecorded, remoteRecorded } from '../helpers.js';
import { parseCiliumStatus, parseServiceList, taggedJson } from '../parsers.js';
import type { Scenario, ScenarioRun } from '../types.js';
import { curlWhoami } from '../netpod.js';
import { STATUS_COMMAND } from './agent-status.js';
import { IPTABLES_SCRIPT, IPTABLES_TAG } from './no-kube-svc-rules.js';

export const SERVICE_LIST_COMMAND = ['cilium-dbg', 'service', 'list', '-o', 'json'] as const;

/** `from` -> url, answered by the hostport pod or not (shared with the portmap profile's scenario). */
export async function reachHostPort(run: ScenarioRun<DatapathPods>, from: KubePod, url: string, hostport: KubePod): Promise<{ ok: boolean; detail: string }> {
  const { answer, failure, retried } = await curlWhoami(run, url, from);
  const ok = answer?.hostname === hostport.name;
  return {
    ok,
    detail: answer ? `${from.name} (on ${from.nodeName}) -> ${url}: answered by ${answer.hostname}${retried ? ` [${retried}]` : ''}` : `${from.name} (on ${from.nodeName}) -> ${failure}`,
  };
}

export const hostPort: Scenario<DatapathPods> = {
  name: 'hostport',
  proves: 'a HostPort is served by Cilium in eBPF: reachable on its node\'s IP from another node and from its own node, in the agent\'s service table, with no portmap iptables rules',
  expectations: [EXPECT.hostPortReachable, EXPECT.hostPortSameNode, EXPECT.hostPortAgent, EXPECT.hostPortServiceEntry, EXPECT.noCniHostportRules],
  async run(run) {
    const { hostport, hostclient, netpod } = run.fixture;
    const url = `http://${hostport.hostIp}:${HOST_PORT}/`;
    const remote = await reachHostPort(run, netpod, url, hostport);
    run.expect(EXPECT.hostPortReachable, remote.ok, remote.detail);
    const local = await reachHostPort(run, hostclient, url, hostport);
    run.expect(EXPECT.hostPortSameNode, local.ok, local.detail);

    // The agent on the hostport pod's node: HostPort on, and the frontend in its service table.
    const agents = await run.env.kube.listPods(KUBE_SYSTEM, CILIUM_AGENT_SELECTOR);
    const agent = agents.find((p) => p.nodeName === hostport.nodeName && p.phase === 'Running' && !p.terminating);
    if (!agent) throw new Error(`no running cilium agent on ${hostport.nodeName} to ask about HostPort`);
    const target = { namespace: KUBE_SYSTEM, pod: agent.name, container: CILIUM_AGENT_CONTAINER };
    const status = await execRecorded(run as ScenarioRun<unknown>, target, STATUS_COMMAND);
    let enabled: boolean | undefined;
    try {
      enabled = status.exitCode === 0 ? parseCiliumStatus(status.stdout).hostPort : undefined;
    } catch {
      enabled = undefined;
    }
    run.expect(EXPECT.hostPortAgent, enabled === true, `${agent.name} on ${hostport.nodeName}: HostPort ${enabled === undefined ? `not reported (exit ${status.exitCode})` : enabled ? 'enabled' : 'disabled'}`);
    const list = await execRecorded(run as ScenarioRun<unknown>, target, SERVICE_LIST_COMMAND);
    let entries: ReturnType<typeof parseServiceList> = [];
    let problem = '';
    try {
      entries = list.exitCode === 0 ? parseServiceList(list.stdout) : [];
      if (list.exitCode !== 0) problem = `cilium-dbg service list exit ${list.exitCode}${list.error ? ` (${list.error})` : ''}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    const hostPorts = entries.filter((e) => e.type === 'HostPort' && e.port === HOST_PORT);
    const served = hostPorts.filter((e) => e.backends > 0);
    run.expect(
      EXPECT.hostPortServiceEntry,
      served.length > 0,
      problem ||
        (served.length > 0
          ? `HostPort frontends ${served.map((e) => `${e.ip}:${e.port} (${e.backends} backend(s))`).join(', ')}`
          : `no HostPort frontend on port ${HOST_PORT} with a backend among ${entries.length} service entries (${hostPorts.length} without backends)`),
    );

    // No portmap: the node's iptables hold no CNI-HOSTPORT rules.
    const node = run.env.lab.nodes.find((n) => n.name === hostport.nodeName);
    if (!node || !run.env.remote) return;
    const [r] = await remoteRecorded(run as ScenarioRun<unknown>, 'iptables-save | grep CNI-HOSTPORT', [node], IPTABLES_SCRIPT);
    const facts = r ? taggedJson(r.stdout, IPTABLES_TAG) : undefined;
    const rules = typeof facts?.cniHostportRules === 'number' ? facts.cniHostportRules : undefined;
    run.expect(
      EXPECT.noCniHostportRules,
      rules === 0,
      rules === undefined ? `${node.name}: no answer (${r?.status ?? 'no result'}, exit ${r?.exitCode ?? '?'})` : `${node.name}: ${rules} CNI-HOSTPORT rule(s)`,
    );
  },
};
