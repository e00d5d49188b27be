/**
 * The network policy exercise (`lab check --suite policy`): the study's policy chapter, step by
 * step, each step proven by the client's own result and, for what a policy drops, by Hubble's
 * verdict for that flow. Each step first waits for what only its new policy causes (a drop, a 403),
 * so the allowed case after it is judged under the new policy, not the one before. The policies are the plain files of exercises/policy/ (a learner can `kubectl apply` them),
 * applied in order into the namespace cilium-lab-policy:
 *   l3       identity-based ingress: access=granted reaches the web pod, a client without the label
 *            is dropped (Policy denied: the first rule switched the pod to default deny); relabelling
 *            it changes its identity and the verdict (both identities shown);
 *   l4       only TCP 80: the web pod's second port, 8080, is dropped;
 *   l7       HTTP: GET /allowed answers 200, GET /forbidden gets 403 "Access denied" from Cilium's
 *            proxy, not a timeout; Hubble shows the refused request DROPPED;
 *   dns      egress by name: checkip.amazonaws.com answers, example.com does not (the DNS rule lets
 *            the proxy see the lookups; skipped with --no-internet);
 *   dns-search-path  the DNS rule narrowed: a search-path name is refused and the pod's stub
 *            resolver ends the lookup (exit 6); the full name with its final dot still answers;
 *   removed  the policies deleted: the unlabelled client reaches the web pod again.
 * The namespace (and with it the policies) is deleted afterwards, also on failure and Ctrl-C.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { CiliumNetworkPolicyDocument, KubePod, PodManifest } from '../kube/types.js';
import { pollUntil } from '../kube/wait.js';
import { check } from './builder.js';
import { IMAGES } from './datapath-fixture.js';
import { e } from './expectations.js';
import { CILIUM_AGENT_CONTAINER, CILIUM_AGENT_SELECTOR, KUBE_SYSTEM, execRecorded } from './helpers.js';
import { parseHubbleFlows } from './parsers.js';
import type { Check, Fixture, Scenario, ScenarioRun } from './types.js';

export const POLICY_NAMESPACE = 'cilium-lab-policy';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'cilium-lab' };
export const POLICY_DIR = new URL('../../exercises/policy/', import.meta.url);

/** The exercise's policy files, by step, as a learner reads them. */
export function policyFile(prefix: string): CiliumNetworkPolicyDocument {
  const name = readdirSync(POLICY_DIR).find((f) => f.startsWith(`${prefix}-`) && f.endsWith('.yaml'));
  if (!name) throw new Error(`exercises/policy has no ${prefix}-*.yaml`);
  const doc = parseYaml(readFileSync(new URL(name, POLICY_DIR), 'utf8')) as { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> };
  if (doc.kind !== 'CiliumNetworkPolicy' || !doc.metadata?.name || !doc.spec) throw new Error(`exercises/policy/${name} is not a CiliumNetworkPolicy with a name and a spec`);
  return { metadata: { name: doc.metadata.name }, spec: doc.spec };
}

export interface PolicyPods {
  readonly web: KubePod;
  readonly granted: KubePod;
  readonly other: KubePod;
  readonly setUpAt: Date;
}

const pinned = (node: string): Pick<PodManifest, 'nodeSelector' | 'tolerations'> => ({
  nodeSelector: { 'kubernetes.io/hostname': node },
  tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
});

export function policyPods(webNode: string, clientNode: string): PodManifest[] {
  const client = (name: string, labels: Record<string, string>): PodManifest => ({
    name,
    labels: { ...MANAGED_BY, app: 'client', ...labels },
    ...pinned(clientNode),
    containers: [{ name: 'netshoot', image: IMAGES.netshoot, command: ['sleep', 'infinity'] }],
  });
  return [
    {
      name: 'web',
      labels: { ...MANAGED_BY, app: 'web' },
      ...pinned(webNode),
      containers: [
        { name: 'whoami', image: IMAGES.whoami, ports: [{ containerPort: 80 }] },
        { name: 'whoami-alt', image: IMAGES.whoami, args: ['--port', '8080'], ports: [{ containerPort: 8080 }] },
      ],
    },
    client('client-granted', { access: 'granted' }),
    client('client-other', {}),
  ];
}

