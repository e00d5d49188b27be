#!/usr/bin/env bash
# User data of a worker (k8s-wN): prepares the node, waits for the control plane to publish the
# join secret, and joins with the CA hash pinned, retrying until the bootstrap deadline while
# the control plane comes up (kubernetes/kubernetes#66768). Then signals CloudFormation.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (the renderer replaces this block; these are examples for running by hand)
LAB_NODE_NAME="k8s-w1"
LAB_NODE_IP="192.168.10.101"
LAB_REGION="ap-northeast-2"
LAB_READY_URL="http://127.0.0.1:9/wait-condition-handle"
LAB_DEADLINE_SECONDS="1500"
LAB_HOSTS="192.168.10.10 k8s-s,192.168.10.101 k8s-w1,192.168.10.102 k8s-w2,192.168.20.100 testpc"
LAB_ROUTES=""
LAB_K8S_MINOR="1.30"
LAB_K8S_KEY_MINOR="1.34"
LAB_PAUSE_IMAGE="registry.k8s.io/pause:3.9"
LAB_CONTAINERD_MINIMUMS="1.7.13 2.0.0 2.1.0"
LAB_K8S_PACKAGE_VERSION="1.30.14-1.1"
LAB_KUBEADM_API="v1beta3"
LAB_CNI_PLUGINS=""
LAB_MAX_PODS=""
LAB_CONTROL_PLANE_ENDPOINT="192.168.10.10:6443"
LAB_JOIN_SECRET_ID="arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:cilium-lab-join-example"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include prepare-node.sh
source "$(dirname "${BASH_SOURCE[0]}")/prepare-node.sh" # lab:standalone-only

readonly WORKER_RUN_DIR=/run/cilium-lab

# worker::published JSON_FILE: true when the control plane has published the join data.
worker::published() {
  python3 -c 'import json, sys
sys.exit(0 if json.load(open(sys.argv[1])).get("state") == "published" else 1)' "$1" 2>/dev/null
}

worker::fetch_join_secret() {
  (
    umask 077
    /snap/bin/aws secretsmanager get-secret-value --region "$LAB_REGION" --secret-id "$LAB_JOIN_SECRET_ID" \
      --query SecretString --output text >"${WORKER_RUN_DIR}/join.json"
  ) || return 1
  worker::published "${WORKER_RUN_DIR}/join.json" || return 1
}

# worker::write_join_config JSON_FILE YAML_FILE: the kubeadm JoinConfiguration from the join
# secret. The token is checked for kubeadm's format before it is used, and never printed.
worker::write_join_config() {
  local json=$1 file=$2 token hash
  {
    read -r token
    read -r hash
  } < <(python3 -c 'import json, sys
data = json.load(open(sys.argv[1]))
print(data.get("token", "")); print(data.get("caCertHash", ""))' "$json")
  [[ "$token" =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || log::error_exit 40 "the join secret holds no token of kubeadm's form [a-z0-9]{6}.[a-z0-9]{16}"
  [[ "$hash" =~ ^sha256:[0-9a-f]{64}$ ]] || log::error_exit 41 "the join secret holds no CA hash of the form sha256:<64 hex>"
  (
    umask 077
    cat >"$file" <<YAML
apiVersion: kubeadm.k8s.io/${LAB_KUBEADM_API}
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "${LAB_CONTROL_PLANE_ENDPOINT}"
    token: "${token}"
    caCertHashes:
      - "${hash}"
nodeRegistration:
  name: "${LAB_NODE_NAME}"
  criSocket: unix:///run/containerd/containerd.sock
$(node::kubelet_extra_args_yaml "  ")
YAML
  )
}

# worker::join_once CONFIG: one join attempt (at most 300 s or the time left); a failed attempt
# is reset so the next starts clean. A preflight error ("[ERROR ...]" from kubeadm's checks of
# this machine) does not heal by retrying: it is permanent.
worker::join_once() {
  [[ ! -f /etc/kubernetes/kubelet.conf ]] || return 0
  local out status=0
  out=$(mktemp)
  lab::attempt_seconds 300
  timeout --kill-after=10 "$LAB_ATTEMPT_SECONDS" kubeadm join --config "$1" >"$out" 2>&1 || status=$?
  cat -- "$out" >&2
  if ((status == 0)); then
    rm -f -- "$out"
    return 0
  fi
  if grep -q '^error execution phase preflight' "$out" && grep -q '\[ERROR ' "$out"; then
    LAB_PERMANENT_ERROR="kubeadm preflight: $(grep -o '\[ERROR [^]]*\]: .*' "$out" | head -n 1 | cut -c 1-300)"
  fi
  rm -f -- "$out"
  kubeadm reset --force >/dev/null 2>&1 || true
  return 1
}

worker::registered() {
  kubectl --kubeconfig /etc/kubernetes/kubelet.conf get node "$LAB_NODE_NAME" -o name >/dev/null
}

worker::main() {
  lab::start_log
  lab::install_traps
  lab::deadline_start "$LAB_DEADLINE_SECONDS"
  node::prepare
  aws::install_cli
  install -d -m 0700 "$WORKER_RUN_DIR"
  log::info "waiting for the control plane to publish the join secret"
  retry::until_deadline "read the join secret" 20 worker::fetch_join_secret
  worker::write_join_config "${WORKER_RUN_DIR}/join.json" "${WORKER_RUN_DIR}/kubeadm-join.yaml"
  rm -f "${WORKER_RUN_DIR}/join.json"
  log::info "joining ${LAB_CONTROL_PLANE_ENDPOINT}"
  retry::until_deadline "kubeadm join" 30 worker::join_once "${WORKER_RUN_DIR}/kubeadm-join.yaml"
  rm -f "${WORKER_RUN_DIR}/kubeadm-join.yaml"
  retry::until_deadline "node ${LAB_NODE_NAME} registered" 10 worker::registered
  lab::signal SUCCESS "joined the cluster at ${LAB_CONTROL_PLANE_ENDPOINT}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  worker::main "$@"
fi
