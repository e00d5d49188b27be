/**
 * Profile bgp's Kubernetes resources, rendered from the lab plan (pure): the BGP control plane's
 * cluster configs (one per subnet: every node peers with the router's address in its own
 * subnet), the peer config (the lab's timers, graceful restart, and which advertisements go to
 * the router), the advertisement (each node's pod CIDR, and the LoadBalancer IPs of Services
 * labelled advertise=bgp), and the LB IPAM pool those IPs come from. `lab up` applies them after
 * Helm (scripts/node/apply-manifests.sh, server-side apply: re-runnable).
 *
 * API versions by Cilium minor (BGP_API_VERSIONS): the BGP v2 resources came as cilium.io/v2alpha1
 * in 1.16 and were promoted to cilium.io/v2 in 1.18, as was the LoadBalancer IP pool; the lab
 * renders the newest version each minor serves (sources beside the table). Field by field the two
 * versions are the same for what the lab writes, except that v2's peerConfigRef has only `name`.
 */
import { minorOf } from '../config/catalog.js';
import type { LabNode, LabPlan } from '../config/plan.js';

/** The label that selects the lab's advertisement (peer config) and the Services it announces. */
export const ADVERTISE_LABEL = { key: 'advertise', value: 'bgp' } as const;

export type CiliumApiVersion = 'cilium.io/v2alpha1' | 'cilium.io/v2';

export interface BgpApiVersions {
  /** CiliumBGPClusterConfig, CiliumBGPPeerConfig, CiliumBGPAdvertisement (and CiliumBGPNodeConfig, which Cilium writes). */
  readonly bgp: CiliumApiVersion;
  /** CiliumLoadBalancerIPPool. */
  readonly lbIpPool: CiliumApiVersion;
}

/**
 * Which API version the lab renders per Cilium minor. 1.16 and 1.17 serve the BGP v2 resources
 * and the pool as v2alpha1 only; 1.18 adds v2 for both (v2 stored; BGP's v2alpha1 deprecated in
 * 1.18, the pool's in 1.19; both still served in 1.20). Sources: the operator's CRDs,
 * cilium/cilium pkg/k8s/apis/cilium.io/client/crds/{v2alpha1,v2}/ at the "Prepare for release"
 * commits of v1.16.3 (f2217191), v1.17.14 (6fc7f972), v1.18.3 (c1601689) and 1.20.0-dev (aeb2d1b6),
 * copied in test/bgp/fixtures/crds/ where the tests validate every rendered object against them;
 * Documentation/operations/upgrade.rst of 1.18 ("The v2alpha1 version of CiliumBGPClusterConfig,
 * ... was deprecated in favor of the v2 version") and of 1.19 (the same for CiliumLoadBalancerIPPool).
 */
export const BGP_API_VERSIONS: Readonly<Record<string, BgpApiVersions>> = {
  '1.16': { bgp: 'cilium.io/v2alpha1', lbIpPool: 'cilium.io/v2alpha1' },
  '1.17': { bgp: 'cilium.io/v2alpha1', lbIpPool: 'cilium.io/v2alpha1' },
  '1.18': { bgp: 'cilium.io/v2', lbIpPool: 'cilium.io/v2' },
  '1.19': { bgp: 'cilium.io/v2', lbIpPool: 'cilium.io/v2' },
  '1.20': { bgp: 'cilium.io/v2', lbIpPool: 'cilium.io/v2' },
};

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec: Record<string, unknown>;
}

/** The resources and the custom resource definitions (name=version) they need served. */
export interface ProfileResources {
  readonly objects: readonly KubeObject[];
  readonly crds: readonly string[];
}

export const BGP_NAMES = {
  peerConfig: 'cilium-lab-router',
  advertisement: 'cilium-lab-bgp',
  lbPool: 'cilium-lab-bgp',
  clusterConfig: (subnet: 'nodes' | 'test') => `cilium-lab-${subnet}-subnet`,
} as const;

export function bgpApiVersions(ciliumVersion: string): BgpApiVersions {
  const versions = BGP_API_VERSIONS[minorOf(ciliumVersion)];
  if (!versions) throw new Error(`lib/bgp/resources.ts: no BGP API versions for Cilium ${ciliumVersion}; add its minor to BGP_API_VERSIONS`);
  return versions;
}

