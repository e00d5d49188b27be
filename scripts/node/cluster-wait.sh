#!/usr/bin/env bash
# Waits until Cilium is up and every node is Ready, as root on the control plane over SSM Run
# Command (`lab wait`): `cilium status --wait`, then `kubectl wait --for=condition=Ready node
# --all`, then one line per node the cluster knows, whatever happened before, so the CLI can
# report each configured node (one that never joined is simply absent).
#
# Output: `cilium status` (on success; its last lines go to stderr on failure), then per node:
#   CILIUM_LAB_NODE <name> <Ready condition status: True|False|Unknown>
# Exit status: 0 Cilium up and every node Ready; 1 Cilium not up or a node not Ready in time;
# 2 missing tool.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (example: the CLI fills these in, see lib/lab/wait.ts)
LAB_WAIT_DURATION="5m"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh" # lab:standalone-only

WAIT_OUT=""

wait::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  kube::env
  kube::need kubectl cilium
  local out status=0
  WAIT_OUT=$(mktemp)
  trap 'rm -f -- "$WAIT_OUT"' EXIT
  out=$WAIT_OUT
  if cilium status --wait --wait-duration "$LAB_WAIT_DURATION" >"$out" 2>&1; then
    cat "$out"
  else
    status=1
    tail -n 25 "$out" >&2
    log::info "cilium status did not report Cilium up within ${LAB_WAIT_DURATION}"
  fi
  if ! kubectl wait --for=condition=Ready node --all --timeout="$LAB_WAIT_DURATION" >&2; then
    status=1
    log::info "not every node was Ready within ${LAB_WAIT_DURATION}"
  fi
  kubectl get nodes --output \
    'jsonpath={range .items[*]}{"CILIUM_LAB_NODE "}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}'
  return "$status"
}

# `${BASH_SOURCE[0]:-$0}`: also runs when the rendered script is fed to bash on stdin or -c.
if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  wait::main "$@"
fi
