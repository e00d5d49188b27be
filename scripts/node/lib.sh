#!/usr/bin/env bash
# Shared helpers for the scripts that run ON the lab's instances: logging, a bootstrap
# deadline, bounded retries, and the readiness signal to CloudFormation.
# The renderer (lib/infra/node-user-data.ts) inlines this file where a role script says
# "# lab:include lib.sh"; run by hand, the role scripts source it instead.
set -o errexit -o nounset -o pipefail -o errtrace

# Bash built-ins these scripts rely on instead of forking date(1): EPOCHSECONDS (bash 5.0),
# printf '%(...)T' (4.2), {fd}> redirections (4.1). Ubuntu 22.04 ships bash 5.1, 24.04 bash 5.2.
if ((BASH_VERSINFO[0] < 5)); then
  echo "cilium-lab: these scripts need bash >= 5.0 (this is ${BASH_VERSION})" >&2
  exit 1
fi

LAB_LOG_FILE="${LAB_LOG_FILE:-/var/log/cilium-lab/bootstrap.log}"
LAB_LAST_ERROR=""
# Set by an attempt whose failure cannot heal (HTTP 404, a package version that does not exist, a
# kubeadm preflight error): retry::until_deadline stops at once with it as the reason.
LAB_PERMANENT_ERROR=""
LAB_SIGNALLED=""
LAB_DEADLINE=0

# Time without forking a process (bash >= 5.0: EPOCHSECONDS; Ubuntu 22.04 ships bash 5.1, 24.04 5.2).
# LAB_FAKE_CLOCK_FILE is for tests only: a file holding the time in seconds, which lab::pause
# advances instead of sleeping, so retries and deadlines take no real time and never straddle a
# second boundary.
lab::now() {
  if [[ -n "${LAB_FAKE_CLOCK_FILE:-}" ]]; then
    read -r LAB_NOW <"$LAB_FAKE_CLOCK_FILE"
  else
    LAB_NOW=$EPOCHSECONDS
  fi
}

# lab::pause SECONDS: waits (the only place a script waits on purpose; callers bound SECONDS).
lab::pause() {
  if [[ -n "${LAB_FAKE_CLOCK_FILE:-}" ]]; then
    lab::now
    printf '%s\n' "$((LAB_NOW + $1))" >"$LAB_FAKE_CLOCK_FILE"
  else
    sleep "$1"
  fi
}

# log::stamp: the UTC time of a log line, in LAB_STAMP (printf's own clock, no date(1) fork).
log::stamp() {
  TZ=UTC0 printf -v LAB_STAMP '%(%Y-%m-%dT%H:%M:%SZ)T' -1
}

log::info() {
  log::stamp
  printf '%s [%s] %s\n' "$LAB_STAMP" "${LAB_NODE_NAME:-node}" "$*" >&2
}

# log::error_exit CODE MESSAGE: records MESSAGE as the reason CloudFormation will show, then exits.
log::error_exit() {
  local code=$1
  shift
  LAB_LAST_ERROR="$*"
  log::stamp
  printf '%s [%s] ERROR: %s\n' "$LAB_STAMP" "${LAB_NODE_NAME:-node}" "$*" >&2
  exit "$code"
}

# lab::start_log: every line of the bootstrap also goes to LAB_LOG_FILE (root only).
LAB_TEE_PID=""
LAB_CONSOLE_FD=""
lab::start_log() {
  install -d -m 0700 "$(dirname "$LAB_LOG_FILE")"
  touch "$LAB_LOG_FILE"
  chmod 0600 "$LAB_LOG_FILE"
  exec {LAB_CONSOLE_FD}>&2
  exec > >(tee -a "$LAB_LOG_FILE") 2>&1
  LAB_TEE_PID=$!
}

# lab::flush_log: the tee of lab::start_log writes behind the script; before the log's last lines
# are read (the failure reason), stop writing to it and give tee up to 5 s to drain. What the
# script prints afterwards goes to the console only.
lab::flush_log() {
  [[ -n "$LAB_TEE_PID" ]] || return 0
  exec >&"$LAB_CONSOLE_FD" 2>&1
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$LAB_TEE_PID" 2>/dev/null || break
    read -r -t 0.1 <> <(:) || true # a 0.1 s wait without a process (bounded: 50 rounds)
  done
  LAB_TEE_PID=""
}

