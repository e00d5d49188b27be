/** netpod (control plane) -> webpod1 and webpod2 (workers) by pod IP: native routing between nodes. */
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import type { Scenario } from '../types.js';
import { curlWhoami } from '../netpod.js';

export const podToPod: Scenario<DatapathPods> = {
  name: 'pod-to-pod',
  proves: 'a pod reaches pods on other nodes by pod IP over native routing, and the peer sees the client pod IP',
  expectations: [EXPECT.podReachesPod, EXPECT.clientIpPreserved],
  async run(run) {
    const { netpod, webpods } = run.fixture;
    const reached: string[] = [];
    const unreached: string[] = [];
    const peers: string[] = [];
    const wrongPeers: string[] = [];
    for (const webpod of webpods) {
      const { answer, failure } = await curlWhoami(run, `http://${webpod.podIp}/`);
      const where = `${webpod.name} (${webpod.podIp} on ${webpod.nodeName})`;
      if (!answer) unreached.push(`${where}: ${failure}`);
      else if (answer.hostname !== webpod.name) unreached.push(`${where}: answered by ${answer.hostname}`);
      else {
        reached.push(where);
        (answer.remoteIp === netpod.podIp ? peers : wrongPeers).push(`${webpod.name} saw ${answer.remoteIp}`);
      }
    }
    run.expect(
      EXPECT.podReachesPod,
      unreached.length === 0,
      unreached.length === 0 ? `netpod (${netpod.podIp} on ${netpod.nodeName}) reached ${reached.join(', ')}` : unreached.join('; '),
    );
    if (reached.length > 0) {
      run.expect(
        EXPECT.clientIpPreserved,
        wrongPeers.length === 0,
        wrongPeers.length === 0 ? `${peers.join(', ')} (netpod's own IP)` : `${wrongPeers.join(', ')}, want netpod's ${netpod.podIp}`,
      );
    }
  },
};
