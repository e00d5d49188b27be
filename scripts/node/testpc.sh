#!/usr/bin/env bash
# User data of the test host (testpc): a plain Ubuntu machine outside the cluster, in the
# second subnet, with the tools the study's NodePort and curl tests use. Signals CloudFormation.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (the renderer replaces this block; these are examples for running by hand)
LAB_NODE_NAME="testpc"
LAB_NODE_IP="192.168.20.100"
LAB_READY_URL="http://127.0.0.1:9/wait-condition-handle"
LAB_DEADLINE_SECONDS="1500"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only

testpc::main() {
  lab::start_log
  lab::install_traps
  lab::deadline_start "$LAB_DEADLINE_SECONDS"
  hostnamectl set-hostname "$LAB_NODE_NAME"
  printf 'preserve_hostname: true\n' >/etc/cloud/cloud.cfg.d/99-cilium-lab-hostname.cfg
  apt::update
  apt::install curl jq dnsutils iperf3 tcpdump netcat-openbsd
  lab::signal SUCCESS "test host ready at ${LAB_NODE_IP}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  testpc::main "$@"
fi
