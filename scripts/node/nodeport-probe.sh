#!/usr/bin/env bash
# Asks NodePort services from outside the cluster, as root over SSM Run Command on testpc (the
# study's `curl <node IP>:<node port>` from the test host): every Kubernetes node's IP, on each
# node port, a few times, and reports who answered. traefik/whoami answers with the pod's
# Hostname and the RemoteAddr it saw. Changes nothing; the judging happens in the CLI
# (lib/checks/scenarios/nodeport.ts).
#
# Parameters (environment variables):
#   LAB_PROBE_TARGETS   space-separated node=IP pairs, e.g. "k8s-s=192.168.10.10 k8s-w1=192.168.10.101"
#   LAB_PROBE_PORTS     space-separated service=nodePort pairs, e.g. "webpod-nodeport=30080 webpod-local=30081"
#   LAB_PROBE_REQUESTS  requests per node and port (default 4)
#   LAB_PROBE_TIMEOUT   seconds per request (curl --max-time, default 3)
#
# Output: one line per node and port (so a 50-node lab stays within the 24,000 characters of
# stdout SSM returns), the requests counted by who answered:
#   CILIUM_LAB_NODEPORT {"service":"webpod-nodeport","node":"k8s-s","ip":"192.168.10.10","port":30080,"requests":4,"answers":{"webpod1":2,"webpod2":2},"failed":0,"lastExit":0,"error":""}
# `failed` requests got no answer; `lastExit` is curl's exit status of the last one (7: refused,
# 28: timed out) and `error` its last message line.
# Exit status: 0 every request was made (whatever it answered); 2 a parameter is missing or wrong.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none: nodeport-probe.sh takes its parameters from the environment, see above)
# lab:values end

NODEPORT_TAG="CILIUM_LAB_NODEPORT"

# probe::clean TEXT: TEXT as a JSON string body: quotes, backslashes and control characters dropped.
probe::clean() {
  printf '%s' "$1" | tr -d '"\\\000-\037'
}

probe::main() {
  local targets=${LAB_PROBE_TARGETS:-} ports=${LAB_PROBE_PORTS:-}
  local requests=${LAB_PROBE_REQUESTS:-4} timeout=${LAB_PROBE_TIMEOUT:-3}
  if [[ -z "$targets" || -z "$ports" ]]; then
    echo "nodeport-probe: set LAB_PROBE_TARGETS (node=IP ...) and LAB_PROBE_PORTS (service=nodePort ...)" >&2
    exit 2
  fi
  if ! [[ "$requests" =~ ^[1-9][0-9]?$ && "$timeout" =~ ^[1-9][0-9]?$ ]]; then
    echo "nodeport-probe: LAB_PROBE_REQUESTS and LAB_PROBE_TIMEOUT must be whole numbers from 1 to 99" >&2
    exit 2
  fi
  command -v curl >/dev/null || {
    echo "nodeport-probe: curl is not installed" >&2
    exit 2
  }
  local pair service port target node ip attempt body code hostname error failed last_exit counts
  for pair in $ports; do
    service=${pair%%=*} port=${pair#*=}
    [[ "$port" =~ ^[0-9]{1,5}$ ]] || {
      echo "nodeport-probe: ${pair}: want service=nodePort" >&2
      exit 2
    }
    for target in $targets; do
      node=${target%%=*} ip=${target#*=}
      [[ "$ip" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || {
        echo "nodeport-probe: ${target}: want node=IPv4" >&2
        exit 2
      }
      local -A answers=()
      failed=0 last_exit=0 error=""
      for ((attempt = 1; attempt <= requests; attempt++)); do
        code=0
        body=$(curl -sS --max-time "$timeout" "http://${ip}:${port}/" 2>&1) || code=$?
        hostname=$(awk '$1 == "Hostname:" { print $2; exit }' <<<"$body")
        if ((code == 0)) && [[ -n "$hostname" ]]; then
          hostname=$(probe::clean "$hostname")
          answers[$hostname]=$((${answers[$hostname]:-0} + 1))
        else
          failed=$((failed + 1))
          last_exit=$code
          error=$(tail -n 1 <<<"$body")
        fi
      done
      counts=""
      for hostname in "${!answers[@]}"; do counts+="${counts:+,}\"${hostname}\":${answers[$hostname]}"; done
      printf '%s {"service":"%s","node":"%s","ip":"%s","port":%d,"requests":%d,"answers":{%s},"failed":%d,"lastExit":%d,"error":"%s"}\n' \
        "$NODEPORT_TAG" "$(probe::clean "$service")" "$(probe::clean "$node")" "$ip" "$port" "$requests" "$counts" "$failed" "$last_exit" "$(probe::clean "$error")"
      unset answers
    done
  done
}

probe::main "$@"
