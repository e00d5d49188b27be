/**
 * The BGP part of the lab world (profile bgp): the router's FRR and the agents' BGP speakers as
 * the real ones behave where the checks look:
 *   - the cluster side is what was applied (applyResources: the objects `lab up` sends, validated
 *     against Cilium's CRDs of the installed minor as the API server does): a node's session comes
 *     up only when a CiliumBGPClusterConfig selects it and peers it with the router's address in
 *     its own subnet, in the router's AS (the router knows each node only at that address); nothing
 *     applied, no peers; sessions take a few reads to reach established (connect retry);
 *   - the router accepts only what its import filter allows, installs up to maximum-paths equal
 *     paths, and reports them in FRR's JSON shapes (recorded from FRR 8.4: test/checks/fixtures/frr/);
 *   - Cilium advertises each node's pod CIDR, and the LoadBalancer IPs of Services labelled
 *     advertise=bgp: with externalTrafficPolicy Local only from nodes with a local backend;
 *   - Cilium installs no route it receives: pod traffic between the subnets works only while the
 *     nodes route the pod range via the router (their boot's routes) and the router has both pod
 *     CIDRs;
 *   - `cilium-dbg bgp peers -o json` omits every zero scalar (api/v1 BgpPeer, omitempty).
 * Knobs default to healthy; a test turns one to break what it is about.
 */
type Json = Record<string, unknown>;

export interface BgpWorldNode {
  readonly name: string;
  readonly ip: string;
  readonly subnet: 'nodes' | 'test';
  readonly podCidr: string;
}

export interface BgpWorldSetup {
  readonly routerAsn: number;
  readonly clusterAsn: number;
  readonly routerAddresses: Readonly<Record<'nodes' | 'test', string>>;
  readonly lbPoolCidr: string;
  readonly nodes: readonly BgpWorldNode[];
  /** The router's import filter: prefixes inside these are accepted. */
  readonly accepted: readonly string[];
  /** Cilium's CRDs of the installed minor (test/bgp/fixtures/crds/<folder>): what the API server validates applied objects against. */
  readonly crds: string;
}

