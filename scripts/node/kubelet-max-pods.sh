#!/usr/bin/env bash
# Sets the kubelet's pod limit (maxPods) on a running Kubernetes node, as root over SSM Run
# Command (`lab max-pods`): kubeadm keeps the kubelet's node flags in
# /var/lib/kubelet/kubeadm-flags.env (KUBELET_KUBEADM_ARGS, from nodeRegistration.kubeletExtraArgs,
# where the lab's boot puts --max-pods too), and a flag there wins over the config file. The flag is
# replaced, the kubelet restarted, and the node's own answer read back (`kubelet --max-pods` is what
# status.capacity.pods reports once the kubelet has posted its status).
#
# Parameters (environment, set by the renderer): LAB_MAX_PODS (a whole number from 10 to 1000).
# Output, as the last stdout line:
#   CILIUM_LAB_MAX_PODS {"before":"110","after":"300","changed":true}
# Exit status: 0 done; 2 a bad parameter; 3 the flags file is missing or not kubeadm's.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none)
# lab:values end

MAX_PODS_TAG="CILIUM_LAB_MAX_PODS"
readonly FLAGS_FILE=${KUBELET_FLAGS_FILE:-/var/lib/kubelet/kubeadm-flags.env}

# maxpods::current FILE: the --max-pods value in KUBELET_KUBEADM_ARGS, or empty.
maxpods::current() {
  sed -nE 's/^KUBELET_KUBEADM_ARGS=.*--max-pods=([0-9]+).*$/\1/p' "$1" | head -n 1
}

# maxpods::rewrite FILE N: KUBELET_KUBEADM_ARGS with every --max-pods=... replaced by --max-pods=N
# (added at the end when there was none); the other lines are kept as they are.
maxpods::rewrite() {
  local file=$1 n=$2 tmp
  tmp=$(mktemp "${file}.XXXXXX")
  awk -v n="$n" '
    /^KUBELET_KUBEADM_ARGS=/ {
      line = $0
      gsub(/ ?--max-pods=[0-9]+/, "", line)
      sub(/"$/, " --max-pods=" n "\"", line)
      sub(/=" /, "=\"", line)
      print line
      next
    }
    { print }
  ' "$file" >"$tmp"
  chmod --reference="$file" "$tmp"
  mv -f "$tmp" "$file"
}

maxpods::main() {
  local before after changed=false
  [[ "${LAB_MAX_PODS:-}" =~ ^[0-9]+$ ]] && ((LAB_MAX_PODS >= 10 && LAB_MAX_PODS <= 1000)) ||
    { printf 'LAB_MAX_PODS must be a whole number from 10 to 1000 (got "%s")\n' "${LAB_MAX_PODS:-}" >&2; exit 2; }
  grep -q '^KUBELET_KUBEADM_ARGS="' "$FLAGS_FILE" 2>/dev/null ||
    { printf '%s has no KUBELET_KUBEADM_ARGS line: not a kubeadm node?\n' "$FLAGS_FILE" >&2; exit 3; }
  before=$(maxpods::current "$FLAGS_FILE")
  if [[ "$before" != "$LAB_MAX_PODS" ]]; then
    maxpods::rewrite "$FLAGS_FILE" "$LAB_MAX_PODS"
    systemctl restart kubelet
    changed=true
  fi
  after=$(maxpods::current "$FLAGS_FILE")
  printf '%s {"before":"%s","after":"%s","changed":%s}\n' "$MAX_PODS_TAG" "${before:-110}" "$after" "$changed"
}

maxpods::main "$@"
