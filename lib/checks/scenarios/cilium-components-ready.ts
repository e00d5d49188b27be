/** The cluster-wide parts of Cilium: operator, Hubble relay and Hubble UI. */
import { EXPECT } from '../expectations.js';
import { KUBE_SYSTEM, describeWorkload, workloadReady } from '../helpers.js';
import type { Scenario } from '../types.js';

const COMPONENTS = [
  ['cilium-operator', EXPECT.ciliumOperatorReady],
  ['hubble-relay', EXPECT.hubbleRelayReady],
  ['hubble-ui', EXPECT.hubbleUiReady],
] as const;

export const ciliumComponentsReady: Scenario = {
  name: 'cilium-components-ready',
  proves: 'the Cilium operator (IPAM, identities GC) and Hubble relay/UI (flow visibility) are running',
  expectations: COMPONENTS.map(([, e]) => e),
  async run(run) {
    for (const [name, expectation] of COMPONENTS) {
      const d = await run.env.kube.getDeployment(KUBE_SYSTEM, name);
      run.record(`get deployment ${KUBE_SYSTEM}/${name}`, describeWorkload(d, name));
      run.expect(expectation, workloadReady(d), describeWorkload(d, name));
    }
  },
};
