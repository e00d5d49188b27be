/**
 * The Cilium Helm values of a lab: the shipped files (helm-values/cilium.yaml + overlays such
 * as helm-values/xdp.yaml), the values computed from the LabConfig, and the user's overrides,
 * merged in that order and checked against the key list of the chart version being installed
 * (lib/cilium/chart-keys/<version>.json), because Helm itself ignores unknown keys silently.
 *
 * Pure except the explicit loaders at the end (loadChartKeys, supportedChartVersions,
 * loadValuesFile), which read files located relative to this module.
 */
import { RefusalError } from '../errors.js';
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { KUBE_API_PORT, minorOf, nearest } from '../config/catalog.js';
import type { LabPlan } from '../config/plan.js';
import { nativeRoutingCidr, profileOf } from '../config/profiles.js';
import { isPlainObject, parseChartKeys, valueTypeOf, type ChartKeys, type ChartValueType } from './chart-keys.js';


/** Helm values: a YAML mapping. */
export type HelmValues = Record<string, unknown>;

/** Raised with every problem found; each line names the key and the fix. A refusal: exit 2, before any AWS call. */
export class CiliumValuesError extends RefusalError {
  constructor(
    readonly problems: readonly string[],
    what = 'the Cilium Helm values are invalid',
  ) {
    super(`cilium-lab: ${what}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Orders x.y.z versions numerically (1.9.0 < 1.16.3). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

interface Leaf {
  readonly segments: readonly string[];
  readonly value: unknown;
}

/** Leaves of a values tree: scalars, lists and empty mappings, with the key segments leading to them. */
function leaves(values: unknown, prefix: readonly string[] = []): Leaf[] {
  if (!isPlainObject(values) || (Object.keys(values).length === 0 && prefix.length > 0)) {
    return [{ segments: prefix, value: values }];
  }
  return Object.entries(values).flatMap(([key, child]) => leaves(child, [...prefix, key]));
}

/**
 * Dotted path -> value of every leaf (scalar, list or empty mapping), in document order:
 * `{bpf: {masquerade: true}}` -> `{"bpf.masquerade": true}`. Lists are leaves.
 */
export function flattenValues(values: HelmValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const leaf of leaves(values)) {
    out[leaf.segments.join('.')] = leaf.value;
  }
  return out;
}

/**
 * Known wrong keys with the advice a "did you mean" alone would get wrong. `bpf.hostRouting` is
 * in the study's documented command; Helm drops it, and its real counterpart has the opposite
 * sense.
 */
export const KNOWN_WRONG_KEYS: Readonly<Record<string, string>> = {
  'bpf.hostRouting':
    'the sense is inverted: BPF host routing is `bpf.hostLegacyRouting: false` (the agent picks it by itself on kernels >= 5.10 with kube-proxy replacement and BPF masquerading)',
};

function describe(value: unknown): string {
  const type = valueTypeOf(value);
  if (type === 'string') return `the string ${JSON.stringify(value)}`;
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  return `${type} ${JSON.stringify(value)}`;
}

function typeFix(path: string, value: unknown, expected: readonly ChartValueType[]): string {
  const wanted = expected.filter((t) => t !== 'null');
  if (typeof value === 'string') {
    if (wanted.includes('boolean') && (value === 'true' || value === 'false')) return `write ${path}: ${value} without quotes`;
    if (wanted.includes('number') && /^-?\d+(\.\d+)?$/.test(value)) return `write ${path}: ${value} without quotes`;
    if (wanted.includes('array')) return `write ${path} as a YAML list`;
  }
  if (wanted.includes('string') && typeof value === 'number') {
    return `quote it: ${path}: "${String(value)}"`;
  }
  return `set ${path} to a ${wanted.join(' or ')}`;
}

/** The sub-keys of `parent` that the chart knows (`""` for the top level). */
function childrenOf(parent: string, chart: ChartKeys): string[] {
  const depth = parent === '' ? 1 : parent.split('.').length + 1;
  return Object.keys(chart.keys).filter(
    (path) => (parent === '' || path.startsWith(`${parent}.`)) && path.split('.').length === depth,
  );
}

/**
 * Checks Helm values against the key list of one chart version. Returns one message per
 * problem (empty when the values fit): unknown keys with the nearest valid key, values of a
 * type the chart's schema refuses, and, from Cilium 1.16 on, a kubeProxyReplacement that is not
 * true/false. Keys under open maps (podAnnotations.foo, nodeSelector.<label>) are accepted.
 */
export function checkValuesAgainstChart(values: HelmValues, chart: ChartKeys): string[] {
  const problems: string[] = [];
  const chartName = `cilium ${chart.version} chart`;
  const open = new Set(chart.openMaps);
  const kprMustBeBoolean = compareVersions(minorOf(chart.version), '1.16') >= 0;

  for (const { segments, value } of leaves(values)) {
    const path = segments.join('.');
    if (segments.slice(0, -1).some((_, i) => open.has(segments.slice(0, i + 1).join('.')))) {
      continue;
    }
    const expected = chart.keys[path];
    if (expected === undefined) {
      problems.push(unknownKeyProblem(segments, chart, chartName));
      continue;
    }
    if (path === 'kubeProxyReplacement' && kprMustBeBoolean) {
      if (value !== null && typeof value !== 'boolean') {
        const fix = value === 'true' || value === 'false' ? `write kubeProxyReplacement: ${value} without quotes` : 'set kubeProxyReplacement: true (no kube-proxy) or false';
        problems.push(
          `kubeProxyReplacement is ${describe(value)} but from cilium 1.16 it must be true or false (the old "strict", "partial" and "disabled" make the ${chartName} fail); ${fix}`,
        );
      }
      continue;
    }
    const actual = valueTypeOf(value);
    const typeKnown = !(expected.length === 1 && expected[0] === 'null');
    if (typeKnown && actual !== 'null' && !expected.includes(actual)) {
      problems.push(`${path} is ${describe(value)} but the ${chartName} takes ${expected.join(' or ')} there; ${typeFix(path, value, expected)}`);
    }
  }
  return problems;
}

function unknownKeyProblem(segments: readonly string[], chart: ChartKeys, chartName: string): string {
  const path = segments.join('.');
  // The deepest prefix the chart knows tells whether the key is misspelt or nested under a scalar.
  let known = '';
  for (let i = segments.length - 1; i >= 1; i--) {
    const prefix = segments.slice(0, i).join('.');
    if (chart.keys[prefix] !== undefined) {
      known = prefix;
      break;
    }
  }
  const knownTypes = known ? (chart.keys[known] as readonly ChartValueType[]) : undefined;
  if (knownTypes && !knownTypes.includes('object')) {
    return `${path} is not a key of the ${chartName}: ${known} takes ${knownTypes.join(' or ')}, it has no sub-keys; set ${known} itself`;
  }
  const siblings = known === segments.slice(0, -1).join('.') ? childrenOf(known, chart) : Object.keys(chart.keys);
  const hint = nearest(path, siblings.length > 0 ? siblings : Object.keys(chart.keys));
  const advice = KNOWN_WRONG_KEYS[path];
  return `${path} is not a key of the ${chartName}${hint ? `; did you mean ${hint}?` : ''}${advice ? ` Note: ${advice}` : ''}`;
}

/** Throws CiliumValuesError when the values do not fit the chart; `source` names them in the message. */
export function assertValuesFitChart(values: HelmValues, chart: ChartKeys, source: string): void {
  const problems = checkValuesAgainstChart(values, chart);
  if (problems.length > 0) {
    throw new CiliumValuesError(problems, `${source} does not fit the cilium ${chart.version} chart (Helm itself would ignore unknown keys silently)`);
  }
}

/** The values the lab computes from its config instead of hard-coding the study's addresses. */
export interface LabComputedValues {
  /** The agent reaches the API here: without kube-proxy the kubernetes.default ClusterIP is not programmed yet. */
  readonly k8sServiceHost: string;
  readonly k8sServicePort: number;
  /**
   * Destinations in this CIDR are routed natively, without masquerading: the POD CIDR. Cilium's
   * BPF masquerading exempts only this range (and other nodes' own addresses) from SNAT
   * (bpf/lib/nat.h snat_v4_needs_masquerade, v1.16.3 lines 618-666; Documentation/network/
   * concepts/masquerading.rst). The study's value, the VPC CIDR, left pod-to-pod traffic across
   * nodes SNATed to the node IP (so identities and client IPs were lost), and sent pod traffic to
   * non-node VPC hosts (testpc, the VPC resolver) with pod source addresses the VPC cannot route
   * back. With the pod CIDR, pods keep their IPs among themselves and reach the VPC as their node.
   */
  readonly ipv4NativeRoutingCIDR: string;
  /** And whatever the lab's profile computes (cluster-pool: ipam.operator's pool list and mask size). */
  readonly [key: string]: unknown;
}

export function labComputedValues(plan: LabPlan): LabComputedValues {
  return {
    k8sServiceHost: plan.controlPlane.privateIp,
    k8sServicePort: KUBE_API_PORT,
    // The pod ranges of the lab's profile (study: kubernetes.podCidr; cluster-pool: its pools).
    ipv4NativeRoutingCIDR: nativeRoutingCidr(plan.config),
    ...profileOf(plan.config).computedValues?.(plan.config),
  };
}

/** Deep merge, later wins; mappings merge key by key, lists and scalars replace (as Helm does). */
export function mergeValues(target: HelmValues, source: HelmValues): HelmValues {
  const out: HelmValues = structuredClone(target);
  for (const [key, value] of Object.entries(source)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : structuredClone(value);
  }
  return out;
}

export interface CiliumValuesParts {
  /** helm-values/cilium.yaml. */
  readonly base: HelmValues;
  /** Profiles applied in order, e.g. helm-values/xdp.yaml, each named for error messages. */
  readonly overlays?: readonly { readonly name: string; readonly values: HelmValues }[];
  /** labComputedValues(plan). */
  readonly computed: LabComputedValues;
  /** The user's own values, which win over everything. */
  readonly userOverrides?: HelmValues;
}

/** base, then each overlay, then the computed values, then the user's overrides; later wins. */
export function composeCiliumValues(parts: CiliumValuesParts): HelmValues {
  const layers: [string, unknown][] = [
    ['base values (helm-values/cilium.yaml)', parts.base],
    ...(parts.overlays ?? []).map((o): [string, unknown] => [`overlay ${o.name}`, o.values]),
    ['computed values', parts.computed],
    ['user overrides', parts.userOverrides ?? {}],
  ];
  const bad = layers.filter(([, v]) => !isPlainObject(v)).map(([name, v]) => `${name}: must be a mapping of chart keys (got ${describe(v)})`);
  if (bad.length > 0) {
    throw new CiliumValuesError(bad, 'cannot compose the Cilium Helm values');
  }
  return layers.reduce<HelmValues>((acc, [, v]) => mergeValues(acc, v as HelmValues), {});
}

/** The merged values as a YAML file for `helm install -f`; deterministic. */
export function renderCiliumValuesYaml(values: HelmValues, header?: string): string {
  const body = stringifyYaml(values, { lineWidth: 0 });
  const comment = header ? `${header.split('\n').map((line) => (line ? `# ${line}` : '#')).join('\n')}\n` : '';
  return `${comment}${body}`;
}

/** Parses a values file's text; `source` names it in errors. */
export function parseValuesText(text: string, source: string): HelmValues {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new CiliumValuesError([`${source}: not valid YAML: ${(error as Error).message}`], `cannot read ${source}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) {
    throw new CiliumValuesError([`${source}: must be a mapping of chart keys such as "debug: {enabled: true}"`], `cannot read ${source}`);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Loaders: the only I/O of this module.

const CHART_KEYS_DIR = new URL('./chart-keys/', import.meta.url);

/** The helm-values/ folder shipped with the project. */
export const SHIPPED_VALUES_DIR = new URL('../../helm-values/', import.meta.url);

/** The chart versions the lab has a key list for, oldest first. */
export function supportedChartVersions(): string[] {
  return readdirSync(CHART_KEYS_DIR)
    .filter((name) => /^\d+\.\d+\.\d+\.json$/.test(name))
    .map((name) => name.slice(0, -'.json'.length))
    .sort(compareVersions);
}

/** The key list of one chart version, from lib/cilium/chart-keys/<version>.json. */
export function loadChartKeys(version: string): ChartKeys {
  const supported = supportedChartVersions();
  if (!supported.includes(version)) {
    const sameMinor = supported.filter((v) => minorOf(v) === minorOf(version));
    throw new CiliumValuesError(
      [
        `cilium.version ${JSON.stringify(version)}: the lab has no key list for that chart (it has ${supported.join(', ')})` +
          `${sameMinor.length > 0 ? `; set cilium.version=${sameMinor[sameMinor.length - 1]}` : '; pick one of them'}` +
          ', or add the chart with `npx tsx scripts/extract-chart-facts.ts <dir with <version>/values.yaml>`',
      ],
      'cannot check the Cilium Helm values',
    );
  }
  const url = new URL(`${version}.json`, CHART_KEYS_DIR);
  const facts = parseChartKeys(readFileSync(url, 'utf8'), `lib/cilium/chart-keys/${version}.json`);
  if (facts.version !== version) {
    throw new Error(`lib/cilium/chart-keys/${version}.json holds version ${facts.version}; regenerate it with scripts/extract-chart-facts.ts`);
  }
  return facts;
}

/** Reads a values file (a path or a file URL); errors name the file. */
export function loadValuesFile(file: string | URL): HelmValues {
  const source = typeof file === 'string' ? file : decodeURIComponent(file.pathname);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CiliumValuesError([`${source}: cannot read it (${(error as Error).message})`], `cannot read ${source}`);
  }
  return parseValuesText(text, source);
}

/** A value as the agent reads it: true for true and "true". */
const isTrue = (value: unknown): boolean => value === true || value === 'true';
const valueAt = (values: HelmValues, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (isPlainObject(node) ? (node as HelmValues)[key] : undefined), values);

/**
 * Combinations the Cilium agent refuses at start (it then never becomes Ready), or silently
 * ignores, checked before anything is installed. Absent keys take the chart's defaults
 * (kubeProxyReplacement false, routingMode tunnel, bpf.masquerade false, enableIPv4Masquerade
 * true). The rules are the agent's own, the same in 1.16.3 to 1.20 (cilium/cilium):
 *   - installNoConntrackIptablesRules needs kube-proxy replacement, BPF masquerading when
 *     masquerading is on, and native routing (daemon/cmd/kube_proxy_replacement.go
 *     initKubeProxyReplacementOptions; daemon/cmd/daemon_main.go, fatal in tunnel mode);
 *   - loadBalancer.acceleration is only set up with BPF NodePort, which kube-proxy replacement
 *     turns on; without it the setting is ignored without a word (kube_proxy_replacement.go
 *     finishKubeProxyReplacementInit);
 *   - native routing with IPv4 masquerading needs ipv4NativeRoutingCIDR unless ip-masq-agent or
 *     ENI/Alibaba Cloud IPAM is on (pkg/option/config.go checkIPv4NativeRoutingCIDR).
 */
export function agentRefusals(values: HelmValues): string[] {
  const kpr = isTrue(valueAt(values, 'kubeProxyReplacement'));
  const routingMode = valueAt(values, 'routingMode') ?? 'tunnel';
  const native = routingMode === 'native';
  const masquerade = valueAt(values, 'enableIPv4Masquerade') === undefined || isTrue(valueAt(values, 'enableIPv4Masquerade'));
  const bpfMasquerade = isTrue(valueAt(values, 'bpf.masquerade'));
  const ipMasqAgent = isTrue(valueAt(values, 'ipMasqAgent.enabled'));
  const ipam = String(valueAt(values, 'ipam.mode') ?? 'cluster-pool');
  const problems: string[] = [];
  if (isTrue(valueAt(values, 'installNoConntrackIptablesRules'))) {
    if (!kpr) problems.push('installNoConntrackIptablesRules: needs kubeProxyReplacement: true (the agent refuses to start without it); set both, or drop installNoConntrackIptablesRules');
    if (masquerade && !bpfMasquerade) problems.push('installNoConntrackIptablesRules: needs bpf.masquerade: true while masquerading is on (the agent refuses to start); set bpf.masquerade: true');
    if (!native) problems.push(`installNoConntrackIptablesRules: needs routingMode: native (routingMode is ${String(routingMode)}; the agent exits in tunnel mode)`);
  }
  const acceleration = valueAt(values, 'loadBalancer.acceleration');
  const bpfNodePort = kpr || isTrue(valueAt(values, 'nodePort.enabled'));
  if ((acceleration === 'native' || acceleration === 'best-effort') && !bpfNodePort) {
    problems.push(`loadBalancer.acceleration: ${String(acceleration)} does nothing without BPF NodePort (kubeProxyReplacement: true, or nodePort.enabled: true); use --no-xdp or keep kube-proxy replacement`);
  }
  if (isTrue(valueAt(values, 'k8s.requireIPv4PodCIDR')) && (ipam === 'eni' || ipam === 'azure' || ipam === 'alibabacloud')) {
    problems.push(
      `k8s.requireIPv4PodCIDR: true with ipam.mode: ${ipam} makes the agent wait for a Node podCIDR its IPAM never uses (cilium/cilium daemon/k8s/init.go waits indefinitely; kubeadm gives none without podSubnet); set k8s.requireIPv4PodCIDR: false`,
    );
  }
  const datapathMode = valueAt(values, 'bpf.datapathMode');
  if ((datapathMode === 'netkit' || datapathMode === 'netkit-l2') && isTrue(valueAt(values, 'endpointRoutes.enabled'))) {
    problems.push(
      `endpointRoutes.enabled: true with bpf.datapathMode: ${String(datapathMode)} needs the netkit driver's scrub attributes (kernel 6.13 or a stable backport): without them Cilium 1.20 refuses to start (cilium/cilium#44960) and older agents misclassify host-to-pod traffic under policies (cilium/cilium#35060); set endpointRoutes.enabled: false (profile netkit does)`,
    );
  }
  const cidr = valueAt(values, 'ipv4NativeRoutingCIDR');
  if (native && masquerade && (cidr === undefined || cidr === null || cidr === '') && !ipMasqAgent && ipam !== 'eni' && ipam !== 'alibabacloud') {
    problems.push('ipv4NativeRoutingCIDR: routingMode native needs it (the agent refuses to start without it); leave it to the lab (the pod CIDR), or enable ipMasqAgent');
  }
  return problems;
}