# lab::deadline_start SECONDS: the whole bootstrap must finish within SECONDS.
lab::deadline_start() {
  lab::now
  LAB_DEADLINE=$((LAB_NOW + $1))
}

# lab::seconds_left: the seconds until the deadline, in LAB_SECONDS_LEFT (no subshell, no fork).
lab::seconds_left() {
  lab::now
  LAB_SECONDS_LEFT=$((LAB_DEADLINE - LAB_NOW))
}

# lab::attempt_seconds MAX: how long the next single attempt may take (LAB_ATTEMPT_SECONDS): MAX,
# or what is left of the deadline when less (at least 1), so no attempt outlives the deadline and
# a failing node still has the time to tell CloudFormation why.
lab::attempt_seconds() {
  lab::seconds_left
  LAB_ATTEMPT_SECONDS=$1
  ((LAB_SECONDS_LEFT >= LAB_ATTEMPT_SECONDS)) || LAB_ATTEMPT_SECONDS=$LAB_SECONDS_LEFT
  ((LAB_ATTEMPT_SECONDS >= 1)) || LAB_ATTEMPT_SECONDS=1
}

# retry::until_deadline WHAT MAX_INTERVAL COMMAND...: runs COMMAND until it succeeds, backing
# off from 2 s up to MAX_INTERVAL s, and gives up (status 1) when the bootstrap deadline passes,
# or at once when an attempt set LAB_PERMANENT_ERROR (a failure that retrying cannot fix).
# COMMAND runs in a condition, where errexit is off: functions given here must `|| return 1`.
retry::until_deadline() {
  local what=$1 max_interval=$2
  shift 2
  local attempt=1 delay=2 left
  ((delay <= max_interval)) || delay=$max_interval
  LAB_PERMANENT_ERROR=""
  until "$@"; do
    if [[ -n "$LAB_PERMANENT_ERROR" ]]; then
      LAB_LAST_ERROR="${what}: ${LAB_PERMANENT_ERROR} (attempt ${attempt}; not retried)"
      log::info "$LAB_LAST_ERROR"
      return 1
    fi
    lab::seconds_left
    left=$LAB_SECONDS_LEFT
    if ((left <= 0)); then
      LAB_LAST_ERROR="${what}: still failing after ${attempt} attempts when the bootstrap deadline passed"
      log::info "$LAB_LAST_ERROR"
      return 1
    fi
    ((delay < left)) || delay=$left
    log::info "${what}: attempt ${attempt} failed; next in ${delay}s (${left}s left)"
    lab::pause "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
    ((delay <= max_interval)) || delay=$max_interval
  done
}

# lab::signal_body STATUS REASON: the JSON a CloudFormation wait condition handle takes.
lab::signal_body() {
  python3 -c 'import json, sys
status, node, reason = sys.argv[1:4]
print(json.dumps({"Status": status, "UniqueId": node, "Reason": f"{node}: {reason}"[:1000], "Data": status}))' \
    "$1" "$LAB_NODE_NAME" "$2"
}

# lab::signal STATUS REASON: tells CloudFormation this node is done (SUCCESS) or why it failed.
lab::signal() {
  local body
  body=$(lab::signal_body "$1" "$2")
  LAB_SIGNALLED=$1
  retry::until_deadline "readiness signal" 10 \
    curl --fail --silent --show-error --max-time 20 -X PUT -H 'Content-Type:' --data-binary "$body" "$LAB_READY_URL"
}

# lab::on_exit: on any failure, signal FAILURE with the recorded reason and the log's last lines,
# so `cdk deploy` fails with the node's own words instead of a timeout.
lab::on_exit() {
  local status=$?
  if ((status != 0)) && [[ -z "$LAB_SIGNALLED" ]]; then
    lab::flush_log
    local tail_lines=""
    if [[ -r "$LAB_LOG_FILE" ]]; then
      tail_lines=$(tail -n 8 "$LAB_LOG_FILE" | tr -c '[:print:]\n' ' ' | tr '\n' '|')
    fi
    lab::deadline_start 60
    lab::signal FAILURE "exit ${status}: ${LAB_LAST_ERROR:-see /var/log/cilium-lab/bootstrap.log} | last log lines: ${tail_lines}" || true
  fi
}

