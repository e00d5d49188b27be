#!/usr/bin/env bash
# Prepares an Ubuntu instance to be a kubeadm node: hostname, swap off, kernel modules and
# sysctls, containerd with systemd cgroups, and kubelet/kubeadm/kubectl pinned from pkgs.k8s.io.
# Inlined by the renderer into the control-plane and worker user data ("# lab:include").
# The LAB_* values come from the including script's values block.
set -o errexit -o nounset -o pipefail

node::set_hostname() {
  hostnamectl set-hostname "$LAB_NODE_NAME"
  # cloud-init would put the EC2 name (ip-192-168-10-10) back at the next boot.
  printf 'preserve_hostname: true\n' >/etc/cloud/cloud.cfg.d/99-cilium-lab-hostname.cfg
  lab::write_hosts /etc/hosts
}

node::disable_swap() {
  swapoff -a
  sed -i -E '/[[:space:]]swap[[:space:]]/ s/^([^#])/#\1/' /etc/fstab
}

node::kernel_prerequisites() {
  cat >/etc/modules-load.d/cilium-lab-k8s.conf <<'MODULES'
overlay
br_netfilter
MODULES
  modprobe overlay
  modprobe br_netfilter
  cat >/etc/sysctl.d/90-cilium-lab-k8s.conf <<'SYSCTL'
net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
SYSCTL
  sysctl --system >/dev/null
  [[ "$(sysctl -n net.ipv4.ip_forward)" == "1" ]] || log::error_exit 10 "net.ipv4.ip_forward is not 1 after sysctl --system"
}

# node::configure_containerd CONFIG_FILE: the default config with SystemdCgroup = true (kubelet
# uses the systemd cgroup driver). containerd 1.7 and 2.x both carry the key, under different
# section names, so the key is set where it stands.
node::configure_containerd() {
  local config=$1
  install -d -m 0755 "$(dirname "$config")"
  containerd config default >"$config"
  sed -i -E 's/^([[:space:]]*)SystemdCgroup = false/\1SystemdCgroup = true/' "$config"
  grep -Eq '^[[:space:]]*SystemdCgroup = true' "$config" ||
    log::error_exit 11 "containerd's default config has no SystemdCgroup key to set in ${config}"
}

node::install_containerd() {
  # conntrack: kubeadm < 1.32 requires it in preflight, and kubelet packages built since 2025-09
  # no longer depend on it (kubernetes/release d2a7ae37; kubernetes/kubernetes#135306).
  apt::install containerd conntrack apt-transport-https ca-certificates curl gpg
  node::configure_containerd /etc/containerd/config.toml
  systemctl restart containerd
  systemctl enable containerd >/dev/null
}

# node::kubernetes_keyring KEYRING: the pkgs.k8s.io signing keys served with the pinned minor
# and with a maintained one (LAB_K8S_KEY_MINOR), dearmored into one keyring. One key signs every
# minor's repository ("the same signing key is used for all repositories", Kubernetes docs,
# Installing kubeadm), but an old minor may serve a stale copy of it (kubernetes/release#3818):
# with both copies apt verifies whichever is current. A key that cannot be had (404) is skipped.
node::kubernetes_keyring() {
  local keyring=$1 minor got="" tmp
  tmp=$(mktemp)
  for minor in "$LAB_K8S_MINOR" "$LAB_K8S_KEY_MINOR"; do
    if net::download "https://pkgs.k8s.io/core:/stable:/v${minor}/deb/Release.key" "${tmp}.${minor}"; then
      gpg --batch --dearmor <"${tmp}.${minor}" >>"$tmp"
      got="${got:+${got} }v${minor}"
    else
      log::info "no signing key served for v${minor} (${LAB_LAST_ERROR}); trying the next"
      LAB_LAST_ERROR=""
    fi
    rm -f -- "${tmp}.${minor}"
    [[ "$LAB_K8S_MINOR" != "$LAB_K8S_KEY_MINOR" ]] || break
  done
  [[ -n "$got" ]] || log::error_exit 13 "no pkgs.k8s.io signing key could be downloaded (v${LAB_K8S_MINOR}, v${LAB_K8S_KEY_MINOR})"
  install -m 0644 "$tmp" "$keyring"
  rm -f -- "$tmp"
  log::info "pkgs.k8s.io signing keys of ${got} in ${keyring}"
}

# node::install_kubernetes: kubelet, kubeadm and kubectl at exactly LAB_K8S_PACKAGE_VERSION from
# the pkgs.k8s.io repository of LAB_K8S_MINOR, held so unattended upgrades leave them alone.
node::install_kubernetes() {
  local repo="https://pkgs.k8s.io/core:/stable:/v${LAB_K8S_MINOR}/deb/"
  local keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
  install -d -m 0755 /etc/apt/keyrings
  node::kubernetes_keyring "$keyring"
  printf 'deb [signed-by=%s] %s /\n' "$keyring" "$repo" >/etc/apt/sources.list.d/kubernetes.list
  apt::update
  apt::install "kubelet=${LAB_K8S_PACKAGE_VERSION}" "kubeadm=${LAB_K8S_PACKAGE_VERSION}" "kubectl=${LAB_K8S_PACKAGE_VERSION}"
  apt-mark hold kubelet kubeadm kubectl >/dev/null
  systemctl enable kubelet >/dev/null
}

# node::kubelet_extra_args_yaml INDENT: nodeRegistration.kubeletExtraArgs in the shape of the
# kubeadm API version (a map in v1beta3, a name/value list from v1beta4).
node::kubelet_extra_args_yaml() {
  local indent=$1
  case "$LAB_KUBEADM_API" in
    v1beta3) printf '%skubeletExtraArgs:\n%s  node-ip: "%s"\n' "$indent" "$indent" "$LAB_NODE_IP" ;;
    v1beta4) printf '%skubeletExtraArgs:\n%s  - name: node-ip\n%s    value: "%s"\n' "$indent" "$indent" "$indent" "$LAB_NODE_IP" ;;
    *) log::error_exit 12 "unknown kubeadm API version '${LAB_KUBEADM_API}'" ;;
  esac
}

node::prepare() {
  log::info "preparing ${LAB_NODE_NAME} (${LAB_NODE_IP}) for Kubernetes ${LAB_K8S_PACKAGE_VERSION}"
  node::set_hostname
  node::disable_swap
  node::kernel_prerequisites
  apt::update
  node::install_containerd
  node::install_kubernetes
  log::info "containerd $(containerd --version | awk '{print $3}'), kubeadm $(kubeadm version -o short)"
}

# aws::install_cli: the AWS CLI v2 (snap; the Ubuntu AMIs ship snapd) for the join secret.
aws::install_cli() {
  if [[ ! -x /snap/bin/aws ]]; then
    # At first boot snapd may still be seeding ("too early for operation").
    retry::until_deadline "snapd seeded" 10 snap wait system seed.loaded
    retry::until_deadline "snap install aws-cli" 30 snap install aws-cli --classic
  fi
}
