#!/usr/bin/env bash
# Prepares a node's primary NIC for Cilium's NodePort XDP acceleration on AWS ENA. Run as root
# on every Kubernetes node over SSM Run Command, BEFORE Cilium is installed.
#
# What Cilium's kube-proxy-free guide asks of ENA for XDP:
#   - MTU <= 3498: an XDP buffer is one 4 KiB page (instances come up at the VPC's 9001);
#   - combined channels <= half of the maximum `ethtool -l` reports (XDP_TX needs a TX queue
#     for every RX queue);
#   - ENA driver >= 2.2.8 (amzn-drivers numbering; since Linux 5.7 the in-tree driver reports
#     the kernel release instead, which is accepted).
#
# Steps: find the interface of the default IPv4 route; check everything before changing
# anything; set the MTU and channels live; persist them (netplan drop-in matched by MAC with the
# DHCP MTU ignored, and a systemd oneshot for the channels, which ENA resets at every boot);
# read them back; print a before/after summary. A second run changes nothing.
#
# Parameters (environment variables):
#   LAB_NIC_MTU=3498        target MTU; above 3498 is refused while LAB_NIC_XDP is true.
#   LAB_NIC_XDP=true        true|false. false: any MTU up to the device's maximum, channels
#                           left as they are, no driver version check.
#   LAB_NIC_INTERFACE=      interface to tune; empty: the device of the default IPv4 route.
#   LAB_NIC_ROOT=/          prefix of the persistence files. Anything but / is a test render:
#                           files go under it, and neither systemctl nor netplan runs.
#   LAB_NIC_ETHTOOL=ethtool the ethtool binary (tests point it at a stand-in).
# `netplan apply` never runs (it can bounce the link): the live `ip link set` already applied.
#
# Output: the summary on stdout, log lines on stderr, and as the last stdout line:
#   CILIUM_LAB_NIC {"interface":"ens5","mtuBefore":9001,"mtuAfter":3498,...,"changed":true}
# Exit status: 0 done (changed or not); 2 bad parameter or environment; 3 driver refused;
# 4 no interface to tune; 5 a setting did not take.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none: tune-nic.sh takes its parameters from the environment, see above)
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only

readonly NIC_XDP_MAX_MTU=3498
readonly NIC_ENA_MIN_VERSION=2.2.8
readonly NIC_NETPLAN_FILE=etc/netplan/90-cilium-lab-mtu.yaml
readonly NIC_UNIT_NAME=cilium-lab-nic-channels.service
readonly NIC_UNIT_FILE=etc/systemd/system/${NIC_UNIT_NAME}
readonly NIC_REPORT_TAG=CILIUM_LAB_NIC

NIC_MTU=""
NIC_XDP=""
NIC_ROOT=""
NIC_LIVE_ROOT=false
NIC_ETHTOOL=""
NIC_IF=""
NIC_MAC=""
NIC_DRIVER=""
NIC_DRIVER_VERSION=""
NIC_MTU_BEFORE=""
NIC_MTU_AFTER=""
NIC_CH_MAX=""
NIC_CH_BEFORE=""
NIC_CH_AFTER=""
NIC_CH_TARGET=""
NIC_NETPLAN_STATE="-"
NIC_UNIT_STATE=""
NIC_LINK_WAS_UP=false
NIC_INSTALLED=""
NIC_CHANGES=()

