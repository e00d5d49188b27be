/**
 * The NIC tuning for XDP (scripts/node/tune-nic.sh) still holds: on each node the live MTU and
 * combined channels equal what the tuning persisted (the netplan drop-in's mtu, the systemd
 * unit's `ethtool -L ... combined N`). A DHCP renewal or a reboot that lost them would show here.
 * Skipped when no node was tuned: then there is nothing to compare against.
 */
import { EXPECT } from '../expectations.js';
import { remoteRecorded } from '../helpers.js';
import { taggedJson } from '../parsers.js';
import type { Scenario } from '../types.js';

export const NIC_STATE_TAG = 'CILIUM_LAB_NIC_STATE';
export const NETPLAN_FILE = '/etc/netplan/90-cilium-lab-mtu.yaml';
export const CHANNELS_UNIT = '/etc/systemd/system/cilium-lab-nic-channels.service';

export const NIC_STATE_SCRIPT = `set -o nounset -o pipefail
num() { if [[ "$1" =~ ^[0-9]+$ ]]; then printf '%s' "$1"; else printf 'null'; fi; }
iface=$(ip -4 route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
mtu=""; channels=""; max_channels=""; want_mtu=""; want_channels=""
if [[ -n "$iface" && -e "/sys/class/net/$iface" ]]; then
  mtu=$(cat "/sys/class/net/$iface/mtu")
  channels=$(ethtool -l "$iface" 2>/dev/null | awk '/^Current hardware settings:/ { s = 1 } s && /^Combined:/ { print $2; exit }')
  max_channels=$(ethtool -l "$iface" 2>/dev/null | awk '/^Pre-set maximums:/ { s = 1 } s && /^Combined:/ { print $2; exit }')
fi
if [[ -f ${NETPLAN_FILE} ]]; then want_mtu=$(awk '$1 == "mtu:" { print $2; exit }' ${NETPLAN_FILE}); fi
if [[ -f ${CHANNELS_UNIT} ]]; then want_channels=$(sed -n 's/^ExecStart=.* combined \\([0-9][0-9]*\\)$/\\1/p' ${CHANNELS_UNIT} | head -n 1); fi
echo "interface \${iface:-none}: mtu \${mtu:-?} (persisted \${want_mtu:-none}), channels \${channels:-?} (persisted \${want_channels:-none})"
printf '${NIC_STATE_TAG} {"interface":"%s","mtu":%s,"wantMtu":%s,"channels":%s,"maxChannels":%s,"wantChannels":%s}\\n' \\
  "\${iface}" "$(num "$mtu")" "$(num "$want_mtu")" "$(num "$channels")" "$(num "$max_channels")" "$(num "$want_channels")"
`;

interface NicState {
  readonly node: string;
  readonly mtu: number | null;
  readonly wantMtu: number | null;
  readonly channels: number | null;
  readonly wantChannels: number | null;
}

const n = (value: unknown): number | null => (typeof value === 'number' ? value : null);

export const nicTuning: Scenario = {
  name: 'nic-tuning',
  proves: 'the NIC settings XDP needs (MTU, combined channels) are still what the tuning set on every node',
  expectations: [EXPECT.mtuAsTuned, EXPECT.channelsAsTuned],
  async run(run) {
    const results = await remoteRecorded(run, 'read NIC MTU and channels', run.env.lab.nodes, NIC_STATE_SCRIPT);
    const states: NicState[] = [];
    const unreadable: string[] = [];
    for (const r of results) {
      const facts = taggedJson(r.stdout, NIC_STATE_TAG);
      if (r.status !== 'Success' || !facts) unreadable.push(`${r.name}: no answer (${r.status}, exit ${r.exitCode}${r.note ? `; ${r.note}` : ''})`);
      else states.push({ node: r.name, mtu: n(facts.mtu), wantMtu: n(facts.wantMtu), channels: n(facts.channels), wantChannels: n(facts.wantChannels) });
    }
    const tuned = states.filter((s) => s.wantMtu !== null);
    if (tuned.length === 0 && unreadable.length === 0) {
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
