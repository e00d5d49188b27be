/** netpod -> webpod.<namespace>.svc.cluster.local: CoreDNS answers over the service datapath too. */
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import type { Scenario } from '../types.js';
import { curlWhoami } from '../netpod.js';

export const podToServiceDns: Scenario<DatapathPods> = {
  name: 'pod-to-service-dns',
  proves: 'a pod resolves a Service by name through CoreDNS (itself a ClusterIP service) and reaches a backend',
  expectations: [EXPECT.serviceDnsAnswers],
  async run(run) {
    const { service, webpods } = run.fixture;
    const name = `${service.name}.${service.namespace}.svc.cluster.local`;
    const { answer, failure } = await curlWhoami(run, `http://${name}/`);
    const backends = webpods.map((w) => w.name);
    run.expect(
      EXPECT.serviceDnsAnswers,
      answer !== undefined && backends.includes(answer.hostname),
      answer ? `${name} answered by ${answer.hostname}${backends.includes(answer.hostname) ? '' : ` (not one of ${backends.join(', ')})`}` : failure,
    );
  },
};
