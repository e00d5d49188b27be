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

# lab::seconds_left: prints the seconds until the deadline (also left in LAB_SECONDS_LEFT).
lab::seconds_left() {
  lab::now
  LAB_SECONDS_LEFT=$((LAB_DEADLINE - LAB_NOW))
  echo "$LAB_SECONDS_LEFT"
}

# retry::until_deadline WHAT MAX_INTERVAL COMMAND...: runs COMMAND until it succeeds, backing
# off from 2 s up to MAX_INTERVAL s, and gives up (status 1) when the bootstrap deadline passes.
# COMMAND runs in a condition, where errexit is off: functions given here must `|| return 1`.
retry::until_deadline() {
  local what=$1 max_interval=$2
  shift 2
  local attempt=1 delay=2 left
  ((delay <= max_interval)) || delay=$max_interval
  until "$@"; do
    lab::seconds_left >/dev/null
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

# apt::install PACKAGE...: apt-get install that waits for the boot-time unattended-upgrades lock.
apt::install() {
  retry::until_deadline "apt-get install $*" 30 \
    env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q install "$@"
}

apt::update() {
  retry::until_deadline "apt-get update" 30 \
    env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q update
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

# net::download URL FILE: bounded download, retried until the deadline.
net::download() {
  retry::until_deadline "download $1" 20 \
    curl --fail --silent --show-error --location --max-time 120 --output "$2" "$1"
}
