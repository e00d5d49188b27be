#!/usr/bin/env bash
# Installs (or upgrades) Cilium with Helm on the control plane, as root over SSM Run Command
# (`lab cilium`). The CLI has already checked every values key against its fixture of the
# pinned chart (lib/cilium/chart-keys/<version>.json); this script checks them again against
# the chart Helm actually pulls, because Helm itself ignores unknown keys without a word.
#
# Steps: write the values (sent base64) to a private temp file; `helm repo add cilium` (with
# --force-update: idempotent, and it refreshes the index so a newer pinned version is found);
# pull the pinned chart (its values.yaml is what `helm show values` prints; its
# values.schema.json comes with it); check each key with python3; recover a release an
# interrupted run left pending (pending-install: uninstall; pending-upgrade/-rollback: rollback),
# or the next upgrade fails with "another operation is in progress"; then install THE CHART THAT
# WAS CHECKED (the pulled directory, not a second download):
#   helm upgrade --install cilium <pulled chart> -n kube-system -f values.yaml --wait --timeout 10m
# and wait for the rollout of every Cilium component (Helm's --wait accepts a DaemonSet with
# maxUnavailable 2 of 3 agents not ready), naming each pod that is not ready, its node and why.
# Re-running is safe but not a no-op: each run is a new Helm revision, and the chart issues new
# Hubble TLS certificates on every upgrade (hubble.tls.auto.method: helm, its default), so the
# relay and agents pick up new Secrets.
#
# Output: helm's own lines, then as the last stdout line the release as `helm list -o json`
# prints it:  CILIUM_LAB_HELM [{"name":"cilium","revision":"1","status":"deployed",...}]
# A key the pulled chart does not know prints `CILIUM_LAB_UNKNOWN_KEY <path>` and exits 3.
# Exit status: 0 installed; 2 missing tool or bad parameter; 3 a key the chart does not know;
# 4 repository or chart not reachable; 5 a pending release that could not be recovered;
# 6 a component did not roll out (CILIUM_LAB_NOT_READY lines: component, pod, node, reason);
# other: helm upgrade failed (its status code).
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (example: the CLI fills these in, see lib/lab/cilium.ts)
LAB_CILIUM_VERSION="1.16.3"
LAB_HELM_REPO_URL="https://helm.cilium.io"
LAB_HELM_TIMEOUT="10m"
LAB_VALUES_B64="ZGVidWc6CiAgZW5hYmxlZDogdHJ1ZQo="
LAB_VALUE_PATHS="debug.enabled"
LAB_OPEN_KEYS="annotations labels nodeSelector podAnnotations resources"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh" # lab:standalone-only

INSTALL_WORK=""

install::repo_add() {
  helm repo add cilium "$LAB_HELM_REPO_URL" --force-update >&2 || return 1
}

install::pull() {
  rm -rf "${INSTALL_WORK}/chart"
  helm pull cilium/cilium --version "$LAB_CILIUM_VERSION" --untar --untardir "${INSTALL_WORK}/chart" >&2 || return 1
}

# install::check_keys CHART_DIR: prints CILIUM_LAB_UNKNOWN_KEY for each of LAB_VALUE_PATHS that
# the chart's values.yaml (keys, or helm-docs commented-out keys under a known map) and
# values.schema.json (properties) do not know; keys under open maps (an empty default map, a
# map with dotted keys, or one of LAB_OPEN_KEYS) are free. Status 3 when any is unknown.
install::check_keys() {
  python3 - "$1" "$LAB_OPEN_KEYS" "$LAB_VALUE_PATHS" <<'PY'
import json, os, re, sys

try:
    import yaml
except ImportError:
    print("python3-yaml is not installed (apt-get install python3-yaml): cannot check the values against the chart", file=sys.stderr)
    sys.exit(2)

chart, open_names, paths = sys.argv[1], set(sys.argv[2].split()), [p for p in sys.argv[3].split("\n") if p]
with open(os.path.join(chart, "values.yaml"), encoding="utf-8") as f:
    text = f.read()
values = yaml.safe_load(text) or {}
schema = {}
schema_file = os.path.join(chart, "values.schema.json")
if os.path.exists(schema_file):
    with open(schema_file, encoding="utf-8") as f:
        schema = json.load(f)
commented = set(re.findall(r"^\s*#\s?([a-z][A-Za-z0-9]*):\s+\S", text, re.M))


def is_open(name, node):
    return name in open_names or (isinstance(node, dict) and (not node or any("." in str(k) for k in node)))


def in_values(segments):
    node = values
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if not isinstance(node, dict):
            return False
        if segment not in node:
            return last and segment in commented
        node = node[segment]
        if not last and is_open(segment, node):
            return True
    return True


def in_schema(segments):
    node = schema
    for segment in segments:
        properties = node.get("properties") if isinstance(node, dict) else None
        if properties is None:
            return bool(node) and "object" in (node.get("type") if isinstance(node.get("type"), list) else [node.get("type")])
        if segment not in properties:
            return False
        node = properties[segment]
    return True


unknown = [p for p in paths if not in_values(p.split(".")) and not in_schema(p.split("."))]
for p in unknown:
    print("CILIUM_LAB_UNKNOWN_KEY " + p)
if unknown:
    print(f"{len(unknown)} key(s) are not in the pulled chart: {', '.join(unknown)}", file=sys.stderr)
    sys.exit(3)
print(f"all {len(paths)} keys are in the pulled chart", file=sys.stderr)
PY
}

