#!/usr/bin/env bash
# Gathers a lab node's logs after a failure (`lab logs`), as root over SSM Run Command: one
# node-logs.tar.gz of what an allow-list names, and on the control plane also `cilium sysdump`.
# Each artifact goes up with curl to the S3 presigned PUT URL the CLI gives (lib/lab/logs.ts),
# which then downloads it and checks its sha256 against the line printed here.
#
# Values (the CLI fills them in):
#   LAB_NODE_LOGS_URL            presigned PUT URL of node-logs.tar.gz; required.
#   LAB_SYSDUMP_URL              presigned PUT URL of cilium-sysdump.zip; empty: no sysdump (workers, testpc).
#   LAB_LOGS_SINCE               how far back journald goes, a `journalctl --since` value ("6 hours ago");
#                                also `cilium sysdump --logs-since-time` when `date -d` reads it.
#   LAB_SYSDUMP_TIMEOUT_SECONDS  cilium sysdump is killed (timeout(1)) after this.
#   LAB_UPLOAD_TIMEOUT_SECONDS   curl --max-time of one upload attempt; an upload is retried (HTTP 5xx,
#                                408, 429, S3's 400 RequestTimeout, network errors; never another 4xx)
#                                for up to twice this.
# Never printed: a presigned URL is a credential for its object. xtrace is switched off before the
# values, curl reads the URL from its config on stdin, and curl's own error text is dropped (the
# error says what failed from curl's exit status and the HTTP status instead).
#
# Parameters (environment, for tests):
#   LAB_COLLECT_ROOT=/          prefix of the files read (a test plants files under it); commands
#                               (ip, journalctl, ...) are the machine's.
#   LAB_COLLECT_TMPDIR=/var/tmp where the work directory is made (removed on exit).
#   LAB_KUBECONFIG              the admin kubeconfig (kube-lib.sh; default /etc/kubernetes/admin.conf).
#
# node-logs.tar.gz holds one directory, node-logs/ (best effort: a failing item is noted in
# collect.log and the rest goes on; a missing tool is skipped):
#   collect.log                          what was collected, from where, and what failed
#   journal/<unit>.log, journal/kernel.log  journalctl --since LAB_LOGS_SINCE (COLLECT_UNITS)
#   files/<path>                         allow-listed files, each its last COLLECT_FILE_CAP bytes:
#                                        /var/log/cloud-init-output.log, /var/log/syslog (COLLECT_SYSLOG_CAP),
#                                        /var/log/cilium-lab/*.log, /etc/netplan/*.yaml,
#                                        /usr/lib/os-release (or /etc/os-release)
#   system/   uname, dmesg, sysctl net.ipv4.ip_forward
#   network/  ip -d link, ip addr, ip route, ip -6 route, ip rule, ss -s, ethtool -i/-l/-k of the
#             default-route NIC
#   containers/crictl-ps.txt             crictl ps -a
#   kubernetes/{nodes,pods,events}.txt   kubectl, where the admin kubeconfig is (control plane)
# Only the files named above are read, regular files only (a symlink is refused): never
# /etc/kubernetes, /var/lib/kubelet/pki, /run/cilium-lab or a kubeadm config. Everything collected
# is also passed through a filter masking kubeadm tokens and AWS signature parameters.
# Size: each item is its last N bytes (files and journals 5 MiB, syslog 10 MiB, command output
# 2 MiB) and all together stop at COLLECT_TOTAL_CAP, 48 MiB before compression (syslog comes last),
# so node-logs.tar.gz stays under 50 MB; a few MB is usual.
# Time: gathering stops after COLLECT_BUDGET_SECONDS, 100 s (a command gets at most 30 s), the
# sysdump is killed after LAB_SYSDUMP_TIMEOUT_SECONDS (+5 s for a KILL), each upload gives up after
# 2 x LAB_UPLOAD_TIMEOUT_SECONDS: at worst about 110 + LAB_SYSDUMP_TIMEOUT_SECONDS +
# 4 x LAB_UPLOAD_TIMEOUT_SECONDS seconds in all (the CLI's deadline, collectionTimeoutMs, allows more).
#
# Output on stdout, one line per artifact (the sysdump line only when LAB_SYSDUMP_URL is set):
#   CILIUM_LAB_ARTIFACT {"name":"node-logs.tar.gz","bytes":12345,"sha256":"<hex>","uploaded":true}
#   CILIUM_LAB_ARTIFACT {"name":"cilium-sysdump.zip","bytes":0,"sha256":"","uploaded":false,"error":"cilium sysdump failed (exit 124: timed out after 480 s)"}
# bytes and sha256 are those of the file sent (0 and "" when there is none); "error" only when
# something failed. Progress goes to stderr, a few lines.
# Exit status: 0 node-logs.tar.gz uploaded (whatever became of the sysdump: see its line);
# 2 bad values; 3 node-logs.tar.gz could not be built; 4 node-logs.tar.gz could not be uploaded.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail
{ set +o xtrace; } 2>/dev/null

