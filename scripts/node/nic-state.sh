#!/usr/bin/env bash
# Reads the NIC state `lab check` compares with the tuning, as root over SSM Run Command on every
# Kubernetes node: the default-route NIC's live MTU and combined channels (`ethtool -l`), what
# tune-nic.sh persisted (the netplan drop-in's mtu, the systemd unit's `combined N`), and whether
# an XDP program is attached to it and in which mode, from `ip -details link show`: the flags
# carry `xdp` (driver, native), `xdpgeneric` (skb), `xdpoffload` or `xdpmulti`, and the detail
# line `prog/xdp... id N` names the program (iproute2 ip/iplink_xdp.c). Changes nothing.
#
# Parameters (environment variables):
#   LAB_NIC_INTERFACE=          the NIC to read; empty: the device of the default IPv4 route.
#   LAB_NIC_ETHTOOL=ethtool     the ethtool binary (tests point it at a stand-in).
#   LAB_NIC_NETPLAN, LAB_NIC_CHANNELS_UNIT   the files tune-nic.sh writes (tests point them elsewhere).
#
# Output: a summary line, then as the last stdout line:
#   CILIUM_LAB_NIC_STATE {"interface":"ens5","mtu":3498,"wantMtu":3498,"channels":2,"maxChannels":4,"wantChannels":2,"xdp":"driver","xdpProgId":1234,"xdpForwarded":17}
# A number that cannot be read is null; xdp is driver, generic, offload, multi or none.
# Exit status: 0 (an unreadable fact is null, not an error).
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none: nic-state.sh takes its parameters from the environment, see above)
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only

NIC_STATE_TAG="CILIUM_LAB_NIC_STATE"

# state::num TEXT: TEXT when it is a whole number, else null.
state::num() {
  if [[ "$1" =~ ^[0-9]+$ ]]; then printf '%s' "$1"; else printf 'null'; fi
}

# state::xdp_mode LINK_DETAILS: driver, generic, offload, multi or none, from the flags line.
state::xdp_mode() {
  local first
  first=$(head -n 1 <<<"$1")
  case " ${first} " in
    *" xdpgeneric "*) echo generic ;;
    *" xdpoffload "*) echo offload ;;
    *" xdpmulti "*) echo multi ;;
    *" xdp "* | *" xdpdrv "*) echo driver ;;
    *) echo none ;;
  esac
}

state::main() {
  local nic=${LAB_NIC_INTERFACE:-} ethtool=${LAB_NIC_ETHTOOL:-ethtool}
  local netplan=${LAB_NIC_NETPLAN:-/etc/netplan/90-cilium-lab-mtu.yaml}
  local unit=${LAB_NIC_CHANNELS_UNIT:-/etc/systemd/system/cilium-lab-nic-channels.service}
  local mtu="" channels="" max_channels="" want_mtu="" want_channels="" link="" xdp=none prog="" ring="" stats="" xdp_forwarded=""
  [[ -n "$nic" ]] || nic=$(net::default_route_interface)
  if [[ -n "$nic" && -e "/sys/class/net/${nic}" ]]; then
    mtu=$(<"/sys/class/net/${nic}/mtu")
    if command -v -- "$ethtool" >/dev/null; then ring=$("$ethtool" -l "$nic" 2>/dev/null) || ring=""; fi
    channels=$(awk '/^Current hardware settings:/ { s = 1 } s && /^Combined:/ { print $2; exit }' <<<"$ring")
    max_channels=$(awk '/^Pre-set maximums:/ { s = 1 } s && /^Combined:/ { print $2; exit }' <<<"$ring")
    # Packets the XDP program sent on itself (XDP_TX, XDP_REDIRECT: a NodePort request load-balanced
    # to another node), where the driver counts them (ENA: queue_N_rx_xdp_tx and _redirect in
    # `ethtool -S`); empty when it exposes none. XDP_PASS is left out: every packet passes the hook.
    if command -v -- "$ethtool" >/dev/null; then stats=$("$ethtool" -S "$nic" 2>/dev/null) || stats=""; fi
    xdp_forwarded=$(awk -F': *' '$1 ~ /_xdp_(tx|redirect)$/ { n++; sum += $2 } END { if (n > 0) print sum }' <<<"$stats")
    link=$(ip -details link show dev "$nic" 2>/dev/null) || link=""
    xdp=$(state::xdp_mode "$link")
    prog=$(sed -n 's|^ *prog/xdp[a-z]* id \([0-9][0-9]*\).*|\1|p' <<<"$link")
    prog=${prog%%$'\n'*}
  fi
  if [[ -f "$netplan" ]]; then want_mtu=$(awk '$1 == "mtu:" { print $2; exit }' "$netplan"); fi
  if [[ -f "$unit" ]]; then want_channels=$(sed -n 's/^ExecStart=.* combined \([0-9][0-9]*\)$/\1/p' "$unit"); fi
  want_channels=${want_channels%%$'\n'*}
  echo "interface ${nic:-none}: mtu ${mtu:-?} (persisted ${want_mtu:-none}), channels ${channels:-?} (persisted ${want_channels:-none}), XDP ${xdp}${prog:+ (program ${prog})}"
  printf '%s {"interface":"%s","mtu":%s,"wantMtu":%s,"channels":%s,"maxChannels":%s,"wantChannels":%s,"xdp":"%s","xdpProgId":%s,"xdpForwarded":%s}\n' \
    "$NIC_STATE_TAG" "$nic" "$(state::num "$mtu")" "$(state::num "$want_mtu")" "$(state::num "$channels")" \
    "$(state::num "$max_channels")" "$(state::num "$want_channels")" "$xdp" "$(state::num "$prog")" "$(state::num "$xdp_forwarded")"
}

state::main "$@"