# lab::record_error: ERR trap; keeps the failing command's source text (never its expanded
# arguments, so no secret can leak into the reason). A more specific reason set before (by
# retry::until_deadline or log::error_exit) is kept.
lab::record_error() {
  [[ -n "$LAB_LAST_ERROR" ]] || LAB_LAST_ERROR="line $1: '$2' failed with status $3"
}

lab::install_traps() {
  trap 'lab::record_error "$LINENO" "$BASH_COMMAND" "$?"' ERR
  trap lab::on_exit EXIT
}

# apt::update_once: one `apt-get update` that FAILS when any source failed. Plain `apt-get
# update` exits 0 with a dropped index (a pkgs.k8s.io blip) and the install then finds no
# package; APT::Update::Error-Mode=any (apt >= 2.1.16, apt's NEWS; Ubuntu 22.04 ships 2.4) makes
# it an error. Waits for the boot-time unattended-upgrades lock within the attempt's time.
apt::update_once() {
  lab::attempt_seconds 300
  timeout --kill-after=10 "$LAB_ATTEMPT_SECONDS" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o APT::Update::Error-Mode=any -o DPkg::Lock::Timeout="$LAB_ATTEMPT_SECONDS" -q update
}

apt::update() {
  retry::until_deadline "apt-get update" 30 apt::update_once
}

APT_INSTALL_FAILED=""

# apt::install_once PACKAGE...: one install attempt. After a failed attempt the next one updates
# the indexes first. A version or package that an up-to-date index does not have is permanent.
apt::install_once() {
  local out status=0
  if [[ -n "$APT_INSTALL_FAILED" ]]; then
    # An attempt cut off by its timeout may leave dpkg half done ("dpkg was interrupted"): finish it.
    lab::attempt_seconds 300
    timeout --kill-after=10 "$LAB_ATTEMPT_SECONDS" env DEBIAN_FRONTEND=noninteractive dpkg --configure -a >&2 || true
    apt::update_once || return 1
  fi
  out=$(mktemp)
  lab::attempt_seconds 600
  timeout --kill-after=10 "$LAB_ATTEMPT_SECONDS" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout="$LAB_ATTEMPT_SECONDS" -y -q install "$@" >"$out" 2>&1 || status=$?
  cat -- "$out" >&2
  if ((status != 0)); then
    APT_INSTALL_FAILED=1
    # apt-get's words for a package or version the (just updated) index does not have.
    if grep -Eq "^E: (Version '[^']*' for '[^']*' was not found|Unable to locate package )" "$out"; then
      LAB_PERMANENT_ERROR=$(grep -E '^E: ' "$out" | head -n 1 | cut -c 4-300)
    fi
  fi
  rm -f -- "$out"
  return "$status"
}

# apt::install PACKAGE...: apt-get install, retried until the deadline unless the package or
# version does not exist.
apt::install() {
  APT_INSTALL_FAILED=""
  retry::until_deadline "apt-get install $*" 30 apt::install_once "$@"
}

# lab::write_hosts FILE: every lab host (LAB_HOSTS: "ip name,ip name,...") in FILE, as one block
# between markers that a rerun replaces (the study's hosts know each other by name).
lab::write_hosts() {
  local file=$1 tmp entry entries
  tmp=$(mktemp)
  sed '/^# cilium-lab hosts begin$/,/^# cilium-lab hosts end$/d' "$file" >"$tmp"
  IFS=, read -ra entries <<<"$LAB_HOSTS"
  {
    echo '# cilium-lab hosts begin'
    for entry in "${entries[@]}"; do
      printf '%s\n' "$entry"
    done
    echo '# cilium-lab hosts end'
  } >>"$tmp"
  cat -- "$tmp" >"$file"
  rm -f -- "$tmp"
}