export const policyFixture: Fixture<PolicyPods> = {
  name: 'policy namespace',
  async setup(env, record) {
    const wait = { timeoutMs: env.options.podReadyTimeoutMs, pollIntervalMs: env.options.pollIntervalMs, signal: env.signal };
    const workers = env.lab.nodes.filter((n) => n.role === 'worker');
    const webNode = (workers[0] ?? env.lab.nodes[0])?.name as string;
    const clientNode = (workers[1] ?? env.lab.nodes.find((n) => n.name !== webNode) ?? env.lab.nodes[0])?.name as string;
    await env.kube.deleteNamespace(POLICY_NAMESPACE, { ...wait, timeoutMs: env.options.namespaceDeleteTimeoutMs });
    const createdAt = await env.kube.createNamespace(POLICY_NAMESPACE, MANAGED_BY);
    record(`create namespace ${POLICY_NAMESPACE}`, 'created');
    const manifests = policyPods(webNode, clientNode);
    for (const m of manifests) await env.kube.applyPod(POLICY_NAMESPACE, m);
    const [web, granted, other] = await Promise.all(manifests.map((m) => env.kube.waitForPodReady(POLICY_NAMESPACE, m.name, wait)));
    record('pods', `web ${web?.podIp} on ${webNode}; client-granted ${granted?.podIp}, client-other ${other?.podIp} on ${clientNode}`);
    return { web: web as KubePod, granted: granted as KubePod, other: other as KubePod, setUpAt: createdAt ?? new Date(Math.floor(Date.now() / 1000) * 1000) };
  },
  async teardown(env, record) {
    if (env.options.keepNamespace) return record(`keep namespace ${POLICY_NAMESPACE}`, 'kept (--keep-namespace)');
    const outcome = await env.kube.deleteNamespace(POLICY_NAMESPACE, { timeoutMs: env.options.namespaceDeleteTimeoutMs, pollIntervalMs: env.options.pollIntervalMs });
    record(`delete namespace ${POLICY_NAMESPACE}`, outcome);
  },
};

const EXPECT = {
  l3Granted: e('policy-l3-granted-reaches-web', 'a client labelled access=granted gets the web pod\'s answer, and Hubble shows the flow FORWARDED'),
  l3OtherDropped: e('policy-l3-other-dropped', 'a client without the label gets no answer (dropped: default deny once a policy selects the pod), and Hubble shows the flow DROPPED with "Policy denied"'),
  l3Relabel: e('policy-l3-relabel-changes-identity', 'labelling the other client access=granted gives it a new identity, and the web pod answers it'),
  l4Port80: e('policy-l4-port-80-only', 'the allowed client\'s flow to port 8080 is dropped (Hubble DROPPED), and port 80 answers it'),
  l7Allowed: e('policy-l7-get-allowed-200', 'GET /allowed answers 200 through Cilium\'s proxy'),
  l7Denied: e('policy-l7-other-403', 'GET /forbidden gets 403 "Access denied" from the proxy (an answer, not a timeout), and Hubble shows an L7 flow DROPPED'),
  dnsAllowed: e('policy-dns-fqdn-allowed', 'the client reaches checkip.amazonaws.com, the name its toFQDNs rule allows'),
  dnsDenied: e('policy-dns-other-name-dropped', 'the client\'s connection to example.com, a name no rule allows, is dropped (the name resolves; the packets go nowhere)'),
  dnsSearchPathRefused: e('policy-dns-narrow-rule-breaks-search', 'with the DNS rule narrowed to *.amazonaws.com., checkip.amazonaws.com no longer resolves (exit 6): a search-path name is refused and the pod\'s stub resolver ends the search'),
  dnsFullNameResolves: e('policy-dns-full-name-resolves', 'the same name written in full, checkip.amazonaws.com. (final dot), skips the search path and answers'),
  removedRestores: e('policy-removed-restores', 'with the policies deleted, the unlabelled client reaches the web pod again'),
} as const;

type Run = ScenarioRun<PolicyPods>;