nic::read_parameters() {
  NIC_MTU=${LAB_NIC_MTU:-3498}
  case "${LAB_NIC_XDP:-true}" in
    true | yes | 1 | on) NIC_XDP=true ;;
    false | no | 0 | off) NIC_XDP=false ;;
    *) log::error_exit 2 "LAB_NIC_XDP='${LAB_NIC_XDP}' is not true or false" ;;
  esac
  if ! [[ "$NIC_MTU" =~ ^[1-9][0-9]{1,4}$ ]] || ((NIC_MTU < 68)); then
    log::error_exit 2 "LAB_NIC_MTU='${NIC_MTU}' is not an MTU (a whole number from 68)"
  fi
  if [[ "$NIC_XDP" == true ]] && ((NIC_MTU > NIC_XDP_MAX_MTU)); then
    log::error_exit 2 "LAB_NIC_MTU=${NIC_MTU} is above ${NIC_XDP_MAX_MTU}, the largest MTU ENA accepts with an XDP program attached (Cilium NodePort XDP); set LAB_NIC_MTU to ${NIC_XDP_MAX_MTU} or less, or LAB_NIC_XDP=false to tune without XDP"
  fi
  NIC_ROOT=$(realpath -m -- "${LAB_NIC_ROOT:-/}")
  [[ "$NIC_ROOT" == / ]] && NIC_LIVE_ROOT=true
  NIC_ETHTOOL=${LAB_NIC_ETHTOOL:-ethtool}
  command -v -- "$NIC_ETHTOOL" >/dev/null ||
    log::error_exit 2 "LAB_NIC_ETHTOOL='${NIC_ETHTOOL}' is not a command (apt-get install ethtool)"
  ((EUID == 0)) || log::error_exit 2 "run as root: the MTU and channels of a NIC need CAP_NET_ADMIN"
}

