#!/usr/bin/env bash
# Reads the facts `lab preflight` judges on a Kubernetes node, as root over SSM Run Command:
# the kernel release (`uname -r`), the NIC of the default IPv4 route, its driver and driver
# version (`ethtool -i`) and its MTU. Changes nothing; the judging happens in the CLI
# (lib/lab/preflight.ts), which knows what the lab's Cilium version and values need.
#
# Parameters (environment variables):
#   LAB_FACTS_INTERFACE=      the NIC to read; empty: the device of the default IPv4 route.
#   LAB_FACTS_ETHTOOL=ethtool the ethtool binary (tests point it at a stand-in).
#
# Output: a summary line, then as the last stdout line:
#   CILIUM_LAB_FACTS {"kernel":"6.8.0-1021-aws","interface":"ens5","driver":"ena","driverVersion":"6.8.0-1021-aws","mtu":9001}
# A fact that cannot be read is an empty string (null for the MTU).
# Exit status: 0 facts printed; 4 no interface to read.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none: node-facts.sh takes its parameters from the environment, see above)
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only

# facts::json_string TEXT: TEXT as a JSON string (control characters dropped).
facts::json_string() {
  local text=$1
  text=${text//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "$(printf '%s' "$text" | tr -d '\000-\037')"
}

facts::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  local nic=${LAB_FACTS_INTERFACE:-} ethtool=${LAB_FACTS_ETHTOOL:-ethtool} kernel info="" driver="" version="" mtu=null
  kernel=$(uname -r)
  [[ -n "$nic" ]] || nic=$(net::default_route_interface)
  [[ -n "$nic" && -e "/sys/class/net/${nic}" ]] ||
    log::error_exit 4 "no NIC to read: ${nic:-no default IPv4 route}; set LAB_FACTS_INTERFACE"
  if command -v -- "$ethtool" >/dev/null; then
    info=$("$ethtool" -i "$nic" 2>/dev/null) || info=""
  else
    log::info "${ethtool} is not installed: the driver of ${nic} is not known (apt-get install ethtool)"
  fi
  driver=$(awk -F': *' '$1 == "driver" { print $2; exit }' <<<"$info")
  version=$(awk -F': *' '$1 == "version" { print $2; exit }' <<<"$info")
  if [[ -r "/sys/class/net/${nic}/mtu" ]]; then
    mtu=$(<"/sys/class/net/${nic}/mtu")
    [[ "$mtu" =~ ^[0-9]+$ ]] || mtu=null
  fi
  printf 'kernel %s, NIC %s, driver %s %s, MTU %s\n' "$kernel" "$nic" "${driver:-?}" "${version:-?}" "$mtu"
  printf 'CILIUM_LAB_FACTS {"kernel":%s,"interface":%s,"driver":%s,"driverVersion":%s,"mtu":%s}\n' \
    "$(facts::json_string "$kernel")" "$(facts::json_string "$nic")" "$(facts::json_string "$driver")" \
    "$(facts::json_string "$version")" "$mtu"
}

# `${BASH_SOURCE[0]:-$0}`: also runs when the rendered script is fed to bash on stdin or -c.
if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  facts::main "$@"
fi