/** One request from a client pod: curl's exit code, HTTP status and first body line. */
async function request(run: Run, client: KubePod, url: string, maxTime = 3): Promise<{ exit: number; code: string; body: string }> {
  const result = await execRecorded(run as ScenarioRun<unknown>, { namespace: POLICY_NAMESPACE, pod: client.name, container: 'netshoot' }, ['curl', '-s', '--max-time', String(maxTime), '-w', '\\nHTTP %{http_code}', url]);
  const lines = result.stdout.trimEnd().split('\n');
  const code = /^HTTP (\d{3})$/.exec(lines[lines.length - 1] ?? '')?.[1] ?? '000';
  // Envoy's 403 body is "Access denied\r\n".
  return { exit: result.exitCode, code, body: (lines.slice(0, -1).join('\n').split('\n')[0] ?? '').replace(/\r$/, '') };
}

const describe = (r: { exit: number; code: string; body: string }): string => (r.exit === 0 ? `HTTP ${r.code}${r.body ? ` "${r.body.slice(0, 40)}"` : ''}` : `curl exit ${r.exit}${r.exit === 28 ? ' (timed out: dropped)' : ''}`);

/** Hubble's flows from a client to the web pod with a verdict, read through the relay until one shows (bounded). */
async function hubbleVerdict(run: Run, client: KubePod, verdict: 'FORWARDED' | 'DROPPED', l7 = false): Promise<{ seen: boolean; detail: string }> {
  const relay = await run.env.kube.getService(KUBE_SYSTEM, 'hubble-relay');
  const port = relay?.ports[0]?.port;
  if (!relay?.clusterIp || port === undefined) return { seen: false, detail: 'service kube-system/hubble-relay not found' };
  const agents = await run.env.kube.listPods(KUBE_SYSTEM, CILIUM_AGENT_SELECTOR);
  const agent = agents.find((p) => p.nodeName === client.nodeName && p.phase === 'Running' && !p.terminating);
  if (!agent) return { seen: false, detail: `no running cilium agent on ${client.nodeName}` };
  const from = `${POLICY_NAMESPACE}/${client.name}`;
  const to = `${POLICY_NAMESPACE}/${run.fixture.web.name}`;
  const command = ['hubble', 'observe', '--server', `${relay.clusterIp}:${port}`, '--from-pod', from, '--to-pod', to, '--verdict', verdict, ...(l7 ? ['--type', 'l7'] : []), '--since', run.fixture.setUpAt.toISOString().replace(/\.\d+Z$/, 'Z'), '--last', '50', '-o', 'json'];
  const found = await pollUntil(
    `no ${verdict} flow from ${from} to ${to}`,
    async () => {
      const result = await execRecorded(run as ScenarioRun<unknown>, { namespace: KUBE_SYSTEM, pod: agent.name, container: CILIUM_AGENT_CONTAINER }, command);
      const flows = parseHubbleFlows(result.stdout).filter((f) => f.source === from && f.destination === to && f.verdict === verdict);
      return flows.length > 0 ? { done: true, value: flows } : { done: false, seen: `${flows.length} flow(s)` };
    },
    { timeoutMs: run.env.options.hubbleWaitMs, pollIntervalMs: Math.min(run.env.options.pollIntervalMs, 5_000), signal: run.env.signal },
  ).catch((error: Error) => error);
  if (found instanceof Error) return { seen: false, detail: `Hubble: ${found.message}` };
  if (l7) return { seen: true, detail: `Hubble: ${found.length} L7 ${verdict} flow(s)` };
  const reasons = [...new Set(found.map((f) => f.dropReason).filter((r): r is string => r !== undefined))];
  return { seen: true, detail: `Hubble: ${found.length} ${verdict} flow(s)${reasons.length ? ` (${reasons.join(', ')})` : ''}` };
}

/** A request until it gives the wanted kind of result: policies take a moment to reach the agents. */
async function settle(run: Run, client: KubePod, url: string, want: (r: { exit: number; code: string }) => boolean): Promise<{ exit: number; code: string; body: string }> {
  // A new policy takes a moment to be in force on every agent (CheckOptions.policyWaitMs).
  const deadline = Date.now() + run.env.options.policyWaitMs;
  let last = await request(run, client, url);
  while (!want(last) && Date.now() < deadline && !run.env.signal.aborted) {
    await new Promise((r) => setTimeout(r, Math.min(run.env.options.pollIntervalMs, 2_000)));
    last = await request(run, client, url);
  }
  return last;
}