# install::chart_version DIR: the version in the pulled chart's Chart.yaml.
install::chart_version() {
  sed -n -E 's/^version:[[:space:]]*"?([^"[:space:]]+)"?[[:space:]]*$/\1/p' "$1/Chart.yaml" | head -n 1
}

# install::recover_pending: a release an interrupted run left pending-* blocks every later
# upgrade ("another operation (install/upgrade/rollback) is in progress"). A pending-install never
# got installed: uninstall it; a pending-upgrade/-rollback goes back to its last revision.
install::recover_pending() {
  local json status
  # A helm still running here (an earlier lab cilium whose CLI gave up) is an operation in
  # progress, not a leftover: leave it alone and say so.
  if pgrep -f '^helm (upgrade|install|rollback|uninstall) ' >/dev/null 2>&1; then
    log::error_exit 5 "another helm is running on this node (an earlier lab cilium still at work?): wait for it to end (it has a 10 minute timeout), then run lab cilium again"
  fi
  json=$(helm status cilium --namespace kube-system --output json 2>/dev/null) || return 0
  status=$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("info", {}).get("status", ""))' <<<"$json") || return 0
  case "$status" in
    pending-install)
      log::info "release cilium is pending-install (an interrupted first install): uninstalling it"
      helm uninstall cilium --namespace kube-system --wait --timeout 3m >&2 || log::error_exit 5 "release cilium is pending-install and helm uninstall failed"
      printf 'CILIUM_LAB_RECOVERED uninstalled a release left pending-install\n'
      ;;
    pending-upgrade | pending-rollback)
      log::info "release cilium is ${status} (an interrupted run): rolling back to its last revision"
      helm rollback cilium --namespace kube-system --wait --timeout 3m >&2 || log::error_exit 5 "release cilium is ${status} and helm rollback failed"
      printf 'CILIUM_LAB_RECOVERED rolled back a release left %s\n' "$status"
      ;;
  esac
}

# The Cilium components and their pods' label, in rollout order: the agent and the operator every
# release has, then those the values may leave out.
readonly INSTALL_REQUIRED_COMPONENTS="daemonset/cilium=k8s-app=cilium deployment/cilium-operator=io.cilium/app=operator"
readonly INSTALL_OPTIONAL_COMPONENTS="daemonset/cilium-envoy=k8s-app=cilium-envoy deployment/hubble-relay=k8s-app=hubble-relay deployment/hubble-ui=k8s-app=hubble-ui"

# install::report_not_ready COMPONENT SELECTOR: a CILIUM_LAB_NOT_READY line per pod of COMPONENT
# that is not Running with every container ready: component, pod, node ("unscheduled" when it has
# none), and the containers' waiting reasons (or the pod's phase). Fields are |-separated in the
# jsonpath, so an empty one stays empty; a pod's containers are space-separated within a field.
install::report_not_ready() {
  local component=$1 selector=$2
  kubectl --namespace kube-system get pods --selector "$selector" --output \
    jsonpath='{range .items[*]}{.metadata.name}{"|"}{.spec.nodeName}{"|"}{.status.phase}{"|"}{.status.containerStatuses[*].ready}{"|"}{.status.initContainerStatuses[*].state.waiting.reason}{" "}{.status.containerStatuses[*].state.waiting.reason}{"\n"}{end}' |
    while IFS='|' read -r pod node phase ready reason; do
      [[ -n "$pod" ]] || continue
      [[ "$phase" != Running || -z "$ready" || " $ready " == *" false "* ]] || continue
      reason=$(tr -s ' ' <<<"$reason" | sed 's/^ //; s/ $//; s/ /,/g')
      printf 'CILIUM_LAB_NOT_READY %s %s %s %s\n' "$component" "$pod" "${node:-unscheduled}" "${reason:-${phase:-unknown}}"
    done
}

