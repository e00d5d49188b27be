#!/usr/bin/env bash
# Measures a NodePort from outside the cluster, as root over SSM Run Command on testpc (`lab perf`,
# path nodeport-testpc): iperf3 to the iperf3 server's NodePort (throughput, LAB_PERF_REPEAT runs of
# LAB_PERF_SECONDS) and curl to the whoami NodePort (request/response, LAB_PERF_REQUESTS requests,
# curl's -w timings). testpc has iperf3, curl and python3 from its boot (testpc.sh). Changes nothing.
#
# Parameters (environment variables): LAB_PERF_TARGET (a node IP), LAB_PERF_IPERF_PORT,
# LAB_PERF_WEB_PORT, LAB_PERF_SECONDS, LAB_PERF_REPEAT, LAB_PERF_REQUESTS.
# Output: one CILIUM_LAB_IPERF line per iperf3 run (its -J document on one line) and one
# CILIUM_LAB_RR line per request (lib/exercises/perf-results.ts reads both).
# Exit status: 0 every run was made (a failed one reports its error in its line); 2 a bad parameter.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none: perf-probe.sh takes its parameters from the environment, see above)
# lab:values end

IPERF_TAG="CILIUM_LAB_IPERF"
RR_TAG="CILIUM_LAB_RR"

perf::number() {
  [[ "${2:-}" =~ ^[1-9][0-9]{0,4}$ ]] || { printf 'perf-probe: %s must be a whole number (got "%s")\n' "$1" "${2:-}" >&2; exit 2; }
}

perf::main() {
  local target=${LAB_PERF_TARGET:-} run request
  [[ "$target" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || { printf 'perf-probe: LAB_PERF_TARGET must be an IPv4 address (got "%s")\n' "$target" >&2; exit 2; }
  perf::number LAB_PERF_IPERF_PORT "${LAB_PERF_IPERF_PORT:-}"
  perf::number LAB_PERF_WEB_PORT "${LAB_PERF_WEB_PORT:-}"
  perf::number LAB_PERF_SECONDS "${LAB_PERF_SECONDS:-}"
  perf::number LAB_PERF_REPEAT "${LAB_PERF_REPEAT:-}"
  perf::number LAB_PERF_REQUESTS "${LAB_PERF_REQUESTS:-}"
  for ((run = 1; run <= LAB_PERF_REPEAT; run++)); do
    # iperf3 -J prints its JSON (an "error" member when it fails) and exits non-zero on failure; only
    # the figures lab perf reads are kept (the whole document is ~430 characters a second, and SSM
    # returns 24,000). --connect-timeout: a dropped SYN fails in 3 s (iperf3 >= 3.8).
    printf '%s %s\n' "$IPERF_TAG" "$(iperf3 -c "$target" -p "$LAB_PERF_IPERF_PORT" -t "$LAB_PERF_SECONDS" --connect-timeout 3000 -J 2>&1 | python3 -c 'import json, sys
text = sys.stdin.read()
try:
    doc = json.loads(text)
except ValueError:
    doc = {"error": text.strip().splitlines()[-1] if text.strip() else "iperf3 printed nothing"}
end = doc.get("end") or {}
kept = {"error": doc["error"]} if doc.get("error") else {"end": {"sum_received": end.get("sum_received", {}), "sum_sent": {"retransmits": (end.get("sum_sent") or {}).get("retransmits")}}}
print(json.dumps(kept, separators=(",", ":")))')"
  done
  for ((request = 1; request <= LAB_PERF_REQUESTS; request++)); do
    curl -s -o /dev/null --max-time 5 -w "${RR_TAG} {\"connect\":%{time_connect},\"firstByte\":%{time_starttransfer},\"total\":%{time_total},\"code\":%{http_code},\"exit\":0}\n" \
      "http://${target}:${LAB_PERF_WEB_PORT}/" || printf '%s {"connect":0,"firstByte":0,"total":0,"code":0,"exit":%d}\n' "$RR_TAG" "$?"
  done
}

perf::main "$@"
