#!/usr/bin/env bash
# User data of the router of profile bgp: an Ubuntu 24.04 instance with one interface in each lab
# subnet (the second is attached just after launch), forwarding between them, and FRR's bgpd
# peering with every Kubernetes node's Cilium BGP control plane (the study's router at
# 192.168.10.200 and 192.168.20.200, AS 65000). The FRR configuration is rendered by the lab
# (lib/bgp/frr-config.ts) and checked with FRR's own parser before bgpd starts. Signals
# CloudFormation when bgpd runs it: its router-id, a neighbour for every Kubernetes node.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (the renderer replaces this block; these are examples for running by hand)
LAB_NODE_NAME="router"
LAB_NODE_IP="192.168.10.200"
LAB_READY_URL="http://127.0.0.1:9/wait-condition-handle"
LAB_DEADLINE_SECONDS="1500"
LAB_HOSTS="192.168.10.10 k8s-s,192.168.10.101 k8s-w1,192.168.20.101 k8s-w2,192.168.10.200 router,192.168.20.100 testpc"
LAB_SECOND_ADDRESS="192.168.20.200/24"
LAB_FRR_CONF_B64="ZnJyIGRlZmF1bHRzIHRyYWRpdGlvbmFsCg=="
LAB_BGP_PEERS="3"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only

# Where the router keeps its files (variables for tests).
ROUTER_FRR_DIR="${ROUTER_FRR_DIR:-/etc/frr}"
ROUTER_SYSCTL_DIR="${ROUTER_SYSCTL_DIR:-/etc/sysctl.d}"
ROUTER_CLOUD_CFG_DIR="${ROUTER_CLOUD_CFG_DIR:-/etc/cloud/cloud.cfg.d}"
ROUTER_SECOND_INTERFACE=""

# router::forwarding: forwards between its interfaces, and spreads ECMP by layer 4 (policy 1:
# source and destination address and port, Linux Documentation/networking/ip-sysctl.rst
# fib_multipath_hash_policy), so testpc's connections to one LoadBalancer IP reach several nodes
# instead of the one its address pair hashes to. No ICMP redirects: a packet from testpc to the
# node behind the router leaves by the interface it came in on, and a redirect would teach testpc
# to bypass the router the lab is about.
router::forwarding() {
  cat >"${ROUTER_SYSCTL_DIR}/90-cilium-lab-router.conf" <<'SYSCTL'
net.ipv4.ip_forward = 1
net.ipv4.fib_multipath_hash_policy = 1
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
SYSCTL
  sysctl -p "${ROUTER_SYSCTL_DIR}/90-cilium-lab-router.conf" >/dev/null
  [[ "$(sysctl -n net.ipv4.ip_forward)" == "1" ]] || log::error_exit 10 "net.ipv4.ip_forward is not 1 after sysctl"
}

# router::find_second_interface: the Ethernet interface that is not the default route's (the ENI
# CloudFormation attaches at device index 1 after launch); fails while there is none, and for
# good (LAB_PERMANENT_ERROR) when there are several.
router::find_second_interface() {
  local primary candidates
  primary=$(net::default_route_interface)
  candidates=$(ip -o link show | awk -v primary="$primary" '/link\/ether/ { name = $2; sub(/:$/, "", name); sub(/@.*/, "", name); if (name != primary) print name }')
  if [[ -z "$candidates" ]]; then
    log::info "the second network interface is not attached yet"
    return 1
  fi
  if (($(wc -l <<<"$candidates") > 1)); then
    LAB_PERMANENT_ERROR="more than one interface besides ${primary}: $(paste -sd " " <<<"$candidates")"
    return 1
  fi
  ROUTER_SECOND_INTERFACE=$candidates
}

# router::keep_network_config: cloud-init renders the network config only for a new instance, not
# again on a hotplug (Ubuntu 24.04 turns hotplug on for EC2: it would add DHCP and a policy route
# table for the second ENI after this boot set it up) nor at later boots: the netplan files this
# script writes stay the router's. cloud-init docs, "Events and updates": `updates: network: when`
# (user control of update events: canonical/cloud-init#834).
router::keep_network_config() {
  printf 'updates:\n  network:\n    when: [boot-new-instance]\n' >"${ROUTER_CLOUD_CFG_DIR}/99-cilium-lab-router-network.cfg"
}

