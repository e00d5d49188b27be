/**
 * The BGP part of the lab world (profile bgp): the router's FRR and the agents' BGP speakers as
 * the real ones behave where the checks look:
 *   - a node's session comes up only when its CiliumBGPClusterConfig peers it with the router's
 *     address in its own subnet (the router knows each node only at that address) and the router
 *     lists it as a neighbour; sessions take a few reads to reach established (connect retry);
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
  /** Agents peer every node with the router's node-subnet address (a single cluster config): nodes behind the router never connect. */
  singlePeerAddress = false;
  /** The advertisement lacks PodCIDR: no node pod CIDR reaches the router. */
  podCidrsNotAdvertised = false;
  /** The nodes have no route to the pod range via the router (Cilium installs none of its own). */
  nodesRouteViaRouter = true;
  /** A datapath that advertises a Local Service's IP from every node. */
  localIgnored = false;
  /** FRR installs one path per prefix (maximum-paths 1). */
  noMultipath = false;
  /** bgpd does not answer vtysh. */
  routerDown = false;
  /** LB IPAM has no pool: LoadBalancer Services get no address. */
  noPool = false;

  private agentReads = 0;
  private nextLbOffset = 0;
  /** LoadBalancer Services: name -> { ip, local, labelled }. */
  readonly services = new Map<string, { ip: string; local: boolean; advertised: boolean }>();

  constructor(readonly setup: BgpWorldSetup) {}

  nodeByName(name: string): BgpWorldNode | undefined {
    return this.setup.nodes.find((n) => n.name === name);
  }

  /** LB IPAM: the next address of the pool for a LoadBalancer Service. */
  assign(service: Json): string | undefined {
    if (this.noPool) return undefined;
    const meta = service.metadata as Json;
    const spec = service.spec as Json;
    const ip = toIp(toInt(this.setup.lbPoolCidr.split('/')[0] as string) + this.nextLbOffset++);
    const labels = (meta.labels ?? {}) as Record<string, string>;
    this.services.set(meta.name as string, { ip, local: spec.externalTrafficPolicy === 'Local', advertised: labels.advertise === 'bgp' });
    return ip;
  }

  private established(node: BgpWorldNode): boolean {
    if (this.sessionsDown.has(node.name) || this.routerDown) return false;
    // The peer address the node's cluster config gives it; the router listens for it only in its own subnet.
    const peerAddress = this.singlePeerAddress ? this.setup.routerAddresses.nodes : this.setup.routerAddresses[node.subnet];
    if (peerAddress !== this.setup.routerAddresses[node.subnet]) return false;
    return this.agentReads >= this.establishAfterReads;
  }

  /** `cilium-dbg bgp peers -o json` on a node's agent. */
  agentPeers(nodeName: string): string {
    const node = this.nodeByName(nodeName);
    if (!node) return '[]\n';
    this.agentReads += 1;
    const up = this.established(node);
    const peerAddress = this.singlePeerAddress ? this.setup.routerAddresses.nodes : this.setup.routerAddresses[node.subnet];
    // omitempty: zero counts and a zero uptime are left out.
    const advertised = up ? this.prefixesFrom(node).length : 0;
    const peer: Json = {
      'local-asn': this.setup.clusterAsn,
      'peer-asn': this.setup.routerAsn,
      'peer-address': peerAddress,
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
    return `${JSON.stringify([peer], null, 2)}\n`;
  }

  /** Whether a node's local pods back a Service (webpods by node). */
  localBackends: (node: string) => boolean = () => true;

  /** What a node advertises to the router (prefixes), as Cilium would. */
  private prefixesFrom(node: BgpWorldNode): string[] {
    const out: string[] = [];
    if (!this.podCidrsNotAdvertised) out.push(node.podCidr);
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

  /** bgp-router-state.sh's three lines, in the shapes FRR 8.4 and iproute2 print. */
  routerState(): { exitCode: number; stdout: string; stderr?: string } {
    if (this.routerDown) return { exitCode: 3, stdout: '', stderr: 'bgp-router-state: bgpd does not answer: bgpd is not running\n' };
    const peers: Json = {};
    for (const node of this.setup.nodes) {
      const up = this.established(node);
      peers[node.ip] = {
        hostname: node.name,
        remoteAs: this.setup.clusterAsn,
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
        path: String(this.setup.clusterAsn),
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
    return {
      exitCode: 0,
      stdout: [`CILIUM_LAB_BGP_SUMMARY ${JSON.stringify(summary)}`, `CILIUM_LAB_BGP_TABLE ${JSON.stringify(table)}`, `CILIUM_LAB_BGP_KERNEL ${JSON.stringify(kernel)}`, ''].join('\n'),
    };
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
}, accepted: readonly string[]): BgpWorldSetup {
  const base = plan.config.kubernetes.podCidr.split('.').slice(0, 2).join('.');
  return {
    routerAsn: plan.config.bgp.routerAsn,
    clusterAsn: plan.config.bgp.clusterAsn,
    routerAddresses: { nodes: plan.router?.privateIp ?? '', test: plan.router?.secondInterface?.privateIp ?? '' },
    lbPoolCidr: plan.config.bgp.lbPoolCidr,
    nodes: [plan.controlPlane, ...plan.workers].map((n, i) => ({ name: n.name, ip: n.privateIp, subnet: n.subnet, podCidr: `${base}.${i}.0/24` })),
    accepted,
  };
}
