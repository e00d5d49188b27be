#!/usr/bin/env bash
# Counts the devices of Cilium's pod endpoints on a node (the host side, lxc*), by kind, as root
# over SSM Run Command (`lab check` of profile netkit): `ip -details -oneline link show` names
# each device's kind in its details ("veth", or "netkit mode l3 ..."). Changes nothing.
#
# Output, as the last stdout line:
#   CILIUM_LAB_DEVICES {"netkit":4,"veth":0,"other":0,"sample":"lxc1a2b3c: netkit"}
# Exit status: 0 (no endpoint device is 0 of each).
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none)
# lab:values end

DEVICES_TAG="CILIUM_LAB_DEVICES"

devices::main() {
  local line name netkit=0 veth=0 other=0 sample=""
  while IFS= read -r line; do
    # "12: lxc1a2b3c@if11: <...> ... \    netkit mode l3 ..." (one line per device with -oneline)
    name=$(awk -F': ' '{ print $2 }' <<<"$line")
    name=${name%%@*}
    [[ "$name" == lxc* && "$name" != lxc_health ]] || continue
    if [[ " $line " == *" netkit "* ]]; then
      netkit=$((netkit + 1))
      [[ -n "$sample" ]] || sample="${name}: netkit"
    elif [[ " $line " == *" veth "* ]]; then
      veth=$((veth + 1))
      [[ -n "$sample" ]] || sample="${name}: veth"
    else
      other=$((other + 1))
    fi
  done < <(ip -details -oneline link show 2>/dev/null || true)
  printf '%s {"netkit":%d,"veth":%d,"other":%d,"sample":"%s"}\n' "$DEVICES_TAG" "$netkit" "$veth" "$other" "$sample"
}

devices::main "$@"