# router::second_interface: gives the second interface its address (LAB_SECOND_ADDRESS, the
# ENI's own private IP) now, and in a netplan file for later boots, matched by its MAC address.
router::second_interface() {
  local dev mac file="${LAB_NETPLAN_DIR}/91-cilium-lab-router.yaml"
  retry::until_deadline "wait for the second network interface" 10 router::find_second_interface || return 1
  dev=$ROUTER_SECOND_INTERFACE
  mac=$(cat "/sys/class/net/${dev}/address")
  cat >"${file}.tmp" <<NETPLAN
network:
  version: 2
  ethernets:
    ${dev}:
      match:
        macaddress: "${mac}"
      set-name: ${dev}
      dhcp4: false
      addresses:
        - ${LAB_SECOND_ADDRESS}
NETPLAN
  chmod 0600 "${file}.tmp"
  mv -f -- "${file}.tmp" "$file"
  ip addr replace "$LAB_SECOND_ADDRESS" dev "$dev"
  ip link set "$dev" up
  log::info "${dev} (${mac}): ${LAB_SECOND_ADDRESS} (kept in ${file})"
}

# router::write_frr_config: the rendered configuration, bgpd switched on in FRR's daemons file.
router::write_frr_config() {
  local conf="${ROUTER_FRR_DIR}/frr.conf"
  base64 -d <<<"$LAB_FRR_CONF_B64" >"${conf}.tmp"
  mv -f -- "${conf}.tmp" "$conf"
  sed -i -E 's/^bgpd=no$/bgpd=yes/' "${ROUTER_FRR_DIR}/daemons"
  grep -qx 'bgpd=yes' "${ROUTER_FRR_DIR}/daemons" || log::error_exit 12 "${ROUTER_FRR_DIR}/daemons does not switch bgpd on"
}

# router::check_frr_config: FRR's own parser (vtysh --dryrun reads the file without applying it);
# a line it refuses stops the boot with FRR's words, before bgpd starts.
router::check_frr_config() {
  local out
  if ! out=$(vtysh --dryrun -f "${ROUTER_FRR_DIR}/frr.conf" 2>&1); then
    log::error_exit 13 "FRR refuses ${ROUTER_FRR_DIR}/frr.conf: $(tr '\n' ' ' <<<"$out" | cut -c 1-400)"
  fi
}

ROUTER_BGP_SUMMARY=""

# router::bgpd_configured: bgpd answers vtysh with the lab's router-id, i.e. FRR has loaded the
# configuration (frrinit applies frr.conf with `vtysh -b` after the daemons start, and a line it
# refuses there does not fail frr.service); the summary is kept in ROUTER_BGP_SUMMARY.
router::bgpd_configured() {
  ROUTER_BGP_SUMMARY=$(vtysh -c 'show bgp summary json' 2>/dev/null) || return 1
  [[ "$(router::summary_field routerId)" == "$LAB_NODE_IP" ]] || return 1
}

# router::summary_field NAME: a field of ROUTER_BGP_SUMMARY's ipv4Unicast part (empty when absent).
router::summary_field() {
  python3 -c 'import json, sys
doc = json.loads(sys.argv[1] or "{}")
print(doc.get("ipv4Unicast", doc).get(sys.argv[2], ""))' "$ROUTER_BGP_SUMMARY" "$1"
}

# router::check_bgpd: bgpd runs the lab's configuration: its router-id, and a neighbour for every
# Kubernetes node (LAB_BGP_PEERS); vtysh --dryrun cannot catch a line that parses but fails to apply.
router::check_bgpd() {
  retry::until_deadline "bgpd runs with router-id ${LAB_NODE_IP}" 10 router::bgpd_configured || return 1
  local peers
  peers=$(router::summary_field peerCount)
  [[ "$peers" == "$LAB_BGP_PEERS" ]] ||
    log::error_exit 14 "bgpd has ${peers:-no} neighbours, not the ${LAB_BGP_PEERS} Kubernetes nodes of frr.conf: FRR did not apply all of it (journalctl -u frr)"
}

router::main() {
  lab::start_log
  lab::install_traps
  lab::deadline_start "$LAB_DEADLINE_SECONDS"
  lab::set_hostname
  router::forwarding
  router::keep_network_config
  router::second_interface
  apt::update
  apt::install frr tcpdump
  router::write_frr_config
  router::check_frr_config
  systemctl restart frr
  router::check_bgpd
  lab::signal SUCCESS "router ready at ${LAB_NODE_IP} and ${LAB_SECOND_ADDRESS%/*}, FRR $(vtysh -c 'show version' 2>/dev/null | awk 'NR == 1 { print $2 }')"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  router::main "$@"
fi