const apply = async (run: Run, prefix: string): Promise<void> => {
  const policy = policyFile(prefix);
  await run.env.kube.applyCiliumNetworkPolicy(POLICY_NAMESPACE, policy);
  run.record(`kubectl apply -n ${POLICY_NAMESPACE} -f exercises/policy/${prefix}-*.yaml`, `ciliumnetworkpolicy.cilium.io/${policy.metadata.name} applied`);
};

const ok = (r: { exit: number; code: string }) => r.exit === 0 && r.code === '200';
const dropped = (r: { exit: number }) => r.exit === 28;
const webUrl = (run: Run, port = 80, path = '/') => `http://${run.fixture.web.podIp}${port === 80 ? '' : `:${port}`}${path}`;

export const policyL3: Scenario<PolicyPods> = {
  name: 'l3-identity',
  proves: 'identity-based L3 policy: the label, not the address, decides; the first policy switches the pod to default deny',
  expectations: [EXPECT.l3Granted, EXPECT.l3OtherDropped, EXPECT.l3Relabel],
  async run(run) {
    const { granted, other } = run.fixture;
    await apply(run, '01');
    // What only the new policy does first: the unlabelled client dropped.
    const o = await settle(run, other, webUrl(run), dropped);
    const hubble = await hubbleVerdict(run, other, 'DROPPED');
    run.expect(EXPECT.l3OtherDropped, dropped(o) && hubble.seen && /policy.denied/i.test(hubble.detail), `client-other: ${describe(o)}; ${hubble.detail}`);
    const g = await request(run, granted, webUrl(run));
    const forwarded = await hubbleVerdict(run, granted, 'FORWARDED');
    run.expect(EXPECT.l3Granted, ok(g) && forwarded.seen, `client-granted: ${describe(g)}; ${forwarded.detail}`);
    const before = await run.env.kube.getEndpointIdentity(POLICY_NAMESPACE, other.name);
    await run.env.kube.labelPod(POLICY_NAMESPACE, other.name, { access: 'granted' });
    let after: number | undefined;
    let relabelled: { exit: number; code: string; body: string };
    try {
      relabelled = await settle(run, other, webUrl(run), ok);
      // The agent updates the CiliumEndpoint when the identity changes; read it until it does (bounded).
      const deadline = Date.now() + run.env.options.policyWaitMs;
      after = await run.env.kube.getEndpointIdentity(POLICY_NAMESPACE, other.name);
      while (after === before && Date.now() < deadline && !run.env.signal.aborted) {
        await new Promise((r) => setTimeout(r, Math.min(run.env.options.pollIntervalMs, 2_000)));
        after = await run.env.kube.getEndpointIdentity(POLICY_NAMESPACE, other.name);
      }
    } finally {
      // The later steps need the client without the label, whatever happened here.
      await run.env.kube.labelPod(POLICY_NAMESPACE, other.name, { access: null });
    }
    const grantedIdentity = await run.env.kube.getEndpointIdentity(POLICY_NAMESPACE, granted.name);
    run.expect(
      EXPECT.l3Relabel,
      ok(relabelled) && before !== undefined && after !== undefined && before !== after,
      `client-other identity ${before ?? '?'} -> ${after ?? '?'} with access=granted (client-granted's: ${grantedIdentity ?? '?'}): ${describe(relabelled)}; label removed again`,
    );
  },
};

export const policyL4: Scenario<PolicyPods> = {
  name: 'l4-port',
  proves: 'L4 policy: only the allowed port answers',
  expectations: [EXPECT.l4Port80],
  async run(run) {
    await apply(run, '02');
    const p8080 = await settle(run, run.fixture.granted, webUrl(run, 8080), dropped);
    const hubble = await hubbleVerdict(run, run.fixture.granted, 'DROPPED');
    const p80 = await request(run, run.fixture.granted, webUrl(run));
    run.expect(EXPECT.l4Port80, ok(p80) && dropped(p8080) && hubble.seen, `port 8080: ${describe(p8080)}; ${hubble.detail}; port 80: ${describe(p80)}`);
  },
};

