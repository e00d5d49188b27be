/**
 * Profile bgp's resources (lib/bgp/resources.ts) against Cilium's own custom resource
 * definitions (test/bgp/fixtures/crds/: the operator's embedded CRDs of each minor), as the API
 * server validates them, for every Cilium chart the lab installs.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { BGP_API_VERSIONS, bgpResources, pluralOf } from '../../lib/bgp/resources.js';
import { CILIUM_MINORS } from '../../lib/config/catalog.js';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import { resourcesYaml } from '../../lib/lab/manifests.js';
import { servedVersions, validateAgainstCrd, type CrdDoc } from './crd-schema.js';

/** The CRD fixture that stands for each minor (fixtures/crds/README.md). */
const CRDS_OF_MINOR: Readonly<Record<string, string>> = { '1.16': '1.16.3', '1.17': '1.17.14', '1.18': '1.18.3', '1.19': '1.18.3', '1.20': '1.20.0-dev' };
const PLURAL: Readonly<Record<string, string>> = {
  CiliumBGPClusterConfig: 'ciliumbgpclusterconfigs',
  CiliumBGPPeerConfig: 'ciliumbgppeerconfigs',
  CiliumBGPAdvertisement: 'ciliumbgpadvertisements',
  CiliumLoadBalancerIPPool: 'ciliumloadbalancerippools',
};
const crd = (minor: string, kind: string): CrdDoc =>
  parseYaml(readFileSync(new URL(`./fixtures/crds/${CRDS_OF_MINOR[minor]}/${PLURAL[kind]}.yaml`, import.meta.url), 'utf8')) as CrdDoc;

const kubernetesFor = (minor: string): string => ({ '1.16': '1.30.14', '1.17': '1.30.14', '1.18': '1.30.14', '1.19': '1.31.13', '1.20': '1.32.9' })[minor] as string;
const planFor = (minor: string, context: Record<string, unknown> = {}) =>
  planLab(loadLabConfig({ context: { profile: 'bgp', 'cilium.version': CILIUM_MINORS[minor]?.chartVersion, 'kubernetes.version': kubernetesFor(minor), ...context } }));