# lab:values begin (examples: the CLI fills these in, see lib/lab/logs.ts)
LAB_NODE_LOGS_URL="http://127.0.0.1:9/cilium-lab-logs/k8s-s/node-logs.tar.gz?X-Amz-Signature=example"
LAB_SYSDUMP_URL=""
LAB_LOGS_SINCE="6 hours ago"
LAB_SYSDUMP_TIMEOUT_SECONDS="480"
LAB_UPLOAD_TIMEOUT_SECONDS="300"
# lab:values end

# lab:include lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # lab:standalone-only
# lab:include kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh" # lab:standalone-only

readonly COLLECT_TAG=CILIUM_LAB_ARTIFACT
readonly COLLECT_TOP=node-logs
readonly COLLECT_FILE_CAP=$((5 * 1024 * 1024))
readonly COLLECT_SYSLOG_CAP=$((10 * 1024 * 1024))
readonly COLLECT_OUTPUT_CAP=$((2 * 1024 * 1024))
readonly COLLECT_TOTAL_CAP=$((48 * 1024 * 1024))
readonly COLLECT_BUDGET_SECONDS=100
readonly COLLECT_STEP_SECONDS=30
readonly COLLECT_SYSDUMP_LOGS_LIMIT=$((10 * 1024 * 1024))
# kubelet and containerd, the lab's own unit (tune-nic.sh), cloud-init's stages (the bootstrap runs
# in cloud-final), the network (netplan -> networkd) and the SSM agent that runs the lab's steps.
readonly -a COLLECT_UNITS=(kubelet.service containerd.service cilium-lab-nic-channels.service
  cloud-init-local.service cloud-init.service cloud-config.service cloud-final.service
  systemd-networkd.service snap.amazon-ssm-agent.amazon-ssm-agent.service)
readonly COLLECT_URL_PATTERN='^https?://[^[:space:]"\\]+$'

COLLECT_ROOT=""
COLLECT_WORK=""
COLLECT_STAGE=""
COLLECT_LOG=""
COLLECT_ITEMS=0
COLLECT_PROBLEMS=0
COLLECT_BYTES_LEFT=$COLLECT_TOTAL_CAP
COLLECT_SECONDS=0
COLLECT_CAP=0
COLLECT_SIZE=0
COLLECT_PUT_ERROR=""
COLLECT_PUT_ATTEMPTS=0
COLLECT_PUT_LIMIT=0
COLLECT_SYSDUMP_FILE=""
COLLECT_SYSDUMP_ERROR=""

# collect::check_values: exits 2 before anything is collected; never prints a URL.
collect::check_values() {
  [[ -n "$LAB_NODE_LOGS_URL" ]] || log::error_exit 2 "LAB_NODE_LOGS_URL is empty: nowhere to upload node-logs.tar.gz"
  [[ "$LAB_NODE_LOGS_URL" =~ $COLLECT_URL_PATTERN ]] ||
    log::error_exit 2 "LAB_NODE_LOGS_URL is not an http(s) URL without spaces, quotes or backslashes"
  if [[ -n "$LAB_SYSDUMP_URL" && ! "$LAB_SYSDUMP_URL" =~ $COLLECT_URL_PATTERN ]]; then
    log::error_exit 2 "LAB_SYSDUMP_URL is not an http(s) URL without spaces, quotes or backslashes"
  fi
  [[ -n "$LAB_LOGS_SINCE" ]] || log::error_exit 2 "LAB_LOGS_SINCE is empty (a journalctl --since value, e.g. '6 hours ago')"
  local name
  for name in LAB_SYSDUMP_TIMEOUT_SECONDS LAB_UPLOAD_TIMEOUT_SECONDS; do
    [[ "${!name}" =~ ^[1-9][0-9]{0,5}$ ]] || log::error_exit 2 "${name}='${!name}' is not a whole number of seconds"
  done
}

