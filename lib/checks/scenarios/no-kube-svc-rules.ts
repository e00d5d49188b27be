/**
 * On every node, no KUBE-SVC chain or rule in any iptables backend: nothing programs Services in
 * iptables (kube-proxy would create KUBE-SVC-* chains per Service). The same script counts the
 * portmap plugin's CNI-HOSTPORT rules, which the hostport scenario reads.
 */
import { EXPECT } from '../expectations.js';
import { remoteRecorded } from '../helpers.js';
import { taggedJson } from '../parsers.js';
import type { Scenario } from '../types.js';

export const IPTABLES_TAG = 'CILIUM_LAB_IPTABLES';

export const IPTABLES_SCRIPT = `set -o nounset -o pipefail
total_rules=0
total_chains=0
hostport_rules=0
backends=""
for save in iptables-save iptables-legacy-save iptables-nft-save; do
  command -v "$save" >/dev/null 2>&1 || continue
  dump=$("$save" 2>/dev/null) || continue
  rules=$(printf '%s\\n' "$dump" | grep -c -- '^-A KUBE-SVC-' || true)
  chains=$(printf '%s\\n' "$dump" | grep -c '^:KUBE-SVC-' || true)
  printf '%s\\n' "$dump" | grep -E '^(:|-A )KUBE-SVC-' | head -n 5 | sed "s/^/$save: /" || true
  hp=$(printf '%s\\n' "$dump" | grep -c -- '^-A CNI-HOSTPORT' || true)
  hostport_rules=$((hostport_rules + hp))
  total_rules=$((total_rules + rules))
  total_chains=$((total_chains + chains))
  backends="$backends $save"
done
printf '${IPTABLES_TAG} {"kubeSvcRules":%d,"kubeSvcChains":%d,"cniHostportRules":%d,"backends":"%s"}\\n' "$total_rules" "$total_chains" "$hostport_rules" "\${backends# }"
`;

export const noKubeSvcRules: Scenario = {
  name: 'no-kube-svc-rules',
  proves: 'Services are implemented in eBPF only: no node carries kube-proxy\'s KUBE-SVC iptables chains',
  expectations: [EXPECT.noKubeSvcRules],
  async run(run) {
    const results = await remoteRecorded(run, 'iptables-save | grep KUBE-SVC', run.env.lab.nodes, IPTABLES_SCRIPT);
    const problems: string[] = [];
    for (const r of results) {
      const facts = taggedJson(r.stdout, IPTABLES_TAG);
      if (r.status !== 'Success' || !facts) {
        problems.push(`${r.name}: no answer (${r.status}, exit ${r.exitCode}${r.note ? `; ${r.note}` : ''})`);
        continue;
      }
      if (!facts.backends) problems.push(`${r.name}: no iptables-save found`);
      const rules = Number(facts.kubeSvcRules);
      const chains = Number(facts.kubeSvcChains);
      if (rules > 0 || chains > 0) problems.push(`${r.name}: ${chains} KUBE-SVC chain(s), ${rules} rule(s)`);
    }
    run.expect(EXPECT.noKubeSvcRules, problems.length === 0, problems.length === 0 ? `no KUBE-SVC chains on ${results.length} node(s)` : problems.join('; '));
  },
};