# lab::set_hostname: the instance's own name (LAB_NODE_NAME), kept across reboots (cloud-init
# would put the EC2 name, ip-192-168-10-10, back at the next boot), and every lab host in /etc/hosts.
lab::set_hostname() {
  hostnamectl set-hostname "$LAB_NODE_NAME"
  printf 'preserve_hostname: true\n' >/etc/cloud/cloud.cfg.d/99-cilium-lab-hostname.cfg
  lab::write_hosts /etc/hosts
}

# net::default_route_interface: the device of the default IPv4 route with the lowest metric
# (tune-nic.sh tunes it, node-facts.sh and collect-logs.sh read it: always the same NIC).
net::default_route_interface() {
  ip -4 route show default | awk '
    { dev = ""; metric = 0
      for (i = 1; i < NF; i++) { if ($i == "dev") dev = $(i + 1); if ($i == "metric") metric = $(i + 1) + 0 }
      if (dev != "" && (best == "" || metric < best_metric)) { best = dev; best_metric = metric } }
    END { if (best != "") print best }'
}

# Where net::lab_routes keeps the routes across reboots (a variable for tests).
LAB_NETPLAN_DIR="${LAB_NETPLAN_DIR:-/etc/netplan}"

# net::lab_routes: the instance's own routes (LAB_ROUTES: "CIDR via GATEWAY,..."; empty: none),
# set now (ip route replace: a rerun changes nothing) and kept for later boots in a netplan file
# on the default-route interface. Netplan reads /etc/netplan/*.yaml in name order and a later file
# amends the same interface's definition (cloud-init's 50-cloud-init.yaml names it by the same
# interface name), so the DHCP setup stays cloud-init's and the routes are this file's.
# Profile bgp: Cilium's BGP control plane installs no route it receives, so every instance routes
# the pod range and the LoadBalancer pool via the router's address in its own subnet.
net::lab_routes() {
  local file="${LAB_NETPLAN_DIR}/90-cilium-lab-routes.yaml" dev entry to via i entries
  local -a tos=() vias=()
  [[ -n "$LAB_ROUTES" ]] || return 0
  dev=$(net::default_route_interface)
  [[ -n "$dev" ]] || log::error_exit 11 "no default IPv4 route: cannot tell which interface the routes in LAB_ROUTES leave by"
  IFS=, read -ra entries <<<"$LAB_ROUTES"
  for entry in "${entries[@]}"; do
    read -r to via <<<"${entry/ via / }"
    [[ "$entry" == *" via "* && -n "$to" && -n "$via" ]] || log::error_exit 11 "LAB_ROUTES entry '${entry}' is not 'CIDR via GATEWAY'"
    tos+=("$to")
    vias+=("$via")
  done
  {
    printf 'network:\n  version: 2\n  ethernets:\n    %s:\n      routes:\n' "$dev"
    for i in "${!tos[@]}"; do printf '        - to: %s\n          via: %s\n' "${tos[i]}" "${vias[i]}"; done
  } >"${file}.tmp"
  chmod 0600 "${file}.tmp"
  mv -f -- "${file}.tmp" "$file"
  for i in "${!tos[@]}"; do
    ip -4 route replace "${tos[i]}" via "${vias[i]}" dev "$dev"
    log::info "route ${tos[i]} via ${vias[i]} dev ${dev} (kept in ${file})"
  done
}

# net::download_once URL FILE: one download, bounded by 120 s or the time left. HTTP 408, 429 and
# 5xx (and network errors) may heal; any other 4xx (404: a release that was never published, 403)
# is permanent.
net::download_once() {
  local url=$1 file=$2 code status=0
  lab::attempt_seconds 120
  code=$(curl --silent --show-error --location --max-time "$LAB_ATTEMPT_SECONDS" --output "$file" \
    --write-out '%{http_code}' -- "$url") || status=$?
  if ((status == 0)) && [[ "$code" == 2?? ]]; then
    return 0
  fi
  rm -f -- "$file"
  case "$code" in
    408 | 429 | 5??) ;;
    4??) LAB_PERMANENT_ERROR="HTTP ${code} from ${url}" ;;
  esac
  log::info "download ${url}: curl exit ${status}, HTTP ${code:-none}"
  return 1
}

# net::download URL FILE: a download retried until the deadline, unless it cannot heal.
net::download() {
  retry::until_deadline "download $1" 20 net::download_once "$1" "$2"
}
