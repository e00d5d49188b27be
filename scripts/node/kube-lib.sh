#!/usr/bin/env bash
# Helpers for the scripts the lab CLI runs on the control plane over SSM Run Command
# (cilium-install.sh, cilium-restart.sh, cluster-wait.sh). The renderer inlines this file where
# a script says "# lab:include kube-lib.sh" (after lib.sh); run by hand, the scripts source it.

# kube::env: root's view of the cluster as the bootstrap left it. SSM Run Command starts scripts
# without HOME (helm keeps its repositories under it) and may leave /usr/local/bin (helm,
# cilium) out of PATH. LAB_KUBECONFIG overrides the admin kubeconfig (tests).
kube::env() {
  export HOME=${HOME:-/root}
  export KUBECONFIG=${LAB_KUBECONFIG:-/etc/kubernetes/admin.conf}
  case ":${PATH}:" in
    *:/usr/local/bin:*) ;;
    *) export PATH="${PATH}:/usr/local/bin" ;;
  esac
  [[ -r "$KUBECONFIG" ]] || log::error_exit 2 "${KUBECONFIG} is not readable: run this on the control plane, as root"
}

# kube::need TOOL...: exits 2 naming the first TOOL that is not installed.
kube::need() {
  local tool
  for tool in "$@"; do
    command -v -- "$tool" >/dev/null ||
      log::error_exit 2 "${tool} is not installed on $(uname -n); the control plane's bootstrap installs kubectl, helm and cilium"
  done
}
