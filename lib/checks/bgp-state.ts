/**
 * Reading the router's BGP state (scripts/node/bgp-router-state.sh): FRR's `show bgp summary
 * json` and `show ip bgp json`, and the kernel's `ip -json route show proto bgp`, in the shapes
 * FRR 8.4 and iproute2 6.1 print them (recorded from a real FRR in network namespaces:
 * test/checks/fixtures/frr/, made by test/checks/fixtures/frr/record-frr.sh). Pure.
 */
import { taggedLines } from '../lab/remote.js';

export const ROUTER_STATE_TAGS = { summary: 'CILIUM_LAB_BGP_SUMMARY', table: 'CILIUM_LAB_BGP_TABLE', kernel: 'CILIUM_LAB_BGP_KERNEL' } as const;

/** A BGP neighbour as FRR sees it: its address, AS and session state (Established, Active, Connect, Idle, ...). */
export interface RouterPeer {
  readonly address: string;
  readonly remoteAs: number | undefined;
  readonly state: string;
  /** Prefixes received from it (accepted by the import filter). */
  readonly prefixesReceived: number | undefined;
}

/** A prefix in FRR's BGP table: every valid path's next hop, and which ones are used (best or multipath). */
export interface RouterPrefix {
  readonly prefix: string;
  /** Next hops of the paths FRR uses (bestpath or multipath): the ECMP set it installs. */
  readonly usedNextHops: readonly string[];
  /** Next hops of every valid path. */
  readonly validNextHops: readonly string[];
}

export interface RouterState {
  readonly peers: readonly RouterPeer[];
  readonly prefixes: readonly RouterPrefix[];
  /** Kernel routes zebra installed: destination (as `ip` prints it, a /32 without its length) -> gateways. */
  readonly kernel: ReadonlyMap<string, readonly string[]>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `show bgp summary json`: {"ipv4Unicast": {"peers": {address: {...}}}} (older FRR: the peers at the top). */
export function parseFrrSummary(doc: unknown): RouterPeer[] {
  if (!isObject(doc)) return [];
  const family = isObject(doc['ipv4Unicast']) ? doc['ipv4Unicast'] : doc;
  const peers = isObject(family['peers']) ? family['peers'] : {};
  return Object.entries(peers).map(([address, p]) => {
    const peer = isObject(p) ? p : {};
    return {
      address,
      remoteAs: typeof peer['remoteAs'] === 'number' ? peer['remoteAs'] : undefined,
      state: typeof peer['state'] === 'string' ? peer['state'] : 'unknown',
      prefixesReceived: typeof peer['pfxRcd'] === 'number' ? peer['pfxRcd'] : undefined,
    };
  });
}

/** `show ip bgp json`: {"routes": {prefix: [path, ...]}}, each path {valid, bestpath, multipath, nexthops: [{ip, used}]}. */
export function parseFrrTable(doc: unknown): RouterPrefix[] {
  if (!isObject(doc) || !isObject(doc['routes'])) return [];
  return Object.entries(doc['routes']).map(([prefix, paths]) => {
    const list = Array.isArray(paths) ? paths.filter(isObject) : [];
    const hops = (path: Json): string[] => (Array.isArray(path['nexthops']) ? path['nexthops'].filter(isObject).map((h) => String(h['ip'] ?? '')).filter((ip) => ip !== '') : []);
    const valid = list.filter((p) => p['valid'] === true);
    const used = valid.filter((p) => p['bestpath'] === true || p['multipath'] === true);
    return { prefix, usedNextHops: [...new Set(used.flatMap(hops))].sort(), validNextHops: [...new Set(valid.flatMap(hops))].sort() };
  });
}

/** `ip -json route show proto bgp`: one gateway, or several under nexthops (ECMP). */
export function parseKernelRoutes(doc: unknown): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  if (!Array.isArray(doc)) return routes;
  for (const route of doc.filter(isObject)) {
    const dst = String(route['dst'] ?? '');
    const gateways = Array.isArray(route['nexthops'])
      ? route['nexthops'].filter(isObject).map((h) => String(h['gateway'] ?? ''))
      : typeof route['gateway'] === 'string'
        ? [route['gateway']]
        : [];
    if (dst !== '') routes.set(dst, gateways.filter((g) => g !== '').sort());
  }
  return routes;
}

/** The three lines of bgp-router-state.sh; a missing or unparsable one gives an empty part (the scenario then says what is missing). */
export function parseRouterState(stdout: string): RouterState & { readonly missing: readonly string[] } {
  const missing: string[] = [];
  const json = (tag: string): unknown => {
    const line = taggedLines(stdout, tag).at(-1);
    if (line === undefined) {
      missing.push(tag);
      return undefined;
    }
    try {
      return JSON.parse(line) as unknown;
    } catch {
      missing.push(tag);
      return undefined;
    }
  };
  return {
    peers: parseFrrSummary(json(ROUTER_STATE_TAGS.summary)),
    prefixes: parseFrrTable(json(ROUTER_STATE_TAGS.table)),
    kernel: parseKernelRoutes(json(ROUTER_STATE_TAGS.kernel)),
    missing,
  };
}

/** The kernel's key for a prefix: `ip` prints a /32 as the bare address. */
export function kernelKey(prefix: string): string {
  return prefix.endsWith('/32') ? prefix.slice(0, -3) : prefix;
}
