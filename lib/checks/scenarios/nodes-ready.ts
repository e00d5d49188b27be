/** Every node of the lab is registered and Ready: the CNI is installed and working on all of them. */
import { formatEvent } from '../../kube/types.js';
import { EXPECT } from '../expectations.js';
import type { Scenario } from '../types.js';

export const nodesReady: Scenario = {
  name: 'nodes-ready',
  proves: 'every configured node joined and is Ready, which needs a working CNI (Cilium) on it',
  expectations: [EXPECT.nodesReady],
  async run(run) {
    const nodes = await run.env.kube.listNodes();
    run.record(
      'list nodes',
      nodes.map((n) => `${n.name} ${n.ready ? 'Ready' : 'NotReady'} ${n.internalIp ?? '-'} ${n.conditions.filter((c) => c.type === 'Ready').map((c) => c.reason ?? '').join('')}`).join('\n'),
    );
    const byName = new Map(nodes.map((n) => [n.name, n]));
    const problems: string[] = [];
    for (const want of run.env.lab.nodes) {
      const node = byName.get(want.name);
      if (!node) problems.push(`${want.name} is not registered`);
      else if (!node.ready) {
        const ready = node.conditions.find((c) => c.type === 'Ready');
        problems.push(`${want.name} is NotReady (${ready ? `${ready.status}, ${ready.reason ?? ''}: ${ready.message ?? ''}` : 'no Ready condition'})`);
      }
    }
    if (problems.length > 0) {
      const events = await run.env.kube.getEvents('default').catch(() => []);
      run.events(events.filter((e) => e.object.kind === 'Node').slice(-10).map(formatEvent));
    }
    run.expect(
      EXPECT.nodesReady,
      problems.length === 0,
      problems.length === 0 ? `${run.env.lab.nodes.length}/${run.env.lab.nodes.length} nodes Ready` : problems.join('; '),
    );
  },
};