collect::note() {
  local stamp
  TZ=UTC0 printf -v stamp '%(%H:%M:%S)T' -1
  printf '%s %s\n' "$stamp" "$*" >>"$COLLECT_LOG"
}

# collect::problem TEXT: a collect.log line for an item that failed or was skipped.
collect::problem() {
  COLLECT_PROBLEMS=$((COLLECT_PROBLEMS + 1))
  collect::note "$*"
}

# collect::redact: masks kubeadm bootstrap tokens and the signature parts of AWS presigned URLs
# (defence in depth: the allow-list keeps secret files out already).
collect::redact() {
  LC_ALL=C sed -E \
    -e 's/\b([a-z0-9]{6})\.[a-z0-9]{16}\b/\1.<redacted>/g' \
    -e 's/(X-Amz-(Signature|Credential|Security-Token)=)[^&[:space:]"]*/\1<redacted>/g'
}

# collect::limits OUT CAP: sets COLLECT_SECONDS and COLLECT_CAP, what the next item may take:
# COLLECT_STEP_SECONDS or what is left of the time budget, CAP bytes or what is left of
# COLLECT_TOTAL_CAP. Status 1 (noted) when either budget is spent.
collect::limits() {
  local out=$1
  COLLECT_CAP=$2
  lab::seconds_left
  COLLECT_SECONDS=$LAB_SECONDS_LEFT
  if ((COLLECT_SECONDS <= 0)); then
    collect::problem "${out}: skipped, the collection budget of ${COLLECT_BUDGET_SECONDS} s is spent"
    return 1
  fi
  if ((COLLECT_BYTES_LEFT <= 0)); then
    collect::problem "${out}: skipped, the size budget of ${COLLECT_TOTAL_CAP} bytes is spent"
    return 1
  fi
  ((COLLECT_SECONDS < COLLECT_STEP_SECONDS)) || COLLECT_SECONDS=$COLLECT_STEP_SECONDS
  ((COLLECT_CAP <= COLLECT_BYTES_LEFT)) || COLLECT_CAP=$COLLECT_BYTES_LEFT
}

# collect::took FILE: counts FILE, and its size (COLLECT_SIZE) against the size budget.
collect::took() {
  COLLECT_SIZE=$(stat -c %s -- "$1")
  COLLECT_ITEMS=$((COLLECT_ITEMS + 1))
  COLLECT_BYTES_LEFT=$((COLLECT_BYTES_LEFT - COLLECT_SIZE))
}

# collect::cmd OUT CAP COMMAND...: the last CAP bytes of COMMAND's output, redacted, as OUT in the
# bundle; its stderr (the first lines) and exit status go to collect.log. Never fails.
collect::cmd() {
  local out=$1 cap=$2 status=0
  shift 2
  local dest="${COLLECT_STAGE}/${out}" err="${COLLECT_WORK}/stderr"
  if ! command -v -- "$1" >/dev/null 2>&1; then
    collect::problem "${out}: skipped, $1 is not installed"
    return 0
  fi
  collect::limits "$out" "$cap" || return 0
  [[ -d "${dest%/*}" ]] || mkdir -p -- "${dest%/*}"
  if timeout --kill-after=5 "$COLLECT_SECONDS" "$@" 2>"$err" </dev/null | tail -c "$COLLECT_CAP" | collect::redact >"$dest"; then
    status=0
  else
    status=${PIPESTATUS[0]}
  fi
  collect::took "$dest"
  if ((status == 0)); then
    collect::note "${out}: $* -> ${COLLECT_SIZE} bytes"
  elif ((status == 124 || status == 137)); then
    collect::problem "${out}: $* -> timed out after ${COLLECT_SECONDS} s"
  else
    collect::problem "${out}: $* -> exit ${status}"
  fi
  if [[ -s "$err" ]]; then
    head -c 2000 -- "$err" | collect::redact | sed 's/^/    stderr: /' >>"$COLLECT_LOG"
  fi
}