/** The resource name of the four kinds the lab renders: their lower case with an s (each CRD's spec.names.plural, checked by the tests; not a rule for every Cilium kind: CiliumBGPPeeringPolicy's is ciliumbgppeeringpolicies). */
export function pluralOf(kind: string): string {
  return `${kind.toLowerCase()}s`;
}

export function bgpResources(plan: LabPlan): ProfileResources {
  const { config, router } = plan;
  if (!router?.secondInterface) throw new Error('bgpResources: the lab has no router (profile bgp)');
  const versions = bgpApiVersions(config.cilium.version);
  const bgp = config.bgp;
  const routerAddress = { [router.subnet]: router.privateIp, [router.secondInterface.subnet]: router.secondInterface.privateIp } as Record<'nodes' | 'test', string>;
  const kubeNodes: readonly LabNode[] = [plan.controlPlane, ...plan.workers];
  const clusterConfigs = (['nodes', 'test'] as const)
    .map((subnet) => ({ subnet, nodes: kubeNodes.filter((n) => n.subnet === subnet).map((n) => n.name) }))
    .filter((group) => group.nodes.length > 0)
    .map(
      ({ subnet, nodes }): KubeObject => ({
        apiVersion: versions.bgp,
        kind: 'CiliumBGPClusterConfig',
        metadata: { name: BGP_NAMES.clusterConfig(subnet) },
        spec: {
          // The nodes of one subnet, by name: each peers with the router's address in its own subnet.
          nodeSelector: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: nodes }] },
          bgpInstances: [
            {
              name: `lab-${bgp.clusterAsn}`,
              localASN: bgp.clusterAsn,
              peers: [{ name: router.name, peerASN: bgp.routerAsn, peerAddress: routerAddress[subnet], peerConfigRef: { name: BGP_NAMES.peerConfig } }],
            },
          ],
        },
      }),
    );
  const objects: KubeObject[] = [
    ...clusterConfigs,
    {
      apiVersion: versions.bgp,
      kind: 'CiliumBGPPeerConfig',
      metadata: { name: BGP_NAMES.peerConfig },
      spec: {
        timers: {
          connectRetryTimeSeconds: bgp.connectRetryTimeSeconds,
          holdTimeSeconds: bgp.holdTimeSeconds,
          keepAliveTimeSeconds: bgp.keepAliveTimeSeconds,
        },
        gracefulRestart: { enabled: true, restartTimeSeconds: 15 },
        families: [{ afi: 'ipv4', safi: 'unicast', advertisements: { matchLabels: { [ADVERTISE_LABEL.key]: ADVERTISE_LABEL.value } } }],
      },
    },
    {
      apiVersion: versions.bgp,
      kind: 'CiliumBGPAdvertisement',
      metadata: { name: BGP_NAMES.advertisement, labels: { [ADVERTISE_LABEL.key]: ADVERTISE_LABEL.value } },
      spec: {
        advertisements: [
          { advertisementType: 'PodCIDR' },
          {
            advertisementType: 'Service',
            service: { addresses: ['LoadBalancerIP'] },
            selector: { matchExpressions: [{ key: ADVERTISE_LABEL.key, operator: 'In', values: [ADVERTISE_LABEL.value] }] },
          },
        ],
      },
    },
    {
      apiVersion: versions.lbIpPool,
      kind: 'CiliumLoadBalancerIPPool',
      metadata: { name: BGP_NAMES.lbPool },
      // "No": the pool's first and last addresses stay reserved ("if set to Yes or undefined means that
      // the first and last IPs of each CIDR will be allocatable": the CRD's own description, 1.16 to
      // 1.20), so the first LoadBalancer IP a learner sees is .1, not the network address.
      // Only Services labelled advertise=bgp take an address from it: any other LoadBalancer Service
      // would get one the router never learns ("The pool will allocate to any service if no service
      // selector is specified", Documentation/network/lb-ipam.rst).
      spec: { blocks: [{ cidr: bgp.lbPoolCidr }], allowFirstLastIPs: 'No', serviceSelector: { matchLabels: { [ADVERTISE_LABEL.key]: ADVERTISE_LABEL.value } } },
    },
  ];
  const crds = [...new Set(objects.map((o) => `${pluralOf(o.kind)}.cilium.io=${o.apiVersion.split('/')[1]}`))];
  return { objects, crds };
}
