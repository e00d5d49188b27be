#!/usr/bin/env bash
# User data of the control plane (k8s-s): prepares the node, runs `kubeadm init` without the
# kube-proxy addon (with it for profile kube-proxy: LAB_KUBE_PROXY), publishes a short-lived join token (CA hash pinned) to the stack's join
# secret for the workers, sets up kubectl (context CiliumLab) for root and ubuntu, installs the
# pinned helm, cilium and hubble CLIs, and signals CloudFormation. No CNI is installed here:
# nodes stay NotReady and CoreDNS Pending until `lab cilium`.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (the renderer replaces this block; these are examples for running by hand)
LAB_NODE_NAME="k8s-s"
LAB_NODE_IP="192.168.10.10"
LAB_REGION="ap-northeast-2"
LAB_READY_URL="http://127.0.0.1:9/wait-condition-handle"
LAB_DEADLINE_SECONDS="1500"
LAB_HOSTS="192.168.10.10 k8s-s,192.168.10.101 k8s-w1,192.168.10.102 k8s-w2,192.168.20.100 testpc"
LAB_ROUTES=""
LAB_K8S_VERSION="1.30.14"
LAB_K8S_MINOR="1.30"
LAB_K8S_KEY_MINOR="1.34"
LAB_PAUSE_IMAGE="registry.k8s.io/pause:3.9"
LAB_CONTAINERD_MINIMUMS="1.7.13 2.0.0 2.1.0"
LAB_K8S_PACKAGE_VERSION="1.30.14-1.1"
LAB_KUBEADM_API="v1beta3"
LAB_CNI_PLUGINS=""
LAB_MAX_PODS=""
LAB_CLUSTER_NAME="cilium-lab"
LAB_CONTROL_PLANE_ENDPOINT="192.168.10.10:6443"
LAB_PUBLIC_IP="203.0.113.10"
LAB_POD_CIDR="172.16.0.0/16"
LAB_SERVICE_CIDR="10.10.0.0/16"
LAB_KUBE_PROXY="skip"
LAB_JOIN_TOKEN_TTL="2h0m0s"
LAB_JOIN_SECRET_ID="arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:cilium-lab-join-example"
LAB_ARCH="amd64"
LAB_HELM_VERSION="v3.16.2"
LAB_CILIUM_CLI_VERSION="v0.16.24"
LAB_HUBBLE_CLI_VERSION="v1.16.3"
LAB_KUBE_CONTEXT="CiliumLab"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include prepare-node.sh
source "$(dirname "${BASH_SOURCE[0]}")/prepare-node.sh" # lab:standalone-only

# (The environment may point these elsewhere: the tests run the functions on temp directories.)
readonly CP_RUN_DIR=${CP_RUN_DIR:-/run/cilium-lab}
readonly CP_ADMIN_CONF=${CP_ADMIN_CONF:-/etc/kubernetes/admin.conf}
CP_JOIN_TOKEN=""

# cp::skip_phases_yaml: the InitConfiguration's skipPhases: the kube-proxy addon is skipped
# (LAB_KUBE_PROXY=skip: Cilium replaces it) unless the lab's profile keeps it (install).
cp::skip_phases_yaml() {
  case "${LAB_KUBE_PROXY}" in
    skip) printf 'skipPhases:\n  - addon/kube-proxy\n' ;;
    install) printf '# kube-proxy addon installed (profile kube-proxy)\n' ;;
    *) log::error_exit 2 "LAB_KUBE_PROXY must be skip or install (got '${LAB_KUBE_PROXY}')" ;;
  esac
}

# cp::pod_subnet_yaml: networking.podSubnet, from which the controller manager gives every node a
# pod CIDR (kubeadm sets --allocate-node-cidrs with it); none where the lab's profile leaves pod
# addresses to Cilium alone (LAB_POD_CIDR empty: profile eni, pods on VPC addresses).
cp::pod_subnet_yaml() {
  if [[ -n "${LAB_POD_CIDR}" ]]; then
    printf '  podSubnet: "%s"\n' "${LAB_POD_CIDR}"
  else
    printf '  # no podSubnet: Cilium hands out pod addresses itself (no node pod CIDRs)\n'
  fi
}