# collect::file PATH OUT CAP: the last CAP bytes of the regular file PATH (under LAB_COLLECT_ROOT),
# redacted, as OUT; status 1 when it is not there. A symlink is refused: it could lead out of the
# allow-list.
collect::file() {
  local path=$1 out=$2 size
  local src="${COLLECT_ROOT}${path}" dest="${COLLECT_STAGE}/${out}"
  if [[ -L "$src" ]]; then
    collect::problem "${out}: skipped, ${path} is a symlink"
    return 1
  fi
  if [[ ! -f "$src" ]]; then
    collect::note "${out}: ${path} is not there"
    return 1
  fi
  collect::limits "$out" "$3" || return 0
  [[ -d "${dest%/*}" ]] || mkdir -p -- "${dest%/*}"
  size=$(stat -c %s -- "$src")
  if timeout "$COLLECT_SECONDS" tail -c "$COLLECT_CAP" -- "$src" | collect::redact >"$dest"; then
    collect::took "$dest"
    collect::note "${out}: ${path}, ${size} bytes$( ((size <= COLLECT_CAP)) || echo ", its last ${COLLECT_CAP}")"
  else
    collect::problem "${out}: reading ${path} failed"
  fi
}

# collect::files DIR GLOB CAP: collect::file for each regular file DIR/GLOB, as files/DIR/NAME.
collect::files() {
  local dir=$1 glob=$2 cap=$3 path
  for path in "${COLLECT_ROOT}${dir}"/$glob; do
    [[ -e "$path" || -L "$path" ]] || continue
    collect::file "${dir}/${path##*/}" "files${dir}/${path##*/}" "$cap" || true
  done
}

collect::journal() {
  local unit
  for unit in "${COLLECT_UNITS[@]}"; do
    collect::cmd "journal/${unit%.service}.log" "$COLLECT_FILE_CAP" \
      journalctl --no-pager --utc -o short-iso --since "$LAB_LOGS_SINCE" --unit "$unit"
  done
  collect::cmd journal/kernel.log "$COLLECT_FILE_CAP" journalctl --no-pager --utc -o short-iso --since "$LAB_LOGS_SINCE" --dmesg
}

# collect::lab: the system and what the lab's own scripts logged, first (the most telling, and
# cheap).
collect::lab() {
  collect::cmd system/uname.txt "$COLLECT_OUTPUT_CAP" uname -a
  # Ubuntu's /etc/os-release is a symlink to /usr/lib/os-release.
  collect::file /usr/lib/os-release files/usr/lib/os-release "$COLLECT_FILE_CAP" ||
    collect::file /etc/os-release files/etc/os-release "$COLLECT_FILE_CAP" || true
  collect::files "$(dirname "$LAB_LOG_FILE")" '*.log' "$COLLECT_FILE_CAP"
  collect::file /var/log/cloud-init-output.log files/var/log/cloud-init-output.log "$COLLECT_FILE_CAP" || true
  collect::cmd system/sysctl-ip-forward.txt "$COLLECT_OUTPUT_CAP" sysctl net.ipv4.ip_forward
}

# collect::kernel: last, with syslog (the largest, and mostly what journald already gave).
collect::kernel() {
  collect::cmd system/dmesg.txt "$COLLECT_OUTPUT_CAP" dmesg -T
  collect::file /var/log/syslog files/var/log/syslog "$COLLECT_SYSLOG_CAP" || true
}

collect::network() {
  local nic
  collect::cmd network/ip-link.txt "$COLLECT_OUTPUT_CAP" ip -d link show
  collect::cmd network/ip-addr.txt "$COLLECT_OUTPUT_CAP" ip addr show
  collect::cmd network/ip-route.txt "$COLLECT_OUTPUT_CAP" ip route show
  collect::cmd network/ip6-route.txt "$COLLECT_OUTPUT_CAP" ip -6 route show
  collect::cmd network/ip-rule.txt "$COLLECT_OUTPUT_CAP" ip rule show
  collect::cmd network/ss-summary.txt "$COLLECT_OUTPUT_CAP" ss -s
  nic=$(net::default_route_interface 2>/dev/null) || nic=""
  if [[ -n "$nic" ]]; then
    collect::cmd network/ethtool-i.txt "$COLLECT_OUTPUT_CAP" ethtool -i "$nic"
    collect::cmd network/ethtool-l.txt "$COLLECT_OUTPUT_CAP" ethtool -l "$nic"
    collect::cmd network/ethtool-k.txt "$COLLECT_OUTPUT_CAP" ethtool -k "$nic"
  else
    collect::problem "network/ethtool-*.txt: skipped, no default IPv4 route to find the NIC by"
  fi
  collect::files /etc/netplan '*.yaml' "$COLLECT_FILE_CAP"
}

