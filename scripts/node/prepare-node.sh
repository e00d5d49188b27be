#!/usr/bin/env bash
# Prepares an Ubuntu instance to be a kubeadm node: hostname, swap off, kernel modules and
# sysctls, containerd with systemd cgroups, and kubelet/kubeadm/kubectl pinned from pkgs.k8s.io.
# Inlined by the renderer into the control-plane and worker user data ("# lab:include").
# The LAB_* values come from the including script's values block.
set -o errexit -o nounset -o pipefail

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

# node::containerd_version: the installed containerd's x.y.z (from `containerd --version`).
node::containerd_version() {
  containerd --version | grep -Eo '[[:space:]]v?[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 | tr -d ' v'
}

# node::version_at_least A B: A >= B for x.y.z versions.
node::version_at_least() {
  [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" == "$2" ]]
}

# node::check_containerd VERSION: VERSION is a containerd the Kubernetes minor is supported with
# (LAB_CONTAINERD_MINIMUMS: the oldest of each release line, from containerd's RELEASES.md). A
# line newer than the table's is taken as covered by its "x.y.0+"; an older one, or a release
# below its line's minimum, is refused (permanent: a newer package is needed).
node::check_containerd() {
  local version=$1 line minimum newest=""
  line=${version%.*}
  for minimum in $LAB_CONTAINERD_MINIMUMS; do
    newest=$minimum
    [[ "${minimum%.*}" == "$line" ]] || continue
    node::version_at_least "$version" "$minimum" ||
      log::error_exit 14 "containerd ${version} is older than ${minimum}, the oldest ${line}.x that Kubernetes ${LAB_K8S_MINOR} is supported with (containerd RELEASES.md)"
    return 0
  done
  node::version_at_least "$version" "$newest" ||
    log::error_exit 14 "containerd ${version} is not a release line Kubernetes ${LAB_K8S_MINOR} is supported with (${LAB_CONTAINERD_MINIMUMS}; containerd RELEASES.md)"
  log::info "containerd ${version}: newer than the support table's lines (${LAB_CONTAINERD_MINIMUMS}), taken as covered by their x.y.0+"
}

# node::configure_containerd CONFIG_FILE: the installed containerd's own default config
# (`containerd config default`: version 2 for containerd 1.7, version 3 for 2.x, every default in
# place) with what the cluster depends on set explicitly, wherever that version keeps it:
#   - SystemdCgroup = true (kubelet uses the systemd cgroup driver); containerd 2.0.0-2.0.6 and
#     2.1.0-2.1.4 print no SystemdCgroup line at all (containerd#12101, fixed by #12244 in 2.0.7,
#     2.1.5, 2.2.0), so the key is added under the runc options table when it is missing;
#   - the sandbox image kubeadm uses for the minor (1.7: sandbox_image; 2.x: pinned_images.sandbox);
#   - the CNI binaries in /opt/cni/bin, where Cilium installs its plugin (chart cni.binPath)
#     (1.7 and 2.0: bin_dir; 2.1+: bin_dirs, printed beside a deprecated `bin_dir = ''` that is
#     left empty so bin_dirs stays the one in force).
# Each is read back; a default config without one of the keys stops the boot, naming it.
node::configure_containerd() {
  local config=$1 bin_dir_rule
  install -d -m 0755 "$(dirname "$config")"
  containerd config default >"$config"
  bin_dir_rule="s#^([[:space:]]*bin_dir = )(\"[^\"]*\"|'[^']*')#\\1'/opt/cni/bin'#"
  if grep -Eq '^[[:space:]]*bin_dirs = ' "$config"; then
    # containerd refuses both set at once ("`cni.bin_dir` and `cni.bin_dirs` cannot be set at the same time", v2.1.4 internal/cri/config/config.go)
    bin_dir_rule="s#^([[:space:]]*bin_dirs = )\\[[^]]*\\]#\\1['/opt/cni/bin']#; s#^([[:space:]]*bin_dir = ).*#\\1''#"
  fi
  if ! grep -Eq '^[[:space:]]*SystemdCgroup = ' "$config"; then
    sed -i -E "/^[[:space:]]*\\[.*containerd\\.runtimes\\.runc\\.options\\][[:space:]]*$/a SystemdCgroup = true" "$config"
  fi
  sed -i -E \
    -e 's/^([[:space:]]*SystemdCgroup = )false/\1true/' \
    -e "s#^([[:space:]]*sandbox_image = )\"[^\"]*\"#\\1\"${LAB_PAUSE_IMAGE}\"#" \
    -e "s#^([[:space:]]*sandbox = )'[^']*'#\\1'${LAB_PAUSE_IMAGE}'#" \
    -e "$bin_dir_rule" \
    "$config"
  grep -Eq '^[[:space:]]*SystemdCgroup = true' "$config" ||
    log::error_exit 11 "containerd's default config has no SystemdCgroup key to set in ${config}"
  grep -Eq "^[[:space:]]*(sandbox_image|sandbox) = [\"']${LAB_PAUSE_IMAGE}[\"']" "$config" ||
    log::error_exit 11 "containerd's default config has no sandbox image key to set to ${LAB_PAUSE_IMAGE} in ${config}"
  grep -Eq "^[[:space:]]*bin_dirs? = \\[?'/opt/cni/bin'" "$config" ||
    log::error_exit 11 "containerd's default config has no CNI bin_dir(s) key to set to /opt/cni/bin in ${config}"
}

# node::write_crictl_config FILE: crictl talks to containerd (not the docker shim it would guess).
node::write_crictl_config() {
  printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\ntimeout: 10\n' >"$1"
}

node::install_containerd() {
  # conntrack: kubeadm < 1.32 requires it in preflight, and kubelet packages built since 2025-09
  # no longer depend on it (kubernetes/release d2a7ae37; kubernetes/kubernetes#135306).
  apt::install containerd conntrack apt-transport-https ca-certificates curl gpg
  node::check_containerd "$(node::containerd_version)"
  node::configure_containerd /etc/containerd/config.toml
  node::write_crictl_config /etc/crictl.yaml
  systemctl restart containerd
  systemctl enable containerd >/dev/null
}

# node::kubernetes_keyring KEYRING: the pkgs.k8s.io signing keys served with the pinned minor
# and with a maintained one (LAB_K8S_KEY_MINOR), dearmored into one keyring. One key signs every
# minor's repository ("the same signing key is used for all repositories", Kubernetes docs,
# Installing kubeadm), but an old minor may serve a stale copy of it (kubernetes/release#3818):
# with both copies apt verifies whichever is current. A key that cannot be had (404) is skipped.
# The copies are imported into one throw-away GnuPG home and exported from there: gpg merges the
# copies of one key (the newest self-signature wins), where a keyring of two concatenated copies
# would make apt's gpgv check the first copy only (EXPKEYSIG when that one is stale).
node::kubernetes_keyring() {
  local keyring=$1 minor got="" tmp gnupg
  tmp=$(mktemp)
  gnupg=$(mktemp -d)
  for minor in "$LAB_K8S_KEY_MINOR" "$LAB_K8S_MINOR"; do
    if net::download "https://pkgs.k8s.io/core:/stable:/v${minor}/deb/Release.key" "${tmp}.${minor}"; then
      gpg --batch --quiet --homedir "$gnupg" --import "${tmp}.${minor}"
      got="${got:+${got} }v${minor}"
    else
      log::info "no signing key served for v${minor} (${LAB_LAST_ERROR}); trying the next"
      LAB_LAST_ERROR=""
    fi
    rm -f -- "${tmp}.${minor}"
    [[ "$LAB_K8S_MINOR" != "$LAB_K8S_KEY_MINOR" ]] || break
  done
  [[ -n "$got" ]] || log::error_exit 13 "no pkgs.k8s.io signing key could be downloaded (v${LAB_K8S_KEY_MINOR}, v${LAB_K8S_MINOR})"
  gpg --batch --quiet --homedir "$gnupg" --export >"$tmp"
  install -m 0644 "$tmp" "$keyring"
  gpgconf --homedir "$gnupg" --kill all >/dev/null 2>&1 || true # a daemon gpg may have started there
  rm -rf -- "$tmp" "$gnupg"
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
# kubeadm API version (a map in v1beta3, a name/value list from v1beta4): node-ip, and max-pods
# where the lab's profile sets this node's pod limit (LAB_MAX_PODS; profile eni: what its ENIs hold).
node::kubelet_extra_args_yaml() {
  local indent=$1
  case "$LAB_KUBEADM_API" in
    v1beta3)
      printf '%skubeletExtraArgs:\n%s  node-ip: "%s"\n' "$indent" "$indent" "$LAB_NODE_IP"
      [[ -z "${LAB_MAX_PODS}" ]] || printf '%s  max-pods: "%s"\n' "$indent" "$LAB_MAX_PODS"
      ;;
    v1beta4)
      printf '%skubeletExtraArgs:\n%s  - name: node-ip\n%s    value: "%s"\n' "$indent" "$indent" "$indent" "$LAB_NODE_IP"
      [[ -z "${LAB_MAX_PODS}" ]] || printf '%s  - name: max-pods\n%s    value: "%s"\n' "$indent" "$indent" "$LAB_MAX_PODS"
      ;;
    *) log::error_exit 12 "unknown kubeadm API version '${LAB_KUBEADM_API}'" ;;
  esac
}