# cp::write_init_config FILE TOKEN: the kubeadm InitConfiguration + ClusterConfiguration +
# KubeletConfiguration. The token file lives on tmpfs, mode 0600, and is removed after init.
cp::write_init_config() {
  local file=$1 token=$2 skip_phases
  # Outside the heredoc: a refusal there would not stop the script.
  skip_phases=$(cp::skip_phases_yaml)
  (
    umask 077
    cat >"$file" <<YAML
apiVersion: kubeadm.k8s.io/${LAB_KUBEADM_API}
kind: InitConfiguration
bootstrapTokens:
  - token: "${token}"
    ttl: "${LAB_JOIN_TOKEN_TTL}"
    description: "cilium-lab worker join, created at boot"
    usages: [signing, authentication]
    groups: [system:bootstrappers:kubeadm:default-node-token]
localAPIEndpoint:
  advertiseAddress: "${LAB_NODE_IP}"
  bindPort: 6443
nodeRegistration:
  name: "${LAB_NODE_NAME}"
  criSocket: unix:///run/containerd/containerd.sock
$(node::kubelet_extra_args_yaml "  ")
${skip_phases}
---
apiVersion: kubeadm.k8s.io/${LAB_KUBEADM_API}
kind: ClusterConfiguration
clusterName: "${LAB_CLUSTER_NAME}"
kubernetesVersion: "v${LAB_K8S_VERSION}"
controlPlaneEndpoint: "${LAB_CONTROL_PLANE_ENDPOINT}"
networking:
$(cp::pod_subnet_yaml)
  serviceSubnet: "${LAB_SERVICE_CIDR}"
apiServer:
  certSANs:
    - "${LAB_NODE_IP}"
    - "${LAB_PUBLIC_IP}"
    - "${LAB_NODE_NAME}"
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
YAML
  )
}