# collect::admin_kubeconfig: true when the admin kubeconfig is readable (the control plane); then
# kube::env has set KUBECONFIG, HOME and PATH (/usr/local/bin: the pinned cilium-cli).
collect::admin_kubeconfig() {
  [[ -r "${LAB_KUBECONFIG:-/etc/kubernetes/admin.conf}" ]] || return 1
  kube::env
}

collect::cluster() {
  collect::cmd containers/crictl-ps.txt "$COLLECT_OUTPUT_CAP" \
    crictl --runtime-endpoint unix:///run/containerd/containerd.sock ps -a
  if ! collect::admin_kubeconfig; then
    collect::note "kubernetes/: skipped, no admin kubeconfig here (not the control plane)"
    return 0
  fi
  collect::cmd kubernetes/nodes.txt "$COLLECT_OUTPUT_CAP" kubectl --request-timeout=20s get nodes -o wide
  collect::cmd kubernetes/pods.txt "$COLLECT_OUTPUT_CAP" kubectl --request-timeout=20s get pods -A -o wide
  collect::cmd kubernetes/events.txt "$COLLECT_OUTPUT_CAP" \
    kubectl --request-timeout=20s get events -A --sort-by=.metadata.creationTimestamp
}

# collect::router: on the router of profile bgp (where FRR's vtysh is), FRR's configuration as it
# runs, its sessions and its BGP table, and its journal; elsewhere nothing (not even a note).
collect::router() {
  command -v vtysh >/dev/null 2>&1 || return 0
  collect::cmd frr/running-config.txt "$COLLECT_OUTPUT_CAP" vtysh -c 'show running-config'
  collect::cmd frr/bgp-summary.txt "$COLLECT_OUTPUT_CAP" vtysh -c 'show bgp summary'
  collect::cmd frr/bgp-table.txt "$COLLECT_OUTPUT_CAP" vtysh -c 'show ip bgp'
  collect::cmd journal/frr.log "$COLLECT_FILE_CAP" journalctl --no-pager --utc -o short-iso --since "$LAB_LOGS_SINCE" -u frr.service
}

# collect::bundle TARBALL: collects everything into the stage and packs it.
collect::bundle() {
  local tarball=$1
  COLLECT_STAGE="${COLLECT_WORK}/${COLLECT_TOP}"
  COLLECT_LOG="${COLLECT_STAGE}/collect.log"
  mkdir -p -- "$COLLECT_STAGE"
  collect::note "cilium-lab collect-logs on $(uname -n) ($(uname -r)), journald since '${LAB_LOGS_SINCE}'," \
    "files read under ${COLLECT_ROOT:-/}, budget ${COLLECT_BUDGET_SECONDS} s"
  lab::deadline_start "$COLLECT_BUDGET_SECONDS"
  collect::lab
  collect::network
  collect::cluster
  collect::router
  collect::journal
  collect::kernel
  collect::note "done: ${COLLECT_ITEMS} items, $((COLLECT_TOTAL_CAP - COLLECT_BYTES_LEFT)) bytes, ${COLLECT_PROBLEMS} failed or skipped"
  tar --create --gzip --file "$tarball" --directory "$COLLECT_WORK" "$COLLECT_TOP"
}

# collect::since_seconds: LAB_LOGS_SINCE as seconds before now, when date(1) reads it.
collect::since_seconds() {
  local since now
  since=$(date -d "$LAB_LOGS_SINCE" +%s 2>/dev/null) || return 1
  now=$EPOCHSECONDS # the wall clock date(1) read "6 hours ago" against, never the test clock
  ((now > since)) || return 1
  echo $((now - since))
}

