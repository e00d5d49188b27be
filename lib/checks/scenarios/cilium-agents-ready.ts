/** The cilium DaemonSet covers every node, and each node's agent pod is Ready. */
import { EXPECT } from '../expectations.js';
import { CILIUM_AGENT_SELECTOR, KUBE_SYSTEM, describeWorkload } from '../helpers.js';
import type { Scenario } from '../types.js';

export const ciliumAgentsReady: Scenario = {
  name: 'cilium-agents-ready',
  proves: 'a Cilium agent runs and is Ready on every node of the lab',
  expectations: [EXPECT.ciliumDaemonSetReady, EXPECT.ciliumAgentOnEveryNode],
  async run(run) {
    const want = run.env.lab.nodes.length;
    const ds = await run.env.kube.getDaemonSet(KUBE_SYSTEM, 'cilium');
    run.record(`get daemonset ${KUBE_SYSTEM}/cilium`, describeWorkload(ds, 'cilium'));
    const dsOk = ds !== undefined && ds.desired === want && ds.ready === ds.desired;
    run.expect(
      EXPECT.ciliumDaemonSetReady,
      dsOk,
      ds ? `desired ${ds.desired}, ready ${ds.ready}, nodes in the lab ${want}` : 'no cilium DaemonSet in kube-system',
    );
    const pods = await run.env.kube.listPods(KUBE_SYSTEM, CILIUM_AGENT_SELECTOR);
    run.record(
      `list pods ${KUBE_SYSTEM} -l ${CILIUM_AGENT_SELECTOR}`,
      pods.map((p) => `${p.name} ${p.nodeName ?? '-'} ${p.phase} ${p.ready ? 'Ready' : 'NotReady'}`).join('\n') || 'none',
    );
    const missing = run.env.lab.nodes
      .filter((n) => !pods.some((p) => p.nodeName === n.name && p.ready && !p.terminating))
      .map((n) => {
        const pod = pods.find((p) => p.nodeName === n.name);
        return pod ? `${n.name} (${pod.name} ${pod.phase}, not Ready)` : `${n.name} (no agent pod)`;
      });
    run.expect(
      EXPECT.ciliumAgentOnEveryNode,
      missing.length === 0,
      missing.length === 0 ? `a Ready agent on each of ${want} nodes` : `no Ready agent on ${missing.join(', ')}`,
    );
  },
};
