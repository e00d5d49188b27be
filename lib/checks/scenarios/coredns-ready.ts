/** CoreDNS runs: it stays Pending until a CNI gives its pods an address. */
import { EXPECT } from '../expectations.js';
import { KUBE_SYSTEM, describeWorkload, workloadReady } from '../helpers.js';
import type { Scenario } from '../types.js';

export const corednsReady: Scenario = {
  name: 'coredns-ready',
  proves: 'cluster DNS is up, so pods can resolve Service names',
  expectations: [EXPECT.corednsReady],
  async run(run) {
    const d = await run.env.kube.getDeployment(KUBE_SYSTEM, 'coredns');
    run.record(`get deployment ${KUBE_SYSTEM}/coredns`, describeWorkload(d, 'coredns'));
    run.expect(EXPECT.corednsReady, workloadReady(d), describeWorkload(d, 'coredns'));
  },
};