export const policyL7: Scenario<PolicyPods> = {
  name: 'l7-http',
  proves: 'L7 HTTP policy: the proxy answers a request no rule allows with 403, it does not drop it silently',
  expectations: [EXPECT.l7Allowed, EXPECT.l7Denied],
  async run(run) {
    await apply(run, '03');
    const denied = await settle(run, run.fixture.granted, webUrl(run, 80, '/forbidden'), (r) => r.code === '403');
    // L7 flows only: the earlier steps' L3/L4 drops do not count here.
    const hubble = await hubbleVerdict(run, run.fixture.granted, 'DROPPED', true);
    run.expect(EXPECT.l7Denied, denied.exit === 0 && denied.code === '403' && /access denied/i.test(denied.body) && hubble.seen, `GET /forbidden: ${describe(denied)}; ${hubble.detail}`);
    const allowed = await request(run, run.fixture.granted, webUrl(run, 80, '/allowed'));
    run.expect(EXPECT.l7Allowed, ok(allowed), `GET /allowed: ${describe(allowed)}`);
  },
};

export const policyDns: Scenario<PolicyPods> = {
  name: 'dns-fqdn',
  proves: 'DNS-aware egress policy: a toFQDNs rule lets a pod reach one external name and not another',
  expectations: [EXPECT.dnsAllowed, EXPECT.dnsDenied],
  async run(run) {
    if (!run.env.options.internet) run.skip('--no-internet: the names are on the internet');
    await apply(run, '04');
    // Resolved (the DNS rule lets the lookup through) and then dropped: exit 28, not 6 (no name).
    const no = await settle(run, run.fixture.granted, 'https://example.com', dropped);
    run.expect(EXPECT.dnsDenied, dropped(no), `example.com: ${describe(no)}`);
    const yes = await request(run, run.fixture.granted, 'https://checkip.amazonaws.com', 10);
    run.expect(EXPECT.dnsAllowed, ok(yes), `checkip.amazonaws.com: ${describe(yes)}`);
  },
};

export const policyDnsSearchPath: Scenario<PolicyPods> = {
  name: 'dns-search-path',
  proves: "a DNS rule narrower than \"*\" must let the resolver's search-path names through too, or even an allowed name stops resolving",
  expectations: [EXPECT.dnsSearchPathRefused, EXPECT.dnsFullNameResolves],
  async run(run) {
    if (!run.env.options.internet) run.skip('--no-internet: the name is on the internet');
    const reject = (await run.env.kube.getConfigMap(KUBE_SYSTEM, 'cilium-config'))?.data['tofqdns-dns-reject-response-code'] ?? 'refused';
    if (reject !== 'refused') run.skip(`cilium-config tofqdns-dns-reject-response-code=${reject}: a refused name answers NXDOMAIN and the resolver goes on, so there is no pitfall to show`);
    await apply(run, '05');
    const short = await settle(run, run.fixture.granted, 'http://checkip.amazonaws.com/', (r) => r.exit === 6);
    run.expect(EXPECT.dnsSearchPathRefused, short.exit === 6, `checkip.amazonaws.com: ${short.exit === 6 ? 'curl exit 6 (could not resolve)' : describe(short)}`);
    const full = await request(run, run.fixture.granted, 'http://checkip.amazonaws.com./', 10);
    run.expect(EXPECT.dnsFullNameResolves, ok(full), `checkip.amazonaws.com.: ${describe(full)}`);
  },
};

export const policyRemoved: Scenario<PolicyPods> = {
  name: 'policies-removed',
  proves: 'deleting the policies ends default deny: traffic is restored',
  expectations: [EXPECT.removedRestores],
  async run(run) {
    const names = await run.env.kube.deleteCiliumNetworkPolicies(POLICY_NAMESPACE);
    run.record(`kubectl delete ciliumnetworkpolicies -n ${POLICY_NAMESPACE} --all`, names.map((n) => `ciliumnetworkpolicy.cilium.io "${n}" deleted`).join('\n') || '(none)');
    const back = await settle(run, run.fixture.other, webUrl(run), ok);
    run.expect(EXPECT.removedRestores, ok(back), `client-other: ${describe(back)}`);
  },
};

/** The policy suite, its steps in order (each builds on the one before). */
export function policyChecks(): Check<unknown>[] {
  return [
    check('policy')
      .proves('Cilium enforces identity (L3), port (L4), HTTP (L7) and DNS-aware policies, and Hubble shows each verdict')
      .withFixture(policyFixture)
      .withScenarios(policyL3, policyL4, policyL7, policyDns, policyDnsSearchPath, policyRemoved)
      .build() as Check<unknown>,
  ];
}