# node::require_cni_plugins: the CNI plugins the lab's profile chains behind Cilium (LAB_CNI_PLUGINS,
# e.g. portmap for profile kube-proxy) must be in NODE_CNI_BIN_DIR. They come with the
# kubernetes-cni package, a dependency of kubeadm/kubelet on pkgs.k8s.io
# (https://github.com/kubernetes/website/issues/32222 quotes "Depends: ... kubernetes-cni"); if a
# release stops pulling it in, it is installed on purpose, and a plugin still missing stops the boot.
node::require_cni_plugins() {
  local dir=${NODE_CNI_BIN_DIR:-/opt/cni/bin} plugin missing=()
  [[ -n "${LAB_CNI_PLUGINS}" ]] || return 0
  for plugin in ${LAB_CNI_PLUGINS}; do
    [[ -x "${dir}/${plugin}" ]] || missing+=("$plugin")
  done
  if ((${#missing[@]} > 0)); then
    log::info "CNI plugins not in ${dir}: ${missing[*]}; installing kubernetes-cni"
    apt::install kubernetes-cni
    missing=()
    for plugin in ${LAB_CNI_PLUGINS}; do
      [[ -x "${dir}/${plugin}" ]] || missing+=("$plugin")
    done
  fi
  ((${#missing[@]} == 0)) || log::error_exit 15 "the profile chains CNI plugins not in ${dir} even after installing kubernetes-cni: ${missing[*]}"
  log::info "CNI plugins the profile chains are in ${dir}: ${LAB_CNI_PLUGINS}"
}

node::prepare() {
  log::info "preparing ${LAB_NODE_NAME} (${LAB_NODE_IP}) for Kubernetes ${LAB_K8S_PACKAGE_VERSION}"
  lab::set_hostname
  net::lab_routes
  node::disable_swap
  node::kernel_prerequisites
  apt::update
  node::install_containerd
  node::install_kubernetes
  node::require_cni_plugins
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
