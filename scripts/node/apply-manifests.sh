#!/usr/bin/env bash
# Applies a profile's Kubernetes resources (profile bgp: its BGP cluster, peer and advertisement
# configs and the LoadBalancer IP pool, rendered by lib/bgp/resources.ts), as root on the control
# plane over SSM Run Command (`lab up`, after Helm). Re-running is safe: server-side apply with
# one field manager changes only what the rendering changed.
#
# Steps: wait for each custom resource definition the resources need (Cilium's operator
# registers them when it starts) to exist and be Established; check it serves the API version
# the lab renders (v2alpha1 or v2, by Cilium minor): a version it does not serve is a refusal
# that names both; then `kubectl apply --server-side`.
#
# Output: per definition  CILIUM_LAB_CRD <name> <served versions, comma-separated>
#         per object      CILIUM_LAB_APPLIED <kind/name> <kubectl's verdict: serverside-applied|unchanged|...>
# Exit status: 0 applied; 2 missing tool; 3 a definition does not serve the rendered version
# (CILIUM_LAB_CRD_VERSION_MISSING <name> <version>); 4 a definition never appeared or never became
# Established in time; other: kubectl apply's status.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (example: the CLI fills these in, see lib/lab/manifests.ts)
LAB_MANIFEST_B64="YXBpVmVyc2lvbjogdjEKa2luZDogQ29uZmlnTWFwCm1ldGFkYXRhOgogIG5hbWU6IGV4YW1wbGUKICBuYW1lc3BhY2U6IGRlZmF1bHQK"
LAB_CRDS="ciliumbgpclusterconfigs.cilium.io=v2alpha1"
LAB_FIELD_MANAGER="cilium-lab"
LAB_CRD_WAIT_SECONDS="180"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh" # lab:standalone-only

APPLY_SERVED=""
APPLY_FILE=""

# manifests::crd_established NAME: the definition exists and is Established (its served versions in APPLY_SERVED).
manifests::crd_established() {
  local state
  state=$(kubectl get crd "$1" --ignore-not-found --output \
    'jsonpath={.status.conditions[?(@.type=="Established")].status}{" "}{range .spec.versions[?(@.served==true)]}{.name}{","}{end}' 2>&1) || return 1
  [[ "$state" == True\ * ]] || return 1
  APPLY_SERVED=${state#True }
  APPLY_SERVED=${APPLY_SERVED%,}
}

manifests::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  kube::env
  kube::need kubectl
  lab::deadline_start "$LAB_CRD_WAIT_SECONDS"
  local entry name version out status=0
  for entry in $LAB_CRDS; do
    name=${entry%%=*}
    version=${entry#*=}
    if ! retry::until_deadline "custom resource definition ${name} Established" 10 manifests::crd_established "$name"; then
      log::error_exit 4 "${name} did not appear Established within ${LAB_CRD_WAIT_SECONDS}s: is Cilium's operator running, with the feature on (kubectl -n kube-system logs deploy/cilium-operator)?"
    fi
    printf 'CILIUM_LAB_CRD %s %s\n' "$name" "$APPLY_SERVED"
    if [[ ",${APPLY_SERVED}," != *",${version},"* ]]; then
      printf 'CILIUM_LAB_CRD_VERSION_MISSING %s %s\n' "$name" "$version"
      log::error_exit 3 "${name} serves ${APPLY_SERVED:-no version}, not ${version}, which the lab renders for this Cilium version"
    fi
  done
  APPLY_FILE=$(mktemp)
  trap 'rm -f -- "$APPLY_FILE"' EXIT
  base64 -d <<<"$LAB_MANIFEST_B64" >"$APPLY_FILE"
  out=$(kubectl apply --server-side --field-manager="$LAB_FIELD_MANAGER" --force-conflicts --filename "$APPLY_FILE" 2>&1) || status=$?
  printf '%s\n' "$out" >&2
  if ((status != 0)); then
    return "$status"
  fi
  # kubectl's lines: "<kind>.<group>/<name> serverside-applied" (or "unchanged").
  awk 'NF == 2 && $1 ~ /\// { print "CILIUM_LAB_APPLIED " $1 " " $2 }' <<<"$out"
}

# `${BASH_SOURCE[0]:-$0}`: also runs when the rendered script is fed to bash on stdin or -c.
if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  manifests::main "$@"
fi
