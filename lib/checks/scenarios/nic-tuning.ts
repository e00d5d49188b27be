/**
 * The NIC tuning for XDP (scripts/node/tune-nic.sh) still holds, and XDP is really attached: on
 * each node the live MTU and combined channels equal what the tuning persisted (the netplan
 * drop-in's mtu, the systemd unit's `ethtool -L ... combined N`; a DHCP renewal or a reboot that
 * lost them would show here), and where cilium-config asks for native acceleration
 * (bpf-lb-acceleration=native) the default-route NIC carries an XDP program in driver mode
 * (`ip -details link show`: generic mode would mean the driver refused native XDP).
 * Skipped when no node was tuned and XDP is not asked for: then there is nothing to compare against.
 */
import { EXPECT } from '../expectations.js';
import { renderLabScript } from '../../lab/remote.js';
import { KUBE_SYSTEM, remoteRecorded } from '../helpers.js';
import { taggedJson } from '../parsers.js';
import type { Scenario } from '../types.js';

export const NIC_STATE_TAG = 'CILIUM_LAB_NIC_STATE';
export const NETPLAN_FILE = '/etc/netplan/90-cilium-lab-mtu.yaml';
export const CHANNELS_UNIT = '/etc/systemd/system/cilium-lab-nic-channels.service';

/** scripts/node/nic-state.sh, rendered (lib.sh inlined): the live and the persisted NIC state, and XDP. */
export function nicStateScript(): string {
  return renderLabScript('nic-state.sh');
}

interface NicState {
  readonly node: string;
  readonly interface: string;
  readonly xdp: string;
  readonly xdpProgId: number | null;
  readonly mtu: number | null;
  readonly wantMtu: number | null;
  readonly channels: number | null;
  readonly wantChannels: number | null;
}

const n = (value: unknown): number | null => (typeof value === 'number' ? value : null);

export const nicTuning: Scenario = {
  name: 'nic-tuning',
  proves: 'the NIC settings XDP needs (MTU, combined channels) are still what the tuning set on every node, and XDP is attached in driver mode where cilium-config asks for it',
  expectations: [EXPECT.mtuAsTuned, EXPECT.channelsAsTuned, EXPECT.xdpAttached],
  async run(run) {
    const config = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'cilium-config');
    const acceleration = config?.data['bpf-lb-acceleration'] ?? 'disabled';
    const results = await remoteRecorded(run, 'read NIC MTU, channels and XDP', run.env.lab.nodes, nicStateScript());
    const states: NicState[] = [];
    const unreadable: string[] = [];
    for (const r of results) {
      const facts = taggedJson(r.stdout, NIC_STATE_TAG);
      if (r.status !== 'Success' || !facts) unreadable.push(`${r.name}: no answer (${r.status}, exit ${r.exitCode}${r.note ? `; ${r.note}` : ''})`);
      else
        states.push({
          node: r.name,
          interface: typeof facts.interface === 'string' ? facts.interface : '?',
          mtu: n(facts.mtu),
          wantMtu: n(facts.wantMtu),
          channels: n(facts.channels),
          wantChannels: n(facts.wantChannels),
          xdp: typeof facts.xdp === 'string' ? facts.xdp : 'not reported',
          xdpProgId: n(facts.xdpProgId),
        });
    }
    if (acceleration === 'native') {
      // Native acceleration: the program must sit in the driver (generic/skb mode is the silent fallback).
      const notDriver = states.filter((s) => s.xdp !== 'driver');
      run.expect(
        EXPECT.xdpAttached,
        notDriver.length === 0 && unreadable.length === 0,
        notDriver.length === 0 && unreadable.length === 0
          ? `${states.map((s) => `${s.node} ${s.interface}: XDP program ${s.xdpProgId ?? '?'} in driver mode`).join(', ')} (cilium-config bpf-lb-acceleration=native)`
          : [...unreadable, ...notDriver.map((s) => `${s.node} ${s.interface}: XDP ${s.xdp}, want driver mode (cilium-config bpf-lb-acceleration=native)`)].join('; '),
      );
    }
    const tuned = states.filter((s) => s.wantMtu !== null);
    if (tuned.length === 0 && unreadable.length === 0) {
      if (acceleration === 'native') return;
      run.skip(`no node was tuned (no ${NETPLAN_FILE}): nothing to compare; run the NIC tuning first to check it`);
    }
    const mtuProblems = [
      ...unreadable,
      ...states.filter((s) => s.wantMtu === null).map((s) => `${s.node}: not tuned (no ${NETPLAN_FILE}) while other nodes are`),
      ...tuned.filter((s) => s.mtu !== s.wantMtu).map((s) => `${s.node}: MTU ${s.mtu ?? '?'}, tuned to ${s.wantMtu}`),
    ];
    run.expect(
      EXPECT.mtuAsTuned,
      mtuProblems.length === 0,
      mtuProblems.length === 0 ? tuned.map((s) => `${s.node} MTU ${s.mtu}`).join(', ') : mtuProblems.join('; '),
    );
    const withChannels = states.filter((s) => s.wantChannels !== null);
    if (withChannels.length > 0) {
      const wrong = withChannels.filter((s) => s.channels !== s.wantChannels);
      run.expect(
        EXPECT.channelsAsTuned,
        wrong.length === 0,
        wrong.length === 0
          ? withChannels.map((s) => `${s.node} ${s.channels} channels`).join(', ')
          : wrong.map((s) => `${s.node}: ${s.channels ?? '?'} combined channels, tuned to ${s.wantChannels}`).join('; '),
      );
    }
  },
};