nic::find_interface() {
  if [[ -n "${LAB_NIC_INTERFACE:-}" ]]; then
    NIC_IF=$LAB_NIC_INTERFACE
    [[ -e "/sys/class/net/${NIC_IF}" ]] || log::error_exit 4 "LAB_NIC_INTERFACE=${NIC_IF}: no such interface"
  else
    NIC_IF=$(net::default_route_interface)
    [[ -n "$NIC_IF" ]] || log::error_exit 4 "no default IPv4 route to find the primary NIC by; set LAB_NIC_INTERFACE"
    [[ -e "/sys/class/net/${NIC_IF}" ]] || log::error_exit 4 "the default route's device ${NIC_IF} is not in /sys/class/net"
  fi
  NIC_MAC=$(<"/sys/class/net/${NIC_IF}/address")
  [[ "$NIC_MAC" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] ||
    log::error_exit 4 "${NIC_IF} has no Ethernet MAC address (${NIC_MAC:-none}) to match it by"
}

nic::read_mtu() {
  cat "/sys/class/net/${NIC_IF}/mtu"
}

# nic::read_channels: "MAX CURRENT" combined channels of NIC_IF, nothing when the driver
# reports none (veth, virtio without multiqueue, ...).
nic::read_channels() {
  local out
  out=$("$NIC_ETHTOOL" -l "$NIC_IF" 2>/dev/null) || return 0
  awk '
    /^Pre-set maximums:/ { section = "max"; next }
    /^Current hardware settings:/ { section = "cur"; next }
    /^Combined:/ && $2 ~ /^[0-9]+$/ { combined[section] = $2 }
    END { if (combined["max"] > 0 && combined["cur"] != "") print combined["max"], combined["cur"] }' <<<"$out"
}

nic::read_driver() {
  local out
  out=$("$NIC_ETHTOOL" -i "$NIC_IF" 2>/dev/null) || out=""
  NIC_DRIVER=$(awk -F': *' '$1 == "driver" { print $2; exit }' <<<"$out")
  NIC_DRIVER_VERSION=$(awk -F': *' '$1 == "version" { print $2; exit }' <<<"$out")
  NIC_DRIVER=${NIC_DRIVER:-unknown}
}

# nic::version_at_least VERSION MINIMUM: compares major.minor.patch numerically; a suffix of
# letters (2.13.0g from GitHub builds, 2.1.0K in-tree) is ignored.
nic::version_at_least() {
  local -a have want
  local i h w
  IFS=. read -r -a have <<<"${1%%[!0-9.]*}"
  IFS=. read -r -a want <<<"$2"
  for i in 0 1 2; do
    h=$((10#${have[i]:-0}))
    w=$((10#${want[i]:-0}))
    if ((h > w)); then
      return 0
    elif ((h < w)); then
      return 1
    fi
  done
  return 0
}

nic::check_driver() {
  if [[ "$NIC_DRIVER" != ena ]]; then
    log::info "${NIC_IF} uses driver ${NIC_DRIVER}, not ENA: the ENA checks do not apply"
    return 0
  fi
  [[ "$NIC_XDP" == true ]] || return 0
  local version=$NIC_DRIVER_VERSION
  if [[ "$version" == "$(uname -r)" || "$version" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?- ]]; then
    log::info "ENA is the in-tree driver of kernel ${version} (since Linux 5.7 it reports the kernel release, not an amzn-drivers version): no ${NIC_ENA_MIN_VERSION} check to make"
  elif [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+[A-Za-z]?$ ]]; then
    nic::version_at_least "$version" "$NIC_ENA_MIN_VERSION" ||
      log::error_exit 3 "ENA driver ${version} on ${NIC_IF} is older than ${NIC_ENA_MIN_VERSION}, the first that Cilium's NodePort XDP works with; use a newer kernel or amzn-drivers ENA, or LAB_NIC_XDP=false"
  else
    log::error_exit 3 "cannot read the ENA driver version of ${NIC_IF} ('${version}') to check it is at least ${NIC_ENA_MIN_VERSION}; set LAB_NIC_XDP=false to tune without XDP"
  fi
}

nic::check_max_mtu() {
  local max
  max=$(ip -d link show dev "$NIC_IF" | grep -o 'maxmtu [0-9]*' | awk '{ print $2; exit }') || max=""
  if [[ -n "$max" ]] && ((NIC_MTU > max)); then
    log::error_exit 2 "LAB_NIC_MTU=${NIC_MTU} is above ${max}, the largest MTU ${NIC_IF} (${NIC_DRIVER}) takes"
  fi
}

nic::link_is_up() {
  local state
  state=$(<"/sys/class/net/${NIC_IF}/operstate") || return 1
  [[ "$state" == up || "$state" == unknown ]] || return 1
}

nic::set_live() {
  if ((NIC_MTU_BEFORE != NIC_MTU)); then
    ip link set dev "$NIC_IF" mtu "$NIC_MTU" ||
      log::error_exit 5 "ip link set dev ${NIC_IF} mtu ${NIC_MTU} failed"
    NIC_CHANGES+=("mtu")
    log::info "${NIC_IF}: MTU ${NIC_MTU_BEFORE} -> ${NIC_MTU}"
  fi
  if [[ -n "$NIC_CH_TARGET" ]] && ((NIC_CH_BEFORE != NIC_CH_TARGET)); then
    "$NIC_ETHTOOL" -L "$NIC_IF" combined "$NIC_CH_TARGET" ||
      log::error_exit 5 "${NIC_ETHTOOL} -L ${NIC_IF} combined ${NIC_CH_TARGET} failed"
    NIC_CHANGES+=("channels")
    log::info "${NIC_IF}: combined channels ${NIC_CH_BEFORE} -> ${NIC_CH_TARGET} (max ${NIC_CH_MAX})"
  fi
}

# nic::install_file FILE MODE CONTENT: FILE holds CONTENT (and a newline) with MODE afterwards.
# An identical file is left alone; a new one is renamed into place. NIC_INSTALLED says what was
# done: written, "mode set to MODE" or unchanged.
nic::install_file() {
  local file=$1 mode=$2 content=$3 dir tmp
  dir=$(dirname "$file")
  install -d -m 0755 "$dir"
  tmp=$(mktemp "${dir}/.$(basename "$file").XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    NIC_INSTALLED=unchanged
    if [[ "$(stat -c %a "$file")" != "$mode" ]]; then
      chmod "$mode" "$file"
      NIC_INSTALLED="mode set to ${mode}"
    fi
    return 0
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$file"
  NIC_INSTALLED=written
}

nic::netplan_yaml() {
  cat <<YAML
# Written by cilium-lab (scripts/node/tune-nic.sh): the MTU of ${NIC_IF} for Cilium NodePort XDP.
# Merged with cloud-init's definition of the same interface; use-mtu: false keeps a DHCP
# renewal from putting the VPC's 9001 back.
network:
  version: 2
  ethernets:
    ${NIC_IF}:
      match:
        macaddress: "${NIC_MAC}"
      set-name: ${NIC_IF}
      dhcp4: true
      mtu: ${NIC_MTU}
      dhcp4-overrides:
        use-mtu: false
YAML
}

nic::channels_unit() {
  local ethtool_path
  ethtool_path=$(command -v -- "$NIC_ETHTOOL")
  [[ "$ethtool_path" == /* ]] || ethtool_path=$(realpath -- "$ethtool_path")
  cat <<UNIT
# Written by cilium-lab (scripts/node/tune-nic.sh). ENA comes up with all its queues at every
# boot; Cilium's NodePort XDP needs at most half of them. Runs before kubelet starts Cilium.
[Unit]
Description=cilium-lab: ${NIC_CH_TARGET} combined channels on ${NIC_IF} for Cilium XDP
Wants=network-online.target
After=network-online.target
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${ethtool_path} -L ${NIC_IF} combined ${NIC_CH_TARGET}

[Install]
WantedBy=multi-user.target
UNIT
}

nic::persist() {
  local netplan="${NIC_ROOT%/}/${NIC_NETPLAN_FILE}" unit="${NIC_ROOT%/}/${NIC_UNIT_FILE}"
  nic::install_file "$netplan" 600 "$(nic::netplan_yaml)"
  [[ "$NIC_INSTALLED" == unchanged ]] || NIC_CHANGES+=("netplan")
  NIC_NETPLAN_STATE="${netplan}: ${NIC_INSTALLED}"
  if [[ "$NIC_LIVE_ROOT" == true ]] && command -v netplan >/dev/null; then
    local merged
    if merged=$(netplan get "ethernets.${NIC_IF}.mtu" 2>/dev/null); then
      [[ "$merged" == "$NIC_MTU" ]] ||
        log::error_exit 5 "netplan's merged configuration gives ${NIC_IF} MTU '${merged}', not ${NIC_MTU}: a later file in /etc/netplan overrides ${netplan}"
    else
      log::info "netplan get is not available: the merged netplan configuration was not checked"
    fi
  fi

  if [[ -z "$NIC_CH_TARGET" ]]; then
    NIC_UNIT_STATE="none: no channels to set"
    return 0
  fi
  local state
  nic::install_file "$unit" 644 "$(nic::channels_unit)"
  state=$NIC_INSTALLED
  [[ "$state" == unchanged ]] || NIC_CHANGES+=("unit")
  if [[ "$NIC_LIVE_ROOT" != true ]]; then
    NIC_UNIT_STATE="${unit}: ${state} (not enabled: LAB_NIC_ROOT is not /)"
    return 0
  fi
  [[ "$state" == unchanged ]] || systemctl daemon-reload
  if ! systemctl is-enabled --quiet "$NIC_UNIT_NAME" 2>/dev/null; then
    systemctl enable --quiet "$NIC_UNIT_NAME"
    NIC_CHANGES+=("unit enabled")
    state="${state}, enabled"
  else
    state="${state}, enabled already"
  fi
  NIC_UNIT_STATE="${unit}: ${state}"
}

nic::verify() {
  if ((${#NIC_CHANGES[@]} > 0)) && [[ "$NIC_LINK_WAS_UP" == true ]]; then
    retry::until_deadline "${NIC_IF} back up after the change" 5 nic::link_is_up ||
      log::error_exit 5 "${NIC_IF} did not come back up after the change"
  fi
  NIC_MTU_AFTER=$(nic::read_mtu)
  ((NIC_MTU_AFTER == NIC_MTU)) ||
    log::error_exit 5 "${NIC_IF} has MTU ${NIC_MTU_AFTER} after setting ${NIC_MTU}"
  read -r _ NIC_CH_AFTER <<<"$(nic::read_channels)"
  if [[ -n "$NIC_CH_TARGET" ]]; then
    [[ "$NIC_CH_AFTER" == "$NIC_CH_TARGET" ]] ||
      log::error_exit 5 "${NIC_IF} has ${NIC_CH_AFTER:-no} combined channels after setting ${NIC_CH_TARGET}"
  fi
}

# nic::json_string TEXT: TEXT as a JSON string (control characters dropped).
nic::json_string() {
  local text=$1
  text=${text//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "$(printf '%s' "$text" | tr -d '\000-\037')"
}

# nic::json_number VALUE: VALUE when it is a whole number, else null.
nic::json_number() {
  if [[ "$1" =~ ^[0-9]+$ ]]; then printf '%s' "$1"; else printf 'null'; fi
}

nic::report() {
  local changed=false channels
  ((${#NIC_CHANGES[@]} == 0)) || changed=true
  if [[ -z "$NIC_CH_MAX" ]]; then
    channels="not reported by ${NIC_DRIVER}: skipped"
  elif [[ -z "$NIC_CH_TARGET" ]]; then
    channels="${NIC_CH_BEFORE} (max ${NIC_CH_MAX}), left alone: LAB_NIC_XDP=false"
  else
    channels="${NIC_CH_BEFORE} -> ${NIC_CH_AFTER} (max ${NIC_CH_MAX})"
  fi
  printf 'NIC %s (MAC %s, driver %s %s, XDP %s)\n' "$NIC_IF" "$NIC_MAC" "$NIC_DRIVER" "${NIC_DRIVER_VERSION:-?}" \
    "$([[ "$NIC_XDP" == true ]] && echo wanted || echo 'not wanted')"
  printf '  %-9s %s -> %s\n' mtu "$NIC_MTU_BEFORE" "$NIC_MTU_AFTER"
  printf '  %-9s %s\n' channels "$channels" netplan "$NIC_NETPLAN_STATE" unit "$NIC_UNIT_STATE"
  printf '  %-9s %s\n' changed "$( ((${#NIC_CHANGES[@]} == 0)) && echo nothing || echo "${NIC_CHANGES[*]}")"
  printf '%s {"interface":%s,"mac":%s,"mtuBefore":%s,"mtuAfter":%s,"channelsBefore":%s,"channelsAfter":%s,"channelsMax":%s,"driver":%s,"driverVersion":%s,"xdp":%s,"changed":%s}\n' \
    "$NIC_REPORT_TAG" "$(nic::json_string "$NIC_IF")" "$(nic::json_string "$NIC_MAC")" \
    "$(nic::json_number "$NIC_MTU_BEFORE")" "$(nic::json_number "$NIC_MTU_AFTER")" \
    "$(nic::json_number "$NIC_CH_BEFORE")" "$(nic::json_number "$NIC_CH_AFTER")" "$(nic::json_number "$NIC_CH_MAX")" \
    "$(nic::json_string "$NIC_DRIVER")" "$(nic::json_string "$NIC_DRIVER_VERSION")" "$NIC_XDP" "$changed"
}

nic::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  lab::deadline_start 120
  nic::read_parameters
  nic::find_interface
  nic::read_driver
  nic::check_driver
  nic::check_max_mtu
  NIC_MTU_BEFORE=$(nic::read_mtu)
  read -r NIC_CH_MAX NIC_CH_BEFORE <<<"$(nic::read_channels)"
  if [[ -z "$NIC_CH_MAX" ]]; then
    log::info "${NIC_IF} (driver ${NIC_DRIVER}) reports no combined channels: skipping channels"
  elif [[ "$NIC_XDP" == true ]]; then
    NIC_CH_TARGET=$((NIC_CH_MAX / 2))
    ((NIC_CH_TARGET >= 1)) || NIC_CH_TARGET=1
  fi
  NIC_LINK_WAS_UP=false
  nic::link_is_up && NIC_LINK_WAS_UP=true
  nic::set_live
  nic::persist
  nic::verify
  nic::report
}

# `${BASH_SOURCE[0]:-$0}`: also runs when the rendered script is fed to bash on stdin.
if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  nic::main "$@"
fi
