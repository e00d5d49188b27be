/** netpod -> <node IP>:8080, the hostPort of the `hostport` pod on a worker: eBPF HostPort without portmap. */
import { HOST_PORT, type DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import type { Scenario } from '../types.js';
import { curlWhoami } from '../netpod.js';

export const hostPort: Scenario<DatapathPods> = {
  name: 'hostport',
  proves: 'a HostPort is reachable on its node\'s IP from another node (Cilium handles HostPort in eBPF)',
  expectations: [EXPECT.hostPortReachable],
  async run(run) {
    const { hostport } = run.fixture;
    const url = `http://${hostport.hostIp}:${HOST_PORT}/`;
    const { answer, failure, retried } = await curlWhoami(run, url);
    run.expect(
      EXPECT.hostPortReachable,
      answer?.hostname === hostport.name,
      answer ? `${url} (${hostport.nodeName}) answered by ${answer.hostname}${retried ? ` [${retried}]` : ''}` : failure,
    );
  },
};
