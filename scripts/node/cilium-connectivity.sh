#!/usr/bin/env bash
# Runs Cilium's own suite, `cilium connectivity test`, as root on the control plane over SSM Run
# Command (`lab check --upstream`), with the environment the lab's kube scripts set (HOME, PATH
# with /usr/local/bin, KUBECONFIG: kube-lib.sh). Its test namespaces are the lab's own
# (LAB_TEST_NAMESPACE-*) and are deleted afterwards, also when it fails or times out. On failure
# its sysdump is uploaded to LAB_SYSDUMP_UPLOAD_URL (a presigned S3 PUT) when one is given.
#
# `--log-check-levels error`: cilium-cli >= 0.16.21 fails a run on any warning line in the agents'
# logs, and this lab runs with debug logs and Hubble on (cilium/cilium PR #35723, #36231); the
# pinned CLIs are v0.16.24 and newer (lib/config/catalog.ts), which have the (hidden) flag
# (cilium-cli v0.16.24 vendor/.../cilium-cli/cli/connectivity.go:184). `--test-namespace` is
# "always suffixed with a sequence number ... e.g.: cilium-test-1" (same file, :241): the clean-up
# deletes NAMESPACE and NAMESPACE-<n>.
#
# Parameters (environment variables):
#   LAB_TEST_MINUTES        cilium's own --timeout, in minutes (default 17); the run is killed a minute later
#   LAB_TEST_NAMESPACE      --test-namespace (default cilium-lab-upstream)
#   LAB_TEST_FILTER         --test value, e.g. '!pod-to-world,!pod-to-cidr,!to-fqdns' (default: every test)
#   LAB_SYSDUMP_UPLOAD_URL  where to PUT the sysdump on failure (default: keep it on the node)
#
# Output, first: CILIUM_LAB_UPSTREAM {"exitCode":N,"timedOut":bool,"junit":bool,"sysdump":"uploaded|none|kept at PATH|upload failed: ..."}
# then CILIUM_LAB_JUNIT_GZ_B64 <the JUnit file, gzipped and base64> when there is one, then the
# log's last 40 lines (SSM keeps 24,000 characters of stdout: the tagged lines come first).
# Exit status: 0 the suite ran (its verdict is in the tagged line); 2 missing tool or kubeconfig.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none: cilium-connectivity.sh takes its parameters from the environment, see above)
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh" # lab:standalone-only

UPSTREAM_TAG="CILIUM_LAB_UPSTREAM"
UPSTREAM_JUNIT_TAG="CILIUM_LAB_JUNIT_GZ_B64"
UPSTREAM_NAMESPACE=""

# upstream::cleanup: deletes the suite's namespaces (NAMESPACE and NAMESPACE-<n>); never fails the run.
upstream::cleanup() {
  local names
  names=$(kubectl get namespaces --output name 2>/dev/null | sed -n "s|^namespace/\(${UPSTREAM_NAMESPACE}\(-[0-9][0-9]*\)\{0,1\}\)$|\1|p") || names=""
  if [[ -n "$names" ]]; then
    # shellcheck disable=SC2086 # one name per word
    kubectl delete namespace $names --wait=false >&2 || log::info "could not delete the test namespaces: ${names//$'\n'/ }"
  fi
}

upstream::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  local minutes=${LAB_TEST_MINUTES:-17} filter=${LAB_TEST_FILTER:-} upload=${LAB_SYSDUMP_UPLOAD_URL:-}
  UPSTREAM_NAMESPACE=${LAB_TEST_NAMESPACE:-cilium-lab-upstream}
  [[ "$minutes" =~ ^[1-9][0-9]{0,2}$ ]] || log::error_exit 2 "LAB_TEST_MINUTES must be a whole number of minutes (got '${minutes}')"
  [[ "$UPSTREAM_NAMESPACE" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || log::error_exit 2 "LAB_TEST_NAMESPACE must be a namespace name (got '${UPSTREAM_NAMESPACE}')"
  kube::env
  kube::need cilium kubectl timeout gzip base64
  local out=/var/tmp/cilium-lab-connectivity status=0 timed_out=false junit=false sysdump=none file
  [[ -z "${LAB_CONNECTIVITY_DIR:-}" ]] || out=$LAB_CONNECTIVITY_DIR
  rm -rf -- "$out"
  mkdir -p -- "$out"
  cd -- "$out"
  trap upstream::cleanup EXIT
  local args=(connectivity test --test-namespace "$UPSTREAM_NAMESPACE" --log-check-levels error
    --junit-file "$out/junit.xml" --collect-sysdump-on-failure --timeout "${minutes}m")
  [[ -z "$filter" ]] || args+=(--test "$filter")
  timeout --kill-after=30s "$((minutes + 1))m" cilium "${args[@]}" >"$out/log.txt" 2>&1 || status=$?
  # timeout(1): 124 when it stopped the command, 137 when it had to kill it.
  if ((status == 124 || status == 137)); then timed_out=true; fi
  [[ ! -s "$out/junit.xml" ]] || junit=true
  if ((status != 0)); then
    # The newest sysdump the suite left (no pipeline: head closing early would trip pipefail).
    file=""
    local candidate
    for candidate in "$out"/cilium-sysdump-*.zip; do
      [[ -f "$candidate" ]] || continue
      if [[ -z "$file" || "$candidate" -nt "$file" ]]; then file=$candidate; fi
    done
    if [[ -n "$file" && -n "$upload" ]]; then
      if curl -sS --fail --max-time 300 --retry 2 -X PUT --upload-file "$file" "$upload" >&2; then sysdump=uploaded; else sysdump="upload failed: curl exit $?"; fi
    elif [[ -n "$file" ]]; then
      sysdump="kept at ${file}"
    fi
  fi
  printf '%s {"exitCode":%d,"timedOut":%s,"junit":%s,"sysdump":"%s"}\n' "$UPSTREAM_TAG" "$status" "$timed_out" "$junit" "$sysdump"
  if [[ "$junit" == true ]]; then printf '%s %s\n' "$UPSTREAM_JUNIT_TAG" "$(gzip -c "$out/junit.xml" | base64 -w0)"; fi
  tail -n 40 "$out/log.txt"
}

upstream::main "$@"