# cp::ca_cert_hash CA_CERT: "sha256:<hex>" of the CA's public key (SubjectPublicKeyInfo DER),
# the value `kubeadm join --discovery-token-ca-cert-hash` pins.
cp::ca_cert_hash() {
  local hex
  hex=$(openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.*= //')
  [[ "$hex" =~ ^[0-9a-f]{64}$ ]] || log::error_exit 30 "could not compute the CA public key hash of $1"
  printf 'sha256:%s\n' "$hex"
}

# cp::join_secret_json CA_HASH: the join secret's JSON on stdout; the token is read from stdin
# so it never appears in a process argument list.
cp::join_secret_json() {
  python3 -c 'import json, sys
token = sys.stdin.readline().strip()
print(json.dumps({"state": "published", "endpoint": sys.argv[1], "token": token, "caCertHash": sys.argv[2]}))' \
    "$LAB_CONTROL_PLANE_ENDPOINT" "$1"
}

cp::kubeadm_init() {
  if [[ -f "$CP_ADMIN_CONF" ]]; then
    log::info "kubeadm init already done; keeping the existing control plane"
    return 0
  fi
  install -d -m 0700 "$CP_RUN_DIR"
  retry::until_deadline "pull control-plane images" 30 \
    kubeadm config images pull --kubernetes-version "v${LAB_K8S_VERSION}" --cri-socket unix:///run/containerd/containerd.sock
  CP_JOIN_TOKEN=$(kubeadm token generate)
  cp::write_init_config "${CP_RUN_DIR}/kubeadm-init.yaml" "$CP_JOIN_TOKEN"
  log::info "kubeadm init (Kubernetes v${LAB_K8S_VERSION}, kubeadm ${LAB_KUBEADM_API}, kube-proxy addon: ${LAB_KUBE_PROXY})"
  kubeadm init --config "${CP_RUN_DIR}/kubeadm-init.yaml" --skip-token-print
  rm -f "${CP_RUN_DIR}/kubeadm-init.yaml"
}

cp::wait_api() {
  retry::until_deadline "API server /readyz" 10 \
    kubectl --kubeconfig "$CP_ADMIN_CONF" get --raw=/readyz
}

cp::publish_join_secret() {
  [[ -n "$CP_JOIN_TOKEN" ]] || log::error_exit 31 "no join token was created in this boot; re-create the lab (lab down, then cdk deploy)"
  local hash
  hash=$(cp::ca_cert_hash /etc/kubernetes/pki/ca.crt)
  (
    umask 077
    cp::join_secret_json "$hash" <<<"$CP_JOIN_TOKEN" >"${CP_RUN_DIR}/join.json"
  )
  retry::until_deadline "publish the join secret" 15 \
    /snap/bin/aws secretsmanager put-secret-value --region "$LAB_REGION" --secret-id "$LAB_JOIN_SECRET_ID" \
    --secret-string "file://${CP_RUN_DIR}/join.json" --query VersionId --output text
  rm -f "${CP_RUN_DIR}/join.json"
  log::info "join secret published (token TTL ${LAB_JOIN_TOKEN_TTL}, CA hash ${hash})"
}

# cp::setup_kubectl USER HOME: admin kubeconfig with the study's context name, alias and completion.
cp::setup_kubectl() {
  local user=$1 home=$2
  id "$user" >/dev/null 2>&1 || return 0
  install -d -m 0700 -o "$user" -g "$user" "${home}/.kube"
  install -m 0600 -o "$user" -g "$user" "${CP_RUN_DIR}/admin-ciliumlab.conf" "${home}/.kube/config"
  if ! grep -q 'cilium-lab: kubectl' "${home}/.bashrc" 2>/dev/null; then
    cat >>"${home}/.bashrc" <<'BASHRC'
# cilium-lab: kubectl
source <(kubectl completion bash)
alias k=kubectl
complete -o default -F __start_kubectl k
BASHRC
  fi
}

cp::setup_kubeconfigs() {
  install -m 0600 "$CP_ADMIN_CONF" "${CP_RUN_DIR}/admin-ciliumlab.conf"
  local from="kubernetes-admin@${LAB_CLUSTER_NAME}"
  if kubectl --kubeconfig "${CP_RUN_DIR}/admin-ciliumlab.conf" config get-contexts -o name | grep -qx "$from"; then
    kubectl --kubeconfig "${CP_RUN_DIR}/admin-ciliumlab.conf" config rename-context "$from" "$LAB_KUBE_CONTEXT" >/dev/null
  fi
  cp::setup_kubectl root /root
  cp::setup_kubectl ubuntu /home/ubuntu
  rm -f "${CP_RUN_DIR}/admin-ciliumlab.conf"
}

# tools::install NAME URL MEMBER: downloads URL and URL.sha256sum, verifies, installs MEMBER of the
# archive as /usr/local/bin/NAME.
tools::install() {
  local name=$1 url=$2 member=$3 dir expected
  dir=$(mktemp -d)
  net::download "$url" "${dir}/archive.tar.gz"
  net::download "${url}.sha256sum" "${dir}/archive.sha256sum"
  expected=$(awk '{print $1; exit}' "${dir}/archive.sha256sum")
  printf '%s  %s\n' "$expected" "${dir}/archive.tar.gz" | sha256sum --check --quiet ||
    log::error_exit 20 "${name}: the sha256 of ${url} does not match its published checksum"
  tar -xzf "${dir}/archive.tar.gz" -C "$dir" "$member"
  install -m 0755 "${dir}/${member}" "/usr/local/bin/${name}"
  rm -rf "$dir"
}

cp::install_tools() {
  tools::install helm "https://get.helm.sh/helm-${LAB_HELM_VERSION}-linux-${LAB_ARCH}.tar.gz" "linux-${LAB_ARCH}/helm"
  tools::install cilium "https://github.com/cilium/cilium-cli/releases/download/${LAB_CILIUM_CLI_VERSION}/cilium-linux-${LAB_ARCH}.tar.gz" cilium
  tools::install hubble "https://github.com/cilium/hubble/releases/download/${LAB_HUBBLE_CLI_VERSION}/hubble-linux-${LAB_ARCH}.tar.gz" hubble
  log::info "installed helm ${LAB_HELM_VERSION}, cilium-cli ${LAB_CILIUM_CLI_VERSION}, hubble ${LAB_HUBBLE_CLI_VERSION}"
}

cp::main() {
  lab::start_log
  lab::install_traps
  lab::deadline_start "$LAB_DEADLINE_SECONDS"
  node::prepare
  aws::install_cli
  cp::kubeadm_init
  cp::wait_api
  cp::publish_join_secret
  cp::setup_kubeconfigs
  cp::install_tools
  lab::signal SUCCESS "control plane is up; nodes stay NotReady until Cilium is installed (lab cilium)"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  cp::main "$@"
fi
