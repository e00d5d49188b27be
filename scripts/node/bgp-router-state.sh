#!/usr/bin/env bash
# Reads the router's BGP state, as root over SSM Run Command on the router of profile bgp
# (lib/checks/scenarios/bgp.ts): FRR's session summary and BGP table as vtysh prints them
# (`show bgp summary json`, `show ip bgp json`), and the routes zebra installed in the kernel
# (`ip -json route show proto bgp`: one nexthop per node where a prefix is ECMP). Changes nothing.
#
# Output, one line each (compact JSON, so the whole fits SSM's 24,000 characters of stdout):
#   CILIUM_LAB_BGP_SUMMARY {"ipv4Unicast":{"peers":{"192.168.10.10":{"state":"Established",...}}}}
#   CILIUM_LAB_BGP_TABLE {"routes":{"172.16.0.0/24":[{"valid":true,"nexthops":[{"ip":"192.168.10.10"}]}]}}
#   CILIUM_LAB_BGP_KERNEL [{"dst":"10.20.0.0","nexthops":[{"gateway":"192.168.10.10"},...]}]
# Exit status: 0 read; 2 vtysh or python3 missing; 3 bgpd does not answer.
# shellcheck source-path=SCRIPTDIR
set -o errexit -o nounset -o pipefail

# lab:values begin (none: the script reads the router's own state)
# lab:values end

# router_state::compact TAG: prints TAG and stdin's JSON on one line, cut to what the checks read
# (python3's json: the router has no jq).
router_state::compact() {
  python3 -c 'import json, sys
tag, doc = sys.argv[1], json.load(sys.stdin)
def keep(d, keys):
    return {k: d[k] for k in keys if isinstance(d, dict) and k in d}
if tag.endswith("_SUMMARY"):
    family = doc.get("ipv4Unicast", doc)
    doc = {"ipv4Unicast": {"peers": {a: keep(p, ("remoteAs", "state", "pfxRcd")) for a, p in family.get("peers", {}).items()}}}
elif tag.endswith("_TABLE"):
    doc = {"routes": {prefix: [dict(keep(p, ("valid", "bestpath", "multipath")), nexthops=[keep(h, ("ip",)) for h in p.get("nexthops", [])]) for p in paths]
                      for prefix, paths in doc.get("routes", {}).items()}}
else:
    doc = [dict(keep(r, ("dst", "gateway")), **({"nexthops": [keep(h, ("gateway",)) for h in r["nexthops"]]} if "nexthops" in r else {})) for r in doc]
print(tag, json.dumps(doc, separators=(",", ":"), sort_keys=True))' "$1"
}

router_state::main() {
  local tool
  for tool in vtysh python3 ip; do
    command -v -- "$tool" >/dev/null || { echo "bgp-router-state: ${tool} is not installed on $(uname -n); is this the lab's router?" >&2; exit 2; }
  done
  local summary table
  if ! summary=$(vtysh -c 'show bgp summary json' 2>&1); then
    echo "bgp-router-state: bgpd does not answer: ${summary}" >&2
    exit 3
  fi
  table=$(vtysh -c 'show ip bgp json')
  router_state::compact CILIUM_LAB_BGP_SUMMARY <<<"$summary"
  router_state::compact CILIUM_LAB_BGP_TABLE <<<"$table"
  ip -json -4 route show proto bgp | router_state::compact CILIUM_LAB_BGP_KERNEL
}

if [[ "${BASH_SOURCE[0]:-$0}" == "$0" ]]; then
  router_state::main "$@"
fi
