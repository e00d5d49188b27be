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
# Output: one line per request:
#   CILIUM_LAB_NODEPORT {"service":"webpod-nodeport","node":"k8s-s","ip":"192.168.10.10","port":30080,"attempt":1,"exit":0,"hostname":"webpod1","remote":"192.168.10.10:41234","error":""}
# `exit` is curl's exit status (7: refused, 28: timed out); `error` its last message line.
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
  local pair service port target node ip attempt body code hostname remote error
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
      for ((attempt = 1; attempt <= requests; attempt++)); do
        code=0
        body=$(curl -sS --max-time "$timeout" "http://${ip}:${port}/" 2>&1) || code=$?
        hostname=$(awk '$1 == "Hostname:" { print $2; exit }' <<<"$body")
        remote=$(awk '$1 == "RemoteAddr:" { print $2; exit }' <<<"$body")
        error=""
        ((code == 0)) || error=$(tail -n 1 <<<"$body")
        printf '%s {"service":"%s","node":"%s","ip":"%s","port":%d,"attempt":%d,"exit":%d,"hostname":"%s","remote":"%s","error":"%s"}\n' \
          "$NODEPORT_TAG" "$(probe::clean "$service")" "$(probe::clean "$node")" "$ip" "$port" "$attempt" "$code" \
          "$(probe::clean "$hostname")" "$(probe::clean "$remote")" "$(probe::clean "$error")"
      done
    done
  done
}

probe::main "$@"