const toInt = (ip: string): number => ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
const inside = (cidr: string, ip: string): boolean => {
  const [net, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return toInt(ip) >= toInt(net) && toInt(ip) < toInt(net) + size;
};

export class BgpWorld {
  // ---- knobs (healthy by default) ----
  /** Reads of the agents before a session reaches established (a connect retry or two). */
  establishAfterReads = 2;
  /** Nodes whose session never comes up (their agent shows active). */
  readonly sessionsDown = new Set<string>();
  /** The nodes have no route to the pod range via the router (Cilium installs none of its own). */
  nodesRouteViaRouter = true;
  /** A datapath that advertises a Local Service's IP from every node. */
  localIgnored = false;
  /** FRR installs one path per prefix (maximum-paths 1). */
  noMultipath = false;
  /** bgpd does not answer vtysh. */
  routerDown = false;

  private agentReads = 0;
  private nextLbOffset = 0;
  /** LoadBalancer Services: name -> { ip, local, labelled }. */
  readonly services = new Map<string, { ip: string; local: boolean; advertised: boolean }>();

  /** What `lab up` applied (or a test applied for it): the cluster side of BGP and the LB IPAM pool. */
  private applied: {
    readonly peers: ReadonlyMap<string, readonly { address: string; peerAsn: number; localAsn: number }[]>;
    readonly podCidr: boolean;
    readonly serviceSelector: { key: string; values: readonly string[] } | undefined;
    readonly pool: string | undefined;
    /** The pool's first address is allocatable (allowFirstLastIPs Yes or unset, the CRD's default). */
    readonly firstIp: boolean;
    /** The pool's serviceSelector.matchLabels (none: every LoadBalancer Service). */
    readonly poolLabels: Readonly<Record<string, string>>;
  } = { peers: new Map(), podCidr: false, serviceSelector: undefined, pool: undefined, firstIp: true, poolLabels: {} };

  constructor(readonly setup: BgpWorldSetup) {}

  /** The objects as the agents and the operator act on them (the peer config's advertisement selector is taken as matching). */
  applyResources(objects: readonly Json[]): void {
    const peers = new Map<string, { address: string; peerAsn: number; localAsn: number }[]>();
    let podCidr = false;
    let serviceSelector: { key: string; values: readonly string[] } | undefined;
    let pool: string | undefined;
    let firstIp = true;
    let poolLabels: Record<string, string> = {};
    for (const o of objects) {
      const spec = o.spec as Json;
      if (o.kind === 'CiliumBGPClusterConfig') {
        const selected = (((spec.nodeSelector as Json | undefined)?.matchExpressions ?? []) as Json[]).flatMap((e) => (e.key === 'kubernetes.io/hostname' && e.operator === 'In' ? (e.values as string[]) : []));
        const targets = spec.nodeSelector ? selected : this.setup.nodes.map((n) => n.name);
        for (const instance of (spec.bgpInstances ?? []) as Json[]) {
          for (const peer of (instance.peers ?? []) as Json[]) {
            for (const node of targets) peers.set(node, [...(peers.get(node) ?? []), { address: String(peer.peerAddress), peerAsn: Number(peer.peerASN), localAsn: Number(instance.localASN) }]);
          }
        }
      } else if (o.kind === 'CiliumBGPAdvertisement') {
        for (const a of (spec.advertisements ?? []) as Json[]) {
          if (a.advertisementType === 'PodCIDR') podCidr = true;
          if (a.advertisementType === 'Service' && ((a.service as Json | undefined)?.addresses as string[] | undefined)?.includes('LoadBalancerIP')) {
            const e = (((a.selector as Json | undefined)?.matchExpressions ?? []) as Json[])[0];
            if (e && e.operator === 'In') serviceSelector = { key: String(e.key), values: e.values as string[] };
          }
        }
      } else if (o.kind === 'CiliumLoadBalancerIPPool') {
        pool = String((((spec.blocks ?? []) as Json[])[0] ?? {}).cidr ?? '');
        firstIp = spec.allowFirstLastIPs !== 'No';
        poolLabels = (((spec.serviceSelector as Json | undefined)?.matchLabels ?? {}) as Record<string, string>);
      }
    }
    this.applied = { peers, podCidr, serviceSelector, pool, firstIp, poolLabels };
  }

  private peersOf(node: BgpWorldNode): readonly { address: string; peerAsn: number; localAsn: number }[] {
    return this.applied.peers.get(node.name) ?? [];
  }

  nodeByName(name: string): BgpWorldNode | undefined {
    return this.setup.nodes.find((n) => n.name === name);
  }

  /** LB IPAM: the next address of the pool for a LoadBalancer Service. */
  assign(service: Json): string | undefined {
    const pool = this.applied.pool;
    if (!pool) return undefined;
    const meta = service.metadata as Json;
    const spec = service.spec as Json;
    const serviceLabels = (meta.labels ?? {}) as Record<string, string>;
    if (!Object.entries(this.applied.poolLabels).every(([k, v]) => serviceLabels[k] === v)) return undefined;
    const ip = toIp(toInt(pool.split('/')[0] as string) + (this.applied.firstIp ? 0 : 1) + this.nextLbOffset++);
    const labels = (meta.labels ?? {}) as Record<string, string>;
    const selector = this.applied.serviceSelector;
    this.services.set(meta.name as string, { ip, local: spec.externalTrafficPolicy === 'Local', advertised: selector !== undefined && selector.values.includes(labels[selector.key] ?? '') });
    return ip;
  }

  /** The node's session with the router: its cluster config must give it the router's address in its own subnet (where the router has it as a neighbour) and the router's AS. */
  private established(node: BgpWorldNode): boolean {
    if (this.sessionsDown.has(node.name) || this.routerDown) return false;
    const ok = this.peersOf(node).some((p) => p.address === this.setup.routerAddresses[node.subnet] && p.peerAsn === this.setup.routerAsn && p.localAsn !== this.setup.routerAsn);
    return ok && this.agentReads >= this.establishAfterReads;
  }

  /** `cilium-dbg bgp peers -o json` on a node's agent. */
  agentPeers(nodeName: string): string {
    const node = this.nodeByName(nodeName);
    if (!node) return '[]\n';
    this.agentReads += 1;
    const nodeUp = this.established(node);
    const list = this.peersOf(node).map((p): Json => {
      const up = nodeUp && p.address === this.setup.routerAddresses[node.subnet] && p.peerAsn === this.setup.routerAsn;
      // omitempty: zero counts and a zero uptime are left out.
      const advertised = up ? this.prefixesFrom(node).length : 0;
      return {
      'local-asn': p.localAsn,
      'peer-asn': p.peerAsn,
      'peer-address': p.address,
      'peer-port': 179,
      'session-state': up ? 'established' : 'active',
      ...(up ? { 'uptime-nanoseconds': 33_000_000_000 } : {}),
      'connect-retry-time-seconds': 5,
      'configured-hold-time-seconds': 9,
      'configured-keep-alive-time-seconds': 3,
      ...(up ? { 'applied-hold-time-seconds': 9, 'applied-keep-alive-time-seconds': 3 } : {}),
      'graceful-restart': { enabled: true, 'restart-time-seconds': 15 },
      families: [{ afi: 'ipv4', safi: 'unicast', ...(advertised > 0 ? { advertised } : {}) }],
      };
    });
    return `${JSON.stringify(list, null, 2)}\n`;
  }

  /** Whether a node's local pods back a Service (webpods by node). */
  localBackends: (node: string) => boolean = () => true;

  /** What a node advertises to the router (prefixes), as Cilium would. */
  private prefixesFrom(node: BgpWorldNode): string[] {
    const out: string[] = [];
    if (this.applied.podCidr) out.push(node.podCidr);
    for (const svc of this.services.values()) {
      if (!svc.advertised) continue;
      if (svc.local && !this.localBackends(node.name) && !this.localIgnored) continue;
      out.push(`${svc.ip}/32`);
    }
    return out;
  }

  /** The router's table: prefix -> advertising node IPs, after the import filter and only from Established peers. */
  routerTable(): Map<string, string[]> {
    const table = new Map<string, string[]>();
    for (const node of this.setup.nodes) {
      if (!this.established(node)) continue;
      for (const prefix of this.prefixesFrom(node)) {
        if (!this.setup.accepted.some((a) => inside(a, prefix.split('/')[0] as string))) continue;
        table.set(prefix, [...(table.get(prefix) ?? []), node.ip]);
      }
    }
    return table;
  }

  /** The next hops the router uses for `prefix` (its ECMP set). */
  usedNextHops(prefix: string): string[] {
    const hops = this.routerTable().get(prefix) ?? [];
    return this.noMultipath ? hops.slice(0, 1) : hops;
  }

  /** bgp-router-state.sh's three lines: the documents below, cut as the script cuts them (the same shapes). */
  routerState(): { exitCode: number; stdout: string; stderr?: string } {
    if (this.routerDown) return { exitCode: 3, stdout: '', stderr: 'bgp-router-state: bgpd does not answer: bgpd is not running\n' };
    const { summary, table, kernel } = this.routerDocs();
    return {
      exitCode: 0,
      stdout: [`CILIUM_LAB_BGP_SUMMARY ${JSON.stringify(summary)}`, `CILIUM_LAB_BGP_TABLE ${JSON.stringify(table)}`, `CILIUM_LAB_BGP_KERNEL ${JSON.stringify(kernel)}`, ''].join('\n'),
    };
  }

  /** What the router's `vtysh -c 'show bgp summary json'`, `vtysh -c 'show ip bgp json'` and `ip -json route show proto bgp` print, in FRR 8.4's and iproute2's shapes. */
  routerDocs(): { summary: Json; table: Json; kernel: Json[] } {
    const peers: Json = {};
    for (const node of this.setup.nodes) {
      const up = this.established(node);
      peers[node.ip] = {
        hostname: node.name,
        remoteAs: this.peersOf(node)[0]?.localAsn ?? 0,
        localAs: this.setup.routerAsn,
        version: 4,
        ...(up ? { pfxRcd: this.prefixesFrom(node).length, pfxSnt: 0 } : {}),
        state: up ? 'Established' : 'Active',
        peerState: up ? 'OK' : 'Policy',
        idType: 'ipv4',
      };
    }
    const summary = { ipv4Unicast: { routerId: this.setup.routerAddresses.nodes, as: this.setup.routerAsn, vrfId: 0, vrfName: 'default', peerCount: this.setup.nodes.length, peers } };
    const routes: Json = {};
    const kernel: Json[] = [];
    for (const [prefix, hops] of this.routerTable()) {
      const [network, len] = prefix.split('/') as [string, string];
      const used = this.noMultipath ? hops.slice(0, 1) : hops;
      routes[prefix] = hops.map((ip, index) => ({
        valid: true,
        ...(index === 0 ? { bestpath: true, selectionReason: 'Older Path' } : used.includes(ip) ? { multipath: true } : {}),
        pathFrom: 'external',
        prefix: network,
        prefixLen: Number(len),
        network: prefix,
        peerId: ip,
        path: String(this.peersOf(this.setup.nodes.find((n) => n.ip === ip) as BgpWorldNode)[0]?.localAsn ?? ''),
        origin: 'IGP',
        nexthops: [{ ip, hostname: this.setup.nodes.find((n) => n.ip === ip)?.name, afi: 'ipv4', used: true }],
      }));
      const dst = len === '32' ? network : prefix;
      const dev = (ip: string): string => (this.setup.nodes.find((n) => n.ip === ip)?.subnet === 'test' ? 'ens6' : 'ens5');
      kernel.push(
        used.length === 1
          ? { dst, gateway: used[0], dev: dev(used[0] as string), protocol: 'bgp', metric: 20, flags: [] }
          : { dst, protocol: 'bgp', metric: 20, flags: [], nexthops: used.map((g) => ({ gateway: g, dev: dev(g), weight: 1, flags: [] })) },
      );
    }
    const table = { vrfId: 0, vrfName: 'default', routerId: this.setup.routerAddresses.nodes, defaultLocPrf: 100, localAS: this.setup.routerAsn, routes };
    return { summary, table, kernel };
  }

  /** A pod packet from a node to a pod on another: across the subnets it needs the nodes' routes and both pod CIDRs at the router. */
  podPathWorks(fromNode: string, toNode: string): boolean {
    const from = this.nodeByName(fromNode);
    const to = this.nodeByName(toNode);
    if (!from || !to || from.subnet === to.subnet) return true;
    const table = this.routerTable();
    return this.nodesRouteViaRouter && table.has(from.podCidr) && table.has(to.podCidr);
  }

  /** testpc to a LoadBalancer IP: the router spreads connections over its ECMP next hops (undefined: no route). */
  lbNextHops(ip: string): string[] {
    return this.usedNextHops(`${ip}/32`);
  }
}

/** The world of a bgp lab as its plan lays it out: node i's pod CIDR 172.16.i.0/24 (kubeadm's order), the router's import filter from the config. */
export function bgpWorldSetup(plan: {
  readonly config: { readonly bgp: { readonly routerAsn: number; readonly clusterAsn: number; readonly lbPoolCidr: string }; readonly kubernetes: { readonly podCidr: string } };
  readonly controlPlane: { readonly name: string; readonly privateIp: string; readonly subnet: 'nodes' | 'test' };
  readonly workers: readonly { readonly name: string; readonly privateIp: string; readonly subnet: 'nodes' | 'test' }[];
  readonly router?: { readonly privateIp: string; readonly secondInterface?: { readonly privateIp: string } } | undefined;
}, accepted: readonly string[], crds?: string): BgpWorldSetup {
  const base = plan.config.kubernetes.podCidr.split('.').slice(0, 2).join('.');
  return {
    routerAsn: plan.config.bgp.routerAsn,
    clusterAsn: plan.config.bgp.clusterAsn,
    routerAddresses: { nodes: plan.router?.privateIp ?? '', test: plan.router?.secondInterface?.privateIp ?? '' },
    lbPoolCidr: plan.config.bgp.lbPoolCidr,
    crds: crds ?? '1.16.3',
    nodes: [plan.controlPlane, ...plan.workers].map((n, i) => ({ name: n.name, ip: n.privateIp, subnet: n.subnet, podCidr: `${base}.${i}.0/24` })),
    accepted,
  };
}