describe('profile bgp: the BGP resources against Cilium\'s CRDs', () => {
  it('has a CRD fixture and an API-version entry for every Cilium minor the lab installs', () => {
    expect(Object.keys(BGP_API_VERSIONS).sort()).toEqual(Object.keys(CILIUM_MINORS).sort());
    expect(Object.keys(CRDS_OF_MINOR).sort()).toEqual(Object.keys(CILIUM_MINORS).sort());
  });

  it.each(Object.keys(CILIUM_MINORS))('Cilium %s: every object fits the schema of the version it names, served by that minor', (minor) => {
    const { objects, crds } = bgpResources(planFor(minor));
    expect(objects.map((o) => o.kind)).toEqual(['CiliumBGPClusterConfig', 'CiliumBGPClusterConfig', 'CiliumBGPPeerConfig', 'CiliumBGPAdvertisement', 'CiliumLoadBalancerIPPool']);
    for (const object of objects) {
      expect([object.kind, validateAgainstCrd(object as unknown as Record<string, unknown>, crd(minor, object.kind))]).toEqual([object.kind, []]);
    }
    // what apply-manifests.sh waits for: each definition and the version the lab renders
    expect(crds).toEqual(Object.values(PLURAL).map((plural) => `${plural}.cilium.io=${minor === '1.16' || minor === '1.17' ? 'v2alpha1' : 'v2'}`).sort((a, b) => objects.findIndex((o) => a.startsWith(PLURAL[o.kind] as string)) - objects.findIndex((o) => b.startsWith(PLURAL[o.kind] as string))));
    // the resource names the lab derives are Cilium's own (spec.names.plural of each definition)
    for (const kind of Object.keys(PLURAL)) expect([kind, pluralOf(kind)]).toEqual([kind, (crd(minor, kind).spec as unknown as { names: { plural: string } }).names.plural]);
    for (const entry of crds) {
      const [name, version] = entry.split('=') as [string, string];
      const kind = Object.keys(PLURAL).find((k) => `${PLURAL[k]}.cilium.io` === name) as string;
      expect(servedVersions(crd(minor, kind))).toContain(version);
    }
  });

  it('renders the newest version each minor serves: v2alpha1 is all 1.16 and 1.17 have, 1.18 on stores v2 and deprecate v2alpha1', () => {
    expect(servedVersions(crd('1.17', 'CiliumBGPClusterConfig'))).toEqual(['v2alpha1']);
    expect(servedVersions(crd('1.18', 'CiliumBGPClusterConfig')).sort()).toEqual(['v2', 'v2alpha1']);
    const v2alpha1In118 = crd('1.18', 'CiliumBGPClusterConfig').spec.versions.find((v) => v.name === 'v2alpha1') as unknown as { deprecated?: boolean };
    expect(v2alpha1In118.deprecated).toBe(true);
    expect(bgpResources(planFor('1.17')).objects[0]?.apiVersion).toBe('cilium.io/v2alpha1');
    expect(bgpResources(planFor('1.18')).objects[0]?.apiVersion).toBe('cilium.io/v2');
  });

  it('a wrong field or version is caught as the API server would: the validator is not a rubber stamp', () => {
    const [cluster] = bgpResources(planFor('1.18')).objects as unknown as [Record<string, unknown>];
    // v2's peerConfigRef has only name (group and kind were v2alpha1's)
    const withGroup = structuredClone(cluster);
    (((withGroup.spec as any).bgpInstances[0].peers[0].peerConfigRef) as Record<string, unknown>).group = 'cilium.io';
    expect(validateAgainstCrd(withGroup, crd('1.18', 'CiliumBGPClusterConfig'))).toEqual(['CiliumBGPClusterConfig.spec.bgpInstances[0].peers[0].peerConfigRef.group: unknown field']);
    expect(validateAgainstCrd({ ...cluster, apiVersion: 'cilium.io/v2' }, crd('1.17', 'CiliumBGPClusterConfig'))).toEqual(['no matches for kind "CiliumBGPClusterConfig" in version "cilium.io/v2" (served: v2alpha1)']);
    const badAsn = structuredClone(cluster);
    (badAsn.spec as any).bgpInstances[0].localASN = 0;
    expect(validateAgainstCrd(badAsn, crd('1.18', 'CiliumBGPClusterConfig'))).toEqual(['CiliumBGPClusterConfig.spec.bgpInstances[0].localASN: 0 is below the minimum 1']);
  });

  it('keeps the rules the CRDs write in CEL (1.18 on): no selector on the PodCIDR advertisement, keepalive within the hold time', () => {
    const { objects } = bgpResources(planFor('1.20'));
    const advertisement = objects.find((o) => o.kind === 'CiliumBGPAdvertisement')?.spec as { advertisements: Record<string, unknown>[] };
    expect(advertisement.advertisements.find((a) => a['advertisementType'] === 'PodCIDR')).toEqual({ advertisementType: 'PodCIDR' });
    expect(advertisement.advertisements.find((a) => a['advertisementType'] === 'Service')).toEqual({
      advertisementType: 'Service',
      service: { addresses: ['LoadBalancerIP'] },
      selector: { matchExpressions: [{ key: 'advertise', operator: 'In', values: ['bgp'] }] },
    });
    const rules = JSON.stringify(parseYaml(readFileSync(new URL('./fixtures/crds/1.20.0-dev/ciliumbgpadvertisements.yaml', import.meta.url), 'utf8')));
    expect(rules).toContain("self.advertisementType != 'PodCIDR' || !has(self.selector)");
    const peer = objects.find((o) => o.kind === 'CiliumBGPPeerConfig')?.spec as { timers: { holdTimeSeconds: number; keepAliveTimeSeconds: number } };
    expect(peer.timers.keepAliveTimeSeconds).toBeLessThanOrEqual(peer.timers.holdTimeSeconds);
  });

  it("peers each node with the router's address in its own subnet, in the lab's ASes, with the lab's timers", () => {
    const plan = planFor('1.16', { 'workers.count': 3, 'bgp.clusterAsn': 64600, 'bgp.routerAsn': 64500, 'bgp.holdTimeSeconds': 30, 'bgp.keepAliveTimeSeconds': 10 });
    const [nodes, test, peer] = bgpResources(plan).objects as [any, any, any];
    expect(nodes.metadata.name).toBe('cilium-lab-nodes-subnet');
    expect(nodes.spec.nodeSelector.matchExpressions[0].values).toEqual(['k8s-s', 'k8s-w1', 'k8s-w2']);
    expect(nodes.spec.bgpInstances[0]).toMatchObject({ localASN: 64600, peers: [{ peerASN: 64500, peerAddress: '192.168.10.200', peerConfigRef: { name: 'cilium-lab-router' } }] });
    expect(test.spec.nodeSelector.matchExpressions[0].values).toEqual(['k8s-w3']);
    expect(test.spec.bgpInstances[0].peers[0].peerAddress).toBe('192.168.20.200');
    expect(peer.spec.timers).toEqual({ connectRetryTimeSeconds: 5, holdTimeSeconds: 30, keepAliveTimeSeconds: 10 });
    expect(peer.spec.families[0].advertisements.matchLabels).toEqual({ advertise: 'bgp' });
    // the pool serves only the Services the advertisement announces
    const pool = bgpResources(plan).objects.find((o) => o.kind === 'CiliumLoadBalancerIPPool') as any;
    expect(pool.spec).toEqual({ blocks: [{ cidr: '10.20.0.0/24' }], allowFirstLastIPs: 'No', serviceSelector: { matchLabels: { advertise: 'bgp' } } });
  });

  it.each(Object.keys(CILIUM_MINORS))('Cilium %s: the YAML text lab up sends, read as kubectl reads it (YAML 1.1: a bare No is false), still fits the CRDs', (minor) => {
    const text = resourcesYaml(bgpResources(planFor(minor)));
    const objects = parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS() as Record<string, unknown>);
    expect(objects).toHaveLength(5);
    for (const object of objects) expect([object.kind, validateAgainstCrd(object, crd(minor, String(object.kind)))]).toEqual([object.kind, []]);
    // the trap itself: the pool's "No" written bare would be read as false and refused
    const bare = text.replace('allowFirstLastIPs: "No"', 'allowFirstLastIPs: No');
    expect(bare).not.toBe(text);
    const pool = parseAllDocuments(bare, { version: '1.1' }).map((d) => d.toJS() as Record<string, unknown>).find((o) => o.kind === 'CiliumLoadBalancerIPPool') as Record<string, unknown>;
    expect(validateAgainstCrd(pool, crd(minor, 'CiliumLoadBalancerIPPool'))).toEqual(['CiliumLoadBalancerIPPool.spec.allowFirstLastIPs: boolean, the schema takes string']);
  });

  it('renders the same YAML from the same config (re-running lab up applies the same objects)', () => {
    expect(resourcesYaml(bgpResources(planFor('1.18')))).toBe(resourcesYaml(bgpResources(planFor('1.18'))));
    expect(resourcesYaml(bgpResources(planFor('1.18'))).split('\n---\n')).toHaveLength(5);
  });
});
