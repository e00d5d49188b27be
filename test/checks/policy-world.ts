/**
 * CiliumNetworkPolicy semantics for the test world (the policy exercise's steps), as Cilium's
 * policy docs state them (https://docs.cilium.io/en/stable/security/policy/language/):
 *   - an endpoint selected by a policy with ingress (egress) rules is default deny for ingress
 *     (egress): only what some rule allows passes;
 *   - fromEndpoints / toEndpoints match a peer's labels (matchLabels, all of them);
 *   - toPorts limits a rule to its ports; with rules.http only the listed method/path pairs pass
 *     and Envoy answers the others itself with 403 "Access denied";
 *   - toFQDNs allows names the DNS proxy saw resolved, so egress also needs a rule to kube-dns on
 *     port 53 whose rules.dns matches the lookups; without it the name does not resolve.
 */
type Json = Record<string, any>;

export type Verdict = 'allow' | 'drop' | 'l7-deny' | 'no-dns';

export type Target = { readonly kind: 'pod'; readonly labels: Readonly<Record<string, string>>; readonly port: number } | { readonly kind: 'fqdn'; readonly name: string; readonly port: number };

const matches = (selector: Json | undefined, labels: Readonly<Record<string, string>>): boolean =>
  Object.entries((selector?.matchLabels ?? {}) as Record<string, string>).every(([k, v]) => (k.startsWith('k8s:') ? false : labels[k] === v));

const portAllowed = (rule: Json, port: number): Json | undefined | false => {
  const toPorts = rule.toPorts as Json[] | undefined;
  if (!toPorts) return undefined;
  return toPorts.find((tp) => ((tp.ports ?? []) as Json[]).some((p) => Number(p.port) === port)) ?? false;
};

// A lone "*" matches every name; elsewhere "*" stands for one label's characters (Cilium's matchPattern: [-a-zA-Z0-9_]*).
const glob = (pattern: string, name: string): boolean => pattern === '*' || new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[-a-zA-Z0-9_]*')}\\.?$`).test(name);

/**
 * The names the pod's resolver asks for, in order: a full name (final dot) alone; a shorter one
 * (fewer than ndots:5 dots) with each search domain of a pod's resolv.conf first, then as it is.
 * The cluster answers NXDOMAIN for the expansions and the resolver goes on; a REFUSED from the
 * proxy ends the search. So every one of them must pass the DNS rule.
 */
export function lookups(name: string, namespace: string): string[] {
  if (name.endsWith('.')) return [name];
  const search = [`${namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'];
  return name.split('.').length - 1 < 5 ? [...search.map((d) => `${name}.${d}.`), `${name}.`] : [`${name}.`];
}

export function evaluate(policies: readonly Json[], client: Readonly<Record<string, string>>, target: Target, http: { method: string; path: string }, namespace = 'cilium-lab-policy'): Verdict {
  const specs = policies.map((p) => p.spec as Json);
  // Egress of the client.
  const egress = specs.filter((s) => matches(s.endpointSelector, client) && Array.isArray(s.egress));
  if (egress.length > 0) {
    const rules = egress.flatMap((s) => s.egress as Json[]);
    if (target.kind === 'fqdn') {
      const passes = (asked: string) =>
        rules.some((r) => ((r.toEndpoints ?? []) as Json[]).some((e) => (e.matchLabels as Json | undefined)?.['k8s-app'] === 'kube-dns') && ((r.toPorts ?? []) as Json[]).some((tp) => ((tp.rules?.dns ?? []) as Json[]).some((d) => (d.matchPattern ? glob(d.matchPattern as string, asked) : `${String(d.matchName).replace(/\.$/, '')}.` === asked))));
      if (!lookups(target.name, namespace).every(passes)) return 'no-dns';
      const bare = target.name.replace(/\.$/, '');
      const fqdn = rules.some((r) => ((r.toFQDNs ?? []) as Json[]).some((f) => (f.matchName ? f.matchName === bare : glob(String(f.matchPattern), bare))) && portAllowed(r, target.port) !== false);
      if (!fqdn) return 'drop';
    } else if (!rules.some((r) => ((r.toEndpoints ?? []) as Json[]).some((e) => matches(e, target.labels)) && portAllowed(r, target.port) !== false)) {
      return 'drop';
    }
  }
  if (target.kind === 'fqdn') return 'allow';
  // Ingress of the server.
  const ingress = specs.filter((s) => matches(s.endpointSelector, target.labels) && Array.isArray(s.ingress));
  if (ingress.length === 0) return 'allow';
  for (const rule of ingress.flatMap((s) => s.ingress as Json[])) {
    if (!((rule.fromEndpoints ?? []) as Json[]).some((e) => matches(e, client))) continue;
    const port = portAllowed(rule, target.port);
    if (port === false) continue;
    const httpRules = (port?.rules?.http ?? undefined) as Json[] | undefined;
    if (!httpRules) return 'allow';
    return httpRules.some((h) => (h.method === undefined || h.method === http.method) && (h.path === undefined || new RegExp(`^${h.path}$`).test(http.path))) ? 'allow' : 'l7-deny';
  }
  return 'drop';
}
