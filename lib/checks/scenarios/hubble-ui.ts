/**
 * The Hubble UI answers with its page from inside the cluster: netpod -> the hubble-ui Service
 * (kube-system, port 80, as the chart creates it), whose index is the single-page app with
 * `<title>Hubble UI</title>` (public probes of hubble-ui match on exactly that). The UI itself
 * reaches the relay; `lab hubble` forwards it to this machine.
 */
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { KUBE_SYSTEM } from '../helpers.js';
import { curlFromNetpod } from '../netpod.js';
import type { Scenario } from '../types.js';

export const HUBBLE_UI_SERVICE = 'hubble-ui';
export const HUBBLE_UI_TITLE = '<title>Hubble UI</title>';

export const hubbleUi: Scenario<DatapathPods> = {
  name: 'hubble-ui',
  proves: 'the Hubble UI is served through its Service inside the cluster (what `lab hubble` forwards to this machine)',
  expectations: [EXPECT.hubbleUiAnswers],
  async run(run) {
    const service = await run.env.kube.getService(KUBE_SYSTEM, HUBBLE_UI_SERVICE);
    if (!service) throw new Error(`service ${KUBE_SYSTEM}/${HUBBLE_UI_SERVICE} not found (hubble.ui.enabled?)`);
    const port = service.ports[0]?.port ?? 80;
    const url = `http://${HUBBLE_UI_SERVICE}.${KUBE_SYSTEM}.svc.cluster.local:${port}/`;
    const { failure, retried } = await curlFromNetpod(run, url, (r) => r.stdout.includes(HUBBLE_UI_TITLE));
    run.expect(EXPECT.hubbleUiAnswers, failure === '', failure === '' ? `${url} answered with the Hubble UI page${retried ? ` [${retried}]` : ''}` : failure);
  },
};
