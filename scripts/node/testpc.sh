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
LAB_HOSTS="192.168.10.10 k8s-s,192.168.10.101 k8s-w1,192.168.10.102 k8s-w2,192.168.20.100 testpc"
LAB_ROUTES=""
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only

# testpc::web_page DIR: the study's test page: a web server on testpc answers `curl localhost`
# (and `curl testpc` from the nodes) with its own name.
testpc::web_page() {
  printf '<h1>Web Server : %s</h1>\n' "$LAB_NODE_NAME" >"$1/index.html"
}

testpc::main() {
  lab::start_log
  lab::install_traps
  lab::deadline_start "$LAB_DEADLINE_SECONDS"
  lab::set_hostname
  net::lab_routes
  apt::update
  apt::install curl jq dnsutils iperf3 tcpdump netcat-openbsd apache2
  testpc::web_page /var/www/html
  systemctl enable --now apache2 >/dev/null
  lab::signal SUCCESS "test host ready at ${LAB_NODE_IP}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  testpc::main "$@"
fi