# collect::sysdump: runs cilium sysdump (the cilium-cli the control plane's bootstrap installed)
# in its own directory, temp files there too; sets COLLECT_SYSDUMP_FILE or COLLECT_SYSDUMP_ERROR.
# Flags cilium-cli has had all along (v0.16.24 to v0.20.0 included): --output-filename NAME writes
# NAME.zip in the working directory; --logs-since-time DURATION and --logs-limit-bytes N bound the
# pods' logs (defaults: a year, 1 GiB each). Not --quick: it skips the agents' logs and bugtool.
# sysdump reads no Secret's data (it only checks cilium-etcd-secrets exists).
collect::sysdump() {
  local dir="${COLLECT_WORK}/sysdump" status=0 since last
  local console="${dir}/console.log"
  if ! collect::admin_kubeconfig; then
    COLLECT_SYSDUMP_ERROR="cilium sysdump not run: no admin kubeconfig here (it runs on the control plane)"
    return 0
  fi
  if ! command -v cilium >/dev/null; then
    COLLECT_SYSDUMP_ERROR="cilium sysdump not run: cilium (cilium-cli) is not installed"
    return 0
  fi
  mkdir -p -- "${dir}/tmp"
  local -a args=(sysdump --output-filename cilium-sysdump --logs-limit-bytes "$COLLECT_SYSDUMP_LOGS_LIMIT")
  if since=$(collect::since_seconds); then
    args+=(--logs-since-time "${since}s")
  fi
  log::info "cilium ${args[*]} (at most ${LAB_SYSDUMP_TIMEOUT_SECONDS} s)"
  (cd "$dir" && TMPDIR="${dir}/tmp" exec timeout --kill-after=5 "$LAB_SYSDUMP_TIMEOUT_SECONDS" cilium "${args[@]}") \
    >"$console" 2>&1 </dev/null || status=$?
  if ((status == 124 || status == 137)); then
    COLLECT_SYSDUMP_ERROR="cilium sysdump failed (exit ${status}: timed out after ${LAB_SYSDUMP_TIMEOUT_SECONDS} s)"
  elif ((status != 0)); then
    last=$(grep -v '^[[:space:]]*$' "$console" | tail -n 1 | collect::redact) || last=""
    COLLECT_SYSDUMP_ERROR="cilium sysdump failed (exit ${status})${last:+: ${last:0:300}}"
  elif [[ ! -s "${dir}/cilium-sysdump.zip" ]]; then
    COLLECT_SYSDUMP_ERROR="cilium sysdump exited 0 but wrote no cilium-sysdump.zip"
  else
    COLLECT_SYSDUMP_FILE="${dir}/cilium-sysdump.zip"
  fi
}

# collect::curl_error STATUS HTTP_CODE MAX_TIME: what went wrong, from curl's exit status (never
# from curl's own message, which can hold the URL).
collect::curl_error() {
  case "$1" in
    22) echo "HTTP $2" ;;
    28) echo "timed out after $3 s" ;;
    6) echo "could not resolve the host" ;;
    7) echo "could not connect" ;;
    35 | 60) echo "TLS failure (curl exit $1)" ;;
    52 | 55 | 56) echo "connection lost (curl exit $1)" ;;
    *) echo "curl exit $1${2:+ (HTTP $2)}" ;;
  esac
}

# collect::put_once FILE URL: one PUT of FILE, bounded by LAB_UPLOAD_TIMEOUT_SECONDS and the upload
# deadline. Status 0 when there is nothing more to try: sent (COLLECT_PUT_ERROR empty) or refused
# for good (another 4xx than 408/429: a bad or expired signature does not heal); 1 to retry.
collect::put_once() {
  local file=$1 url=$2 left max code status=0
  lab::seconds_left
  left=$LAB_SECONDS_LEFT
  ((left >= 1)) || left=1
  max=$LAB_UPLOAD_TIMEOUT_SECONDS
  ((max <= left)) || max=$left
  COLLECT_PUT_ATTEMPTS=$((COLLECT_PUT_ATTEMPTS + 1))
  local answer="${COLLECT_WORK}/put-answer"
  rm -f -- "$answer"
  # Not --fail: S3's error document says whether a 400 is worth retrying (RequestTimeout).
  code=$(curl --silent --show-error -X PUT --upload-file "$file" --max-time "$max" \
    --output "$answer" --write-out '%{http_code}' --config - 2>/dev/null <<<"url = \"${url}\"") || status=$?
  if ((status == 0)) && [[ "$code" == 2?? ]]; then
    COLLECT_PUT_ERROR=""
    return 0
  fi
  if ((status == 0)); then
    status=22
  fi
  COLLECT_PUT_ERROR=$(collect::curl_error "$status" "$code" "$max")
  case "$code" in
    408 | 429) return 1 ;;
    400) grep -qs '<Code>RequestTimeout</Code>' "$answer" && return 1 ;;
  esac
  case "$code" in
    4??) return 0 ;;
  esac
  return 1
}

