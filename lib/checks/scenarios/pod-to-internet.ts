/**
 * netpod -> the internet (checkip.amazonaws.com answers with the caller's public IP). netpod runs
 * on the control plane, so with BPF masquerading its traffic leaves as the node's private IP and
 * the internet sees the node's public (Elastic) IP.
 */
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { IPV4 } from '../parsers.js';
import type { Scenario } from '../types.js';
import { curlFromNetpod } from '../netpod.js';

export const podToInternet: Scenario<DatapathPods> = {
  name: 'pod-to-internet',
  proves: 'pod egress to the internet works and is masqueraded to the node (BPF masquerading)',
  expectations: [EXPECT.internetReachable, EXPECT.egressMasqueraded],
  async run(run) {
    const { options, lab } = run.env;
    if (!options.internet) run.skip('--no-internet: internet egress is not tested');
    // The internet can blink: a bounded retry, every attempt shown (lib/checks/netpod.ts).
    const { result, failure, retried } = await curlFromNetpod(run, options.internetUrl, (r) => IPV4.test(r.stdout.trim()), 10);
    const seen = result.stdout.trim();
    const ok = failure === '';
    run.expect(EXPECT.internetReachable, ok, ok ? `${options.internetUrl} answered, our address is ${seen}${retried ? ` [${retried}]` : ''}` : failure);
    if (ok && lab.controlPlanePublicIp) {
      run.expect(
        EXPECT.egressMasqueraded,
        seen === lab.controlPlanePublicIp,
        seen === lab.controlPlanePublicIp
          ? `seen as ${seen}, the control plane's public IP`
          : `seen as ${seen}, not the control plane's public IP ${lab.controlPlanePublicIp}`,
      );
    }
  },
};
