#!/usr/bin/env bash
# Hands the control plane's admin kubeconfig to the lab CLI (`lab kubeconfig`), as root over SSM
# Run Command, encrypted for that CLI process alone. SSM keeps a command's output for anyone who
# may read Run Command history (GetCommandInvocation, the console), and the admin kubeconfig
# holds a cluster-admin client key, so it never travels in clear:
#   - the CLI sends a one-time RSA public key (its private key never leaves the CLI process);
#   - this script draws a random passphrase, encrypts the file with it
#     (openssl enc -aes-256-cbc -pbkdf2 -iter LAB_PBKDF2_ITER -md sha256), and the passphrase
#     with the public key (RSA-OAEP, SHA-256). No secret appears in a process argument.
#
# Output, one line:  CILIUM_LAB_KUBECONFIG <base64 wrapped passphrase> <base64 ciphertext>
# Exit status: 0 sent; 2 no kubeconfig or a missing tool.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (example: the CLI fills these in, see lib/lab/kubeconfig.ts)
LAB_PUBLIC_KEY_PEM="-----BEGIN PUBLIC KEY----- (one-time key of the CLI) -----END PUBLIC KEY-----"
LAB_PBKDF2_ITER="10000"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh" # lab:standalone-only

KUBECONFIG_WORK=""

kubeconfig::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  kube::env
  kube::need openssl base64
  local work
  umask 077
  KUBECONFIG_WORK=$(mktemp -d)
  trap 'rm -rf -- "$KUBECONFIG_WORK"' EXIT
  work=$KUBECONFIG_WORK
  printf '%s\n' "$LAB_PUBLIC_KEY_PEM" >"${work}/public.pem"
  openssl rand -hex 32 >"${work}/passphrase"
  openssl enc -aes-256-cbc -salt -pbkdf2 -iter "$LAB_PBKDF2_ITER" -md sha256 \
    -kfile "${work}/passphrase" -in "$KUBECONFIG" -out "${work}/kubeconfig.enc"
  openssl pkeyutl -encrypt -pubin -inkey "${work}/public.pem" -in "${work}/passphrase" -out "${work}/passphrase.enc" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
  printf 'CILIUM_LAB_KUBECONFIG %s %s\n' "$(base64 -w0 "${work}/passphrase.enc")" "$(base64 -w0 "${work}/kubeconfig.enc")"
}

# `${BASH_SOURCE[0]:-$0}`: also runs when the rendered script is fed to bash on stdin or -c.
if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  kubeconfig::main "$@"
fi
