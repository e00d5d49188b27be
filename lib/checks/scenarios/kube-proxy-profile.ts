/**
 * Profile kube-proxy: the mirror image of the default checks. kube-proxy runs (kubeadm's addon:
 * its DaemonSet ready on every node, its ConfigMap), Services live in iptables (KUBE-SVC chains on
 * every node), and HostPort is the portmap plugin's: reachable from another node and from its own,
 * with CNI-HOSTPORT-DNAT rules on the hostport pod's node.
 * https://docs.cilium.io/en/stable/installation/cni-chaining-portmap/
 */
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { KUBE_SYSTEM, describeWorkload, remoteRecorded, workloadReady } from '../helpers.js';
import { taggedJson } from '../parsers.js';
import type { Scenario, ScenarioRun } from '../types.js';
import { reachHostPort } from './hostport.js';
import { IPTABLES_SCRIPT, IPTABLES_TAG } from './no-kube-svc-rules.js';
import { HOST_PORT } from '../datapath-fixture.js';

export const kubeProxyPresent: Scenario = {
  name: 'kube-proxy-present',
  proves: 'kubeadm installed kube-proxy and it runs on every node (the profile keeps it)',
  expectations: [EXPECT.kubeProxyDaemonSet, EXPECT.kubeProxyConfigMap],
  async run(run) {
    const ds = await run.env.kube.getDaemonSet(KUBE_SYSTEM, 'kube-proxy');
    run.record(`get daemonset ${KUBE_SYSTEM}/kube-proxy`, ds ? describeWorkload(ds, 'kube-proxy') : 'NotFound');
    const cm = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'kube-proxy');
    run.record(`get configmap ${KUBE_SYSTEM}/kube-proxy`, cm ? `found, keys: ${Object.keys(cm.data).join(', ') || 'none'}` : 'NotFound');
    const nodes = run.env.lab.nodes.length;
    const ready = workloadReady(ds) && (ds?.desired ?? 0) >= nodes;
    run.expect(EXPECT.kubeProxyDaemonSet, ready, ds ? `${describeWorkload(ds, 'kube-proxy')}, ${nodes} node(s) in the lab` : 'no kube-proxy DaemonSet');
    run.expect(EXPECT.kubeProxyConfigMap, cm !== undefined, cm ? 'kube-proxy ConfigMap present' : 'no kube-proxy ConfigMap');
  },
};

export const kubeSvcRulesPresent: Scenario = {
  name: 'kube-svc-rules-present',
  proves: 'Services are programmed in iptables by kube-proxy: every node carries KUBE-SVC chains',
  expectations: [EXPECT.kubeSvcRulesPresent],
  async run(run) {
    const results = await remoteRecorded(run, 'iptables-save | grep KUBE-SVC', run.env.lab.nodes, IPTABLES_SCRIPT);
    const problems: string[] = [];
    const seen: string[] = [];
    for (const r of results) {
      const facts = taggedJson(r.stdout, IPTABLES_TAG);
      if (r.status !== 'Success' || !facts) {
        problems.push(`${r.name}: no answer (${r.status}, exit ${r.exitCode})`);
        continue;
      }
      const rules = Number(facts.kubeSvcRules);
      seen.push(`${r.name} ${rules} KUBE-SVC rule(s)`);
      if (!(rules > 0)) problems.push(`${r.name}: no KUBE-SVC rule (kube-proxy programs none)`);
    }
    run.expect(EXPECT.kubeSvcRulesPresent, problems.length === 0, problems.length === 0 ? seen.join(', ') : problems.join('; '));
  },
};

export const hostPortPortmap: Scenario<DatapathPods> = {
  name: 'hostport-portmap',
  proves: 'a HostPort works through the portmap plugin chained behind Cilium: reachable from another node and from its own, with CNI-HOSTPORT-DNAT rules',
  expectations: [EXPECT.hostPortReachable, EXPECT.hostPortSameNode, EXPECT.cniHostportRules],
  async run(run) {
    const { hostport, hostclient, netpod } = run.fixture;
    const url = `http://${hostport.hostIp}:${HOST_PORT}/`;
    const remote = await reachHostPort(run, netpod, url, hostport);
    run.expect(EXPECT.hostPortReachable, remote.ok, remote.detail);
    const local = await reachHostPort(run, hostclient, url, hostport);
    run.expect(EXPECT.hostPortSameNode, local.ok, local.detail);
    const node = run.env.lab.nodes.find((n) => n.name === hostport.nodeName);
    if (!node || !run.env.remote) return;
    const [r] = await remoteRecorded(run as ScenarioRun<unknown>, 'iptables-save | grep CNI-HOSTPORT', [node], IPTABLES_SCRIPT);
    const facts = r ? taggedJson(r.stdout, IPTABLES_TAG) : undefined;
    const rules = typeof facts?.cniHostportRules === 'number' ? facts.cniHostportRules : undefined;
    run.expect(EXPECT.cniHostportRules, (rules ?? 0) > 0, rules === undefined ? `${node.name}: no answer` : `${node.name}: ${rules} CNI-HOSTPORT rule(s)`);
  },
};
