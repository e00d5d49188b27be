/**
 * netpod (control plane) -> webpod1 and webpod2 (workers) by pod IP: native routing between nodes.
 * The source the backend sees is held to cilium-config: netpod's pod IP, or its node's IP where
 * Cilium masquerades pod-to-pod traffic (lib/checks/datapath-settings.ts).
 */
import type { DatapathPods } from '../datapath-fixture.js';
import { expectedSource } from '../datapath-settings.js';
import { EXPECT } from '../expectations.js';
import type { Scenario } from '../types.js';
import { curlWhoami } from '../netpod.js';

export const podToPod: Scenario<DatapathPods> = {
  name: 'pod-to-pod',
  proves: 'a pod reaches pods on other nodes by pod IP, and the peer sees the source cilium-config implies (the lab: the client pod IP, no SNAT)',
  expectations: [EXPECT.podReachesPod, EXPECT.sourceAsConfigured],
  async run(run) {
    const { netpod, webpods, settings } = run.fixture;
    const reached: string[] = [];
    const unreached: string[] = [];
    const peers: string[] = [];
    const wrongPeers: string[] = [];
    for (const webpod of webpods) {
      const { answer, failure, retried } = await curlWhoami(run, `http://${webpod.podIp}/`);
      const where = `${webpod.name} (${webpod.podIp} on ${webpod.nodeName})`;
      if (!answer) unreached.push(`${where}: ${failure}`);
      else if (answer.hostname !== webpod.name) unreached.push(`${where}: answered by ${answer.hostname}`);
      else {
        reached.push(retried ? `${where} [${retried}]` : where);
        const { want, because } = expectedSource(settings, netpod, webpod.podIp ?? '');
        if (want.includes(answer.remoteIp ?? '')) peers.push(`${webpod.name} saw ${answer.remoteIp} (${because})`);
        else wrongPeers.push(`${webpod.name} saw ${answer.remoteIp}, want ${want.join(' or ')} (${because})`);
      }
    }
    run.expect(
      EXPECT.podReachesPod,
      unreached.length === 0,
      unreached.length === 0 ? `netpod (${netpod.podIp} on ${netpod.nodeName}) reached ${reached.join(', ')}` : unreached.join('; '),
    );
    if (reached.length > 0) {
      run.expect(EXPECT.sourceAsConfigured, wrongPeers.length === 0, wrongPeers.length === 0 ? peers.join('; ') : wrongPeers.join('; '));
    }
  },
};
