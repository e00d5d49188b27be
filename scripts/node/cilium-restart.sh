#!/usr/bin/env bash
# Restarts the Cilium agents when Cilium is installed, as root on the control plane over SSM Run
# Command (`lab tune`, after the NICs changed): the agent reads a device's MTU when it starts,
# so agents started before the tuning keep using the old MTU until they restart.
#
# Output, as the last stdout line:
#   CILIUM_LAB_AGENTS absent      Cilium is not installed (daemonset kube-system/cilium not found)
#   CILIUM_LAB_AGENTS restarted   rollout restart done and every agent back (rollout status)
# Exit status: 0 done; 2 missing tool; 5 the restarted agents did not come back in time; other:
# kubectl failed (its status code, with its error on stderr).
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (example: the CLI fills these in, see lib/lab/tune.ts)
LAB_ROLLOUT_TIMEOUT="5m"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh" # lab:standalone-only

RESTART_ERR=""

restart::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  kube::env
  kube::need kubectl
  local err status=0
  RESTART_ERR=$(mktemp)
  trap 'rm -f -- "$RESTART_ERR"' EXIT
  err=$RESTART_ERR
  kubectl --namespace kube-system get daemonset cilium --output name >/dev/null 2>"$err" || status=$?
  if ((status != 0)); then
    if grep -q NotFound "$err"; then
      log::info "daemonset kube-system/cilium not found: Cilium is not installed, no agent to restart"
      echo "CILIUM_LAB_AGENTS absent"
      return 0
    fi
    cat "$err" >&2
    log::error_exit "$status" "kubectl get daemonset cilium failed"
  fi
  log::info "restarting the Cilium agents so they read the new MTU"
  kubectl --namespace kube-system rollout restart daemonset/cilium >&2
  kubectl --namespace kube-system rollout status daemonset/cilium --timeout "$LAB_ROLLOUT_TIMEOUT" >&2 ||
    log::error_exit 5 "the restarted Cilium agents were not all ready within ${LAB_ROLLOUT_TIMEOUT} (kubectl -n kube-system get pods -l k8s-app=cilium)"
  echo "CILIUM_LAB_AGENTS restarted"
}

# `${BASH_SOURCE[0]:-$0}`: also runs when the rendered script is fed to bash on stdin or -c.
if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  restart::main "$@"
fi