# collect::upload NAME FILE URL: PUTs FILE, retried until LAB_UPLOAD_TIMEOUT_SECONDS x 2 have
# passed; status 0 sent, 1 not (COLLECT_PUT_ERROR says why).
collect::upload() {
  local name=$1 file=$2 url=$3
  COLLECT_PUT_ATTEMPTS=0
  COLLECT_PUT_LIMIT=$((LAB_UPLOAD_TIMEOUT_SECONDS * 2))
  lab::deadline_start "$COLLECT_PUT_LIMIT"
  if ! retry::until_deadline "upload of ${name}" 30 collect::put_once "$file" "$url"; then
    COLLECT_PUT_ERROR="${COLLECT_PUT_ERROR:-no attempt made} (still failing after ${COLLECT_PUT_LIMIT} s)"
  fi
  if [[ -n "$COLLECT_PUT_ERROR" ]]; then
    COLLECT_PUT_ERROR="upload failed after ${COLLECT_PUT_ATTEMPTS} attempt$( ((COLLECT_PUT_ATTEMPTS == 1)) || echo s): ${COLLECT_PUT_ERROR}"
    log::info "${name}: ${COLLECT_PUT_ERROR}"
    return 1
  fi
  log::info "${name}: uploaded ($(stat -c %s -- "$file") bytes, attempt ${COLLECT_PUT_ATTEMPTS})"
}

# collect::artifact NAME FILE UPLOADED ERROR: the CILIUM_LAB_ARTIFACT line (FILE empty: none).
collect::artifact() {
  local name=$1 file=$2 uploaded=$3 error=$4 bytes=0 sha=""
  if [[ -n "$file" && -f "$file" ]]; then
    bytes=$(stat -c %s -- "$file")
    sha=$(sha256sum -- "$file")
    sha=${sha%% *}
  fi
  error=$(printf '%s' "$error" | tr -d '\042\134\000-\037')
  printf '%s {"name":"%s","bytes":%s,"sha256":"%s","uploaded":%s%s}\n' \
    "$COLLECT_TAG" "$name" "$bytes" "$sha" "$uploaded" "${error:+,\"error\":\"${error}\"}"
}

collect::main() {
  : "${LAB_NODE_NAME:=$(uname -n)}"
  collect::check_values
  COLLECT_ROOT=$(realpath -m -- "${LAB_COLLECT_ROOT:-/}")
  COLLECT_ROOT=${COLLECT_ROOT%/}
  umask 077
  COLLECT_WORK=$(mktemp -d "${LAB_COLLECT_TMPDIR:-/var/tmp}/cilium-lab-logs.XXXXXX") ||
    log::error_exit 3 "cannot make a work directory under ${LAB_COLLECT_TMPDIR:-/var/tmp}"
  trap 'cd / && rm -rf -- "$COLLECT_WORK"' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT

  local tarball="${COLLECT_WORK}/node-logs.tar.gz" tar_status=0 exit_status=0
  collect::bundle "$tarball" || tar_status=$?
  if ((tar_status != 0)); then
    collect::artifact node-logs.tar.gz "" false "tar failed (exit ${tar_status})"
    exit_status=3
  else
    log::info "node-logs.tar.gz: ${COLLECT_ITEMS} items, ${COLLECT_PROBLEMS} failed or skipped (see its collect.log), $(stat -c %s -- "$tarball") bytes"
    if collect::upload node-logs.tar.gz "$tarball" "$LAB_NODE_LOGS_URL"; then
      collect::artifact node-logs.tar.gz "$tarball" true ""
    else
      collect::artifact node-logs.tar.gz "$tarball" false "$COLLECT_PUT_ERROR"
      exit_status=4
    fi
  fi

  if [[ -n "$LAB_SYSDUMP_URL" ]]; then
    collect::sysdump
    if [[ -n "$COLLECT_SYSDUMP_ERROR" ]]; then
      log::info "$COLLECT_SYSDUMP_ERROR"
      collect::artifact cilium-sysdump.zip "" false "$COLLECT_SYSDUMP_ERROR"
    elif collect::upload cilium-sysdump.zip "$COLLECT_SYSDUMP_FILE" "$LAB_SYSDUMP_URL"; then
      collect::artifact cilium-sysdump.zip "$COLLECT_SYSDUMP_FILE" true ""
    else
      collect::artifact cilium-sysdump.zip "$COLLECT_SYSDUMP_FILE" false "$COLLECT_PUT_ERROR"
    fi
  fi
  return "$exit_status"
}

# `${BASH_SOURCE[0]:-$0}`: also runs when the rendered script is fed to bash on stdin or -c.
if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  collect::main "$@"
fi
