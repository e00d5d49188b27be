/**
 * Profile netkit: the pods' devices are netkit pairs, not veth. cilium-config asks for
 * `datapath-mode: netkit` (the chart renders it from bpf.datapathMode), and on every node the
 * endpoint devices (lxc*) are of kind netkit, at least one per test pod there, none veth
 * (scripts/node/endpoint-devices.sh reads `ip -details -oneline link show`).
 * https://docs.cilium.io/en/stable/operations/performance/tuning/#netkit-device-mode
 */
import { renderLabScript, taggedJson } from '../../lab/remote.js';
import type { DatapathPods } from '../datapath-fixture.js';
import { EXPECT } from '../expectations.js';
import { KUBE_SYSTEM, remoteRecorded } from '../helpers.js';
import type { Scenario, ScenarioRun } from '../types.js';

export const DEVICES_TAG = 'CILIUM_LAB_DEVICES';

export function endpointDevicesScript(): string {
  return renderLabScript('endpoint-devices.sh');
}

export const netkitDevices: Scenario<DatapathPods> = {
  name: 'netkit-devices',
  proves: 'the pods sit behind netkit devices, not veth pairs, on every node (bpf.datapathMode: netkit)',
  expectations: [EXPECT.netkitConfigured, EXPECT.netkitEndpoints],
  async run(run) {
    const config = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'cilium-config');
    const mode = config?.data['datapath-mode'] ?? '(unset: veth)';
    run.expect(EXPECT.netkitConfigured, mode === 'netkit', `cilium-config datapath-mode=${mode}`);
    const { netpod, webpods, hostport, hostclient } = run.fixture;
    const pods = [netpod, ...webpods, hostport, hostclient];
    const results = await remoteRecorded(run as ScenarioRun<unknown>, 'ip -details -oneline link show (lxc*)', run.env.lab.nodes, endpointDevicesScript());
    const problems: string[] = [];
    const seen: string[] = [];
    for (const r of results) {
      const facts = taggedJson(r.stdout, DEVICES_TAG) as { netkit?: number; veth?: number; sample?: string } | undefined;
      if (r.status !== 'Success' || !facts) {
        problems.push(`${r.name}: no answer (${r.status}, exit ${r.exitCode})`);
        continue;
      }
      const want = pods.filter((p) => p.nodeName === r.name).length;
      const netkit = facts.netkit ?? 0;
      const veth = facts.veth ?? 0;
      seen.push(`${r.name} ${netkit} netkit, ${veth} veth`);
      if (veth > 0) problems.push(`${r.name}: ${veth} veth endpoint device(s) (${facts.sample ?? ''})`);
      if (netkit < want) problems.push(`${r.name}: ${netkit} netkit device(s) for ${want} test pod(s)`);
    }
    run.expect(EXPECT.netkitEndpoints, problems.length === 0, problems.length === 0 ? seen.join(', ') : problems.join('; '));
  },
};
