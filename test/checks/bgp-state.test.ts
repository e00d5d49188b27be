/** The router-state parsers against real FRR 8.4 and iproute2 output (fixtures/frr/README.md). */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { kernelKey, parseFrrSummary, parseRouterState } from '../../lib/checks/bgp-state.js';
import { parseAgentPeers } from '../../lib/checks/scenarios/bgp.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/frr/${name}`, import.meta.url), 'utf8');

describe("the router's BGP state, as bgp-router-state.sh prints it from a real FRR", () => {
  const state = parseRouterState(fixture('router-state.out'));

  it('reads every neighbour with its AS, state and accepted prefixes', () => {
    expect(state.missing).toEqual([]);
    expect(state.peers).toEqual([
      { address: '192.168.10.10', remoteAs: 65001, state: 'Established', prefixesReceived: 2 },
      { address: '192.168.10.101', remoteAs: 65001, state: 'Established', prefixesReceived: 3 },
      // k8s-w2 sent 4; the import filter kept 3 (0.0.0.0/0 is not an advertised range)
      { address: '192.168.20.101', remoteAs: 65001, state: 'Established', prefixesReceived: 3 },
    ]);
  });

  it('reads each prefix with the next hops FRR uses (bestpath and multipath): the ECMP set', () => {
    expect(Object.fromEntries(state.prefixes.map((p) => [p.prefix, p.usedNextHops]))).toEqual({
      '10.20.0.5/32': ['192.168.10.10', '192.168.10.101', '192.168.20.101'],
      '10.20.0.6/32': ['192.168.10.101', '192.168.20.101'],
      '172.16.0.0/24': ['192.168.10.10'],
      '172.16.1.0/24': ['192.168.10.101'],
      '172.16.2.0/24': ['192.168.20.101'],
    });
  });

  it('reads the kernel routes zebra installed, a /32 under its bare address, ECMP as several gateways', () => {
    expect(state.kernel.get(kernelKey('10.20.0.5/32'))).toEqual(['192.168.10.10', '192.168.10.101', '192.168.20.101']);
    expect(state.kernel.get('172.16.2.0/24')).toEqual(['192.168.20.101']);
    expect(state.kernel.has('0.0.0.0/0')).toBe(false);
    expect(state.kernel.has('default')).toBe(false);
  });

  it('reads a peer that is down as FRR names its state', () => {
    const peers = parseFrrSummary(JSON.parse(fixture('show-bgp-summary-peer-down.json')));
    expect(peers.map((p) => [p.address, p.state])).toEqual([
      ['192.168.10.10', 'Established'],
      ['192.168.10.101', 'Established'],
      ['192.168.20.101', 'Idle'],
    ]);
  });

  it('names what is missing when a line is absent or not JSON', () => {
    const partial = parseRouterState('CILIUM_LAB_BGP_SUMMARY {"ipv4Unicast":{"peers":{}}}\nCILIUM_LAB_BGP_TABLE {oops\n');
    expect(partial.missing).toEqual(['CILIUM_LAB_BGP_TABLE', 'CILIUM_LAB_BGP_KERNEL']);
    expect(partial.prefixes).toEqual([]);
  });
});

describe("the agents' `cilium-dbg bgp peers -o json` (api/v1 BgpPeer)", () => {
  it('reads the documented keys, with the scalars Cilium omits when zero left undefined', () => {
    const peers = parseAgentPeers(
      JSON.stringify([
        { 'local-asn': 65001, 'peer-asn': 65000, 'peer-address': '192.168.10.200', 'peer-port': 179, 'session-state': 'established', 'uptime-nanoseconds': 5e9, families: [{ afi: 'ipv4', safi: 'unicast', received: 5, advertised: 2 }] },
        { 'peer-address': '192.168.20.200', 'session-state': 'active', families: [{ afi: 'ipv4', safi: 'unicast' }] },
      ]),
    );
    expect(peers).toEqual([
      { localAsn: 65001, peerAsn: 65000, peerAddress: '192.168.10.200', state: 'established' },
      { localAsn: undefined, peerAsn: undefined, peerAddress: '192.168.20.200', state: 'active' },
    ]);
  });

  it('is undefined for what is not a peer list (BGP off prints "BGP Control Plane is disabled")', () => {
    expect(parseAgentPeers('BGP Control Plane is disabled\n')).toBeUndefined();
    expect(parseAgentPeers('{"peers":[]}')).toBeUndefined();
    expect(parseAgentPeers('[]')).toEqual([]);
    expect(parseAgentPeers('null\n')).toEqual([]);
    expect(parseAgentPeers('')).toBeUndefined();
  });
});

describe("the lab world's `cilium-dbg bgp peers -o json` against Cilium's own API definition", () => {
  type Def = { properties: Record<string, { type?: string; $ref?: string; items?: { $ref?: string } }> };
  const defsOf = (version: string): Record<string, Def> =>
    (parseYaml(fixture(`../cilium/bgp-peer-openapi-${version}.yaml`)) as { definitions: Record<string, Def> }).definitions;
  const typeOf = (v: unknown) => (Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v === 'object' ? 'object' : typeof v);
  const problems = (value: Record<string, unknown>, def: string, defs: Record<string, Def>): string[] =>
    Object.entries(value).flatMap(([key, v]) => {
      const prop = defs[def]?.properties[key];
      if (!prop) return [`${def}.${key}: not in the API`];
      const ref = prop.$ref?.split('/').pop() ?? prop.items?.$ref?.split('/').pop();
      if (prop.type === 'array' && ref) return (v as Record<string, unknown>[]).flatMap((item) => problems(item, ref, defs));
      if (ref) return problems(v as Record<string, unknown>, ref, defs);
      return prop.type && prop.type !== typeOf(v) ? [`${def}.${key}: ${typeOf(v)}, the API says ${prop.type}`] : [];
    });

  it.each(['1.16.3', '1.20.0-dev'])('Cilium %s: every key the world prints is a BgpPeer property of its type, and the keys the parser reads are there', async (version) => {
    const { BgpWorld, bgpWorldSetup } = await import('./bgp-world.js');
    const { bgpResources } = await import('../../lib/bgp/resources.js');
    const { advertisedRanges } = await import('../../lib/config/bgp-rules.js');
    const { loadLabConfig } = await import('../../lib/config/load.js');
    const { planLab } = await import('../../lib/config/plan.js');
    const plan = planLab(loadLabConfig({ context: { profile: 'bgp' } }));
    const world = new BgpWorld(bgpWorldSetup(plan, advertisedRanges(plan.config)));
    world.establishAfterReads = 0;
    world.applyResources(bgpResources(plan).objects as unknown as Record<string, unknown>[]);
    const defs = defsOf(version);
    const peers = JSON.parse(world.agentPeers('k8s-w2')) as Record<string, unknown>[];
    expect(peers).toHaveLength(1);
    expect(peers.flatMap((p) => problems(p, 'BgpPeer', defs))).toEqual([]);
    // and a misspelt or mistyped key is caught
    expect(problems({ 'peer-adress': '192.168.20.200', 'local-asn': '65001' }, 'BgpPeer', defs)).toEqual(['BgpPeer.peer-adress: not in the API', 'BgpPeer.local-asn: string, the API says integer']);
    for (const key of ['local-asn', 'peer-asn', 'peer-address', 'session-state']) expect(Object.keys(defs['BgpPeer']?.properties ?? {})).toContain(key);
    expect(parseAgentPeers(JSON.stringify(peers))).toEqual([{ localAsn: 65001, peerAsn: 65000, peerAddress: '192.168.20.200', state: 'established' }]);
  });
});