# install::present_components: the components to wait for (COMPONENT=SELECTOR words): the agent
# and the operator always (a release without them is broken, and their rollout says so), and each
# optional one unless the API answers that it is not there. Any other answer (the API unreachable,
# forbidden) keeps it, so its rollout fails and is reported rather than skipped as absent.
install::present_components() {
  local entry answer
  for entry in $INSTALL_REQUIRED_COMPONENTS; do printf '%s\n' "$entry"; done
  for entry in $INSTALL_OPTIONAL_COMPONENTS; do
    if answer=$(kubectl --namespace kube-system get "${entry%%=*}" --output name 2>&1) || [[ "$answer" != *"(NotFound)"* ]]; then
      printf '%s\n' "$entry"
    fi
  done
}

# install::rollout: waits for every component the release has (within the time left); reports
# each pod that is not ready and exits 6 naming the components.
install::rollout() {
  local entry component failed=""
  for entry in $(install::present_components); do
    component=${entry%%=*}
    lab::attempt_seconds 180
    if kubectl --namespace kube-system rollout status "$component" --timeout "${LAB_ATTEMPT_SECONDS}s" >&2; then
      continue
    fi
    failed="${failed:+${failed}, }${component}"
    install::report_not_ready "$component" "${entry#*=}" || true
  done
  [[ -z "$failed" ]] || log::error_exit 6 "not rolled out: ${failed} (see the CILIUM_LAB_NOT_READY lines: pod, node, reason)"
}

install::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  lab::deadline_start 240
  kube::env
  kube::need helm kubectl python3 base64
  [[ "$LAB_CILIUM_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    log::error_exit 2 "LAB_CILIUM_VERSION='${LAB_CILIUM_VERSION}' is not a chart version such as 1.16.3"
  INSTALL_WORK=$(mktemp -d)
  trap 'rm -rf -- "$INSTALL_WORK"' EXIT
  (
    umask 077
    printf '%s' "$LAB_VALUES_B64" | base64 -d >"${INSTALL_WORK}/values.yaml"
  ) || log::error_exit 2 "the values sent by the CLI are not valid base64"

  retry::until_deadline "helm repo add cilium ${LAB_HELM_REPO_URL}" 20 install::repo_add ||
    log::error_exit 4 "cannot add the Helm repository ${LAB_HELM_REPO_URL}: ${LAB_LAST_ERROR}"
  retry::until_deadline "helm pull cilium/cilium --version ${LAB_CILIUM_VERSION}" 20 install::pull ||
    log::error_exit 4 "cannot pull the cilium chart ${LAB_CILIUM_VERSION} from ${LAB_HELM_REPO_URL}: ${LAB_LAST_ERROR}"

  local status=0
  install::check_keys "${INSTALL_WORK}/chart/cilium" || status=$?
  ((status == 0)) ||
    log::error_exit "$status" "the values do not fit the cilium ${LAB_CILIUM_VERSION} chart pulled from ${LAB_HELM_REPO_URL} (see CILIUM_LAB_UNKNOWN_KEY lines); nothing was installed"

  local chart="${INSTALL_WORK}/chart/cilium" pulled
  pulled=$(install::chart_version "$chart")
  [[ "$pulled" == "$LAB_CILIUM_VERSION" ]] ||
    log::error_exit 4 "the pulled chart is version '${pulled}', not ${LAB_CILIUM_VERSION}; nothing was installed"

  install::recover_pending
  log::info "helm upgrade --install cilium ${LAB_CILIUM_VERSION} from the checked chart (waits up to ${LAB_HELM_TIMEOUT})"
  local helm_status=0
  helm upgrade --install cilium "$chart" --namespace kube-system \
    -f "${INSTALL_WORK}/values.yaml" --wait --timeout "$LAB_HELM_TIMEOUT" || helm_status=$?
  if ((helm_status != 0)); then
    # Helm gave up (often: agents that never become Ready): say which pods and why, then fail.
    local entry
    for entry in $(install::present_components); do install::report_not_ready "${entry%%=*}" "${entry#*=}" || true; done
    log::error_exit "$helm_status" "helm upgrade --install cilium failed (exit ${helm_status}); pods not ready are on the CILIUM_LAB_NOT_READY lines"
  fi
  # Helm has waited already: what is still rolling out gets 3 more minutes in all.
  lab::deadline_start 180
  install::rollout
  printf 'CILIUM_LAB_HELM %s\n' "$(helm list --namespace kube-system --filter '^cilium$' --output json)"
}

# `${BASH_SOURCE[0]:-$0}`: also runs when the rendered script is fed to bash on stdin or -c.
if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  install::main "$@"
fi
