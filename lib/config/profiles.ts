/**
 * Study profiles, as data: one entry per profile holds everything that differs for it (what it
 * teaches, its Helm overlay, where pods get their addresses, the Helm values it computes, the
 * checks only it has, the settings only it reads). Every other room asks the profile; none tests
 * `profile === ...` itself. Select with `-c profile=<name>`; `lab profiles` lists them.
 */
import { coveringCidr, formatCidr, parseCidr, type Ipv4Cidr } from './cidr.js';
import { checkClusterPool } from './cluster-pool-rules.js';
import { advertisedRanges, checkBgp } from './bgp-rules.js';
import { checkEniIpam, eniPodCapacity } from './eni-ipam.js';
import { bgpResources, type ProfileResources } from '../bgp/resources.js';
import type { LabPlan, LabRoute } from './plan-types.js';
import type { Report } from './report.js';
import type { ProfileName } from './profile-names.js';
import type { LabConfig } from './schema.js';

export interface LabProfile {
  readonly name: string;
  /** What a learner sees in this lab that the others do not, in one line (`lab profiles`). */
  readonly teaches: string;
  /** A Helm overlay shipped in helm-values/profiles/, merged after the lab's own overlays. */
  readonly helmOverlay?: string;
  /** Where pods get their addresses: the lab's security group admits them, Cilium routes them natively. */
  podRanges(config: LabConfig): readonly string[];
  /** Helm values computed from the config, merged over the lab's computed values. */
  computedValues?(config: LabConfig): Record<string, unknown>;
  /** Scenarios of `lab check` only this profile has (their names in lib/checks/suite.ts). */
  readonly checks: readonly string[];
  /** Top-level config sections only this profile reads; set under another profile they are refused. */
  readonly ownSettings: readonly (keyof LabConfig)[];
  /** Defaults of other settings under this profile (dotted path -> value), where the user sets none. */
  readonly configDefaults?: Readonly<Record<string, unknown>>;
  /** kubeadm's kube-proxy addon: replaced by Cilium (the lab's default) or kept. */
  readonly kubeProxy?: 'replaced' | 'kept';
  /** CNI plugins chained behind Cilium (cni.chainingMode), which every node must have in /opt/cni/bin. */
  readonly cniPlugins?: readonly string[];
  /** NodePort XDP acceleration (helm-values/xdp.yaml) applies; false: never, whatever --no-xdp says. */
  readonly xdp?: false;
  /** Scenarios of the base suite this profile swaps for its own (base name -> its name). */
  readonly replacesChecks?: Readonly<Record<string, string>>;
  /** Cross-field rules only this profile has (run at synth with the lab's own, lib/config/rules.ts). */
  rules?(config: LabConfig, report: Report): void;
  /** Facts `lab check`'s scenarios of this profile read from the config (lib/checks/types.ts LabFacts). */
  checkFacts?(config: LabConfig): {
    readonly clusterPool?: { readonly cidrs: readonly string[]; readonly maskSize: number };
    readonly eni?: { readonly vpcCidr: string; readonly nodeSubnetCidr: string; readonly maxPods: Readonly<Record<'control-plane' | 'worker', number>> };
    readonly bgp?: BgpFacts;
  };
  /** kubeadm's networking.podSubnet (node pod CIDRs from kubernetes.podCidr), or none: Cilium hands out pod addresses alone. */
  readonly nodePodCidrs?: false;
  /** kubelet's maxPods on a node of this profile (undefined: kubelet's default, 110). */
  maxPods?(instanceType: string, role: 'control-plane' | 'worker'): number | undefined;
  /** What the lab's instances need for this profile: the control plane's role gets Cilium's operator EC2 permissions for ENI IPAM. */
  readonly infra?: { readonly ciliumOperatorEni?: true };
  /** What a re-deploy of a running lab of this profile may not change (lib/lab/redeploy.ts): settings fixed at create, lists that may only grow. */
  readonly redeploy?: {
    readonly fixed?: readonly { readonly path: string; readonly why: string }[];
    readonly growOnly?: readonly { readonly path: string; readonly why: string }[];
  };
  /**
   * Where this profile puts instances beyond the default (every Kubernetes node in the node
   * subnet, testpc in the test subnet): a router with an interface in each subnet, the last
   * workers behind it in the test subnet, and the routes each instance sets up at boot to reach
   * what lies behind the router. Both subnets then sit in one availability zone: an ENI attaches
   * only to an instance in its own zone.
   */
  topology?(config: LabConfig): LabTopology;
  /** Kubernetes resources `lab up` applies after Helm (profile bgp: its BGP configs and LB pool), re-runnable. */
  resources?(plan: LabPlan): ProfileResources;
  /** Settings this profile needs a value of, and why (refused at synth otherwise). */
  readonly requires?: readonly { readonly path: string; readonly allowed: readonly string[]; readonly why: string }[];
}

/** What `lab check`'s BGP scenario compares the cluster and the router against (profile bgp). */
export interface BgpFacts {
  readonly routerAsn: number;
  readonly clusterAsn: number;
  readonly lbPoolCidr: string;
  readonly podCidr: string;
  /** The router's address in each subnet: each node peers with the one in its own subnet (LabNodeInfo.subnet). */
  readonly routerAddresses: Readonly<Record<'nodes' | 'test', string>>;
}

export interface LabTopology {
  readonly router: {
    readonly name: string;
    readonly nodeSubnetIp: string;
    readonly testSubnetIp: string;
    readonly instanceType: string;
    /** Its Ubuntu release, whatever the Kubernetes nodes run. */
    readonly ubuntuRelease: string;
    /** The config fields of its two addresses (named in refusals). */
    readonly fields: { readonly nodeSubnetIp: string; readonly testSubnetIp: string; readonly instanceType: string };
  };
  readonly testSubnetWorkers: { readonly count: number; readonly firstIp: string; readonly field: string };
  /** The routes an instance in `subnet` sets up at boot (Kubernetes nodes and testpc alike). */
  routes(subnet: 'nodes' | 'test'): readonly LabRoute[];
}

export const PROFILES = {
  study: {
    name: 'study',
    teaches: 'the KANS week-8 lab: kube-proxy-free Cilium, native routing, BPF masquerading and XDP; Kubernetes IPAM (a /24 per node from kubernetes.podCidr)',
    podRanges: (config) => [config.kubernetes.podCidr],
    checks: [],
    ownSettings: [],
  },
  'cluster-pool': {
    name: 'cluster-pool',
    teaches:
      "Cilium's cluster-pool IPAM: the operator hands each node a /clusterPool.maskSize block of clusterPool.cidrs (CiliumNode spec.ipam.podCIDRs); the pitfall: the chart's default 10.0.0.0/8 overlapping node or service ranges breaks cross-node traffic",
    helmOverlay: 'cluster-pool.yaml',
    podRanges: (config) => config.clusterPool.cidrs,
    computedValues: (config) => ({
      ipam: { operator: { clusterPoolIPv4PodCIDRList: [...config.clusterPool.cidrs], clusterPoolIPv4MaskSize: config.clusterPool.maskSize } },
    }),
    checks: ['ipam-pool'],
    ownSettings: ['clusterPool'],
    rules: checkClusterPool,
    redeploy: {
      fixed: [{ path: 'clusterPool.maskSize', why: "Cilium's operator cannot change the block size of a running pool (the mask size never changes)" }],
      growOnly: [{ path: 'clusterPool.cidrs', why: "Cilium's pool list can only grow: the operator keeps handing out blocks of every pool it has" }],
    },
    checkFacts: (config) => ({ clusterPool: { cidrs: config.clusterPool.cidrs, maskSize: config.clusterPool.maskSize } }),
  },
  netkit: {
    name: 'netkit',
    teaches:
      'netkit devices instead of veth pairs for the pods (bpf.datapathMode: netkit, kernel >= 6.8 with CONFIG_NETKIT), with BPF host routing: the pod\'s traffic enters the host\'s BPF datapath without a veth hop',
    helmOverlay: 'netkit.yaml',
    podRanges: (config) => [config.kubernetes.podCidr],
    checks: ['netkit-devices'],
    ownSettings: [],
    // Ubuntu 24.04's own 6.8 kernel has CONFIG_NETKIT=y; preflight checks every node's kernel too.
    configDefaults: { 'ubuntu.release': '24.04' },
    requires: [{ path: 'ubuntu.release', allowed: ['24.04'], why: 'netkit needs a kernel >= 6.8 with CONFIG_NETKIT, which the lab takes from Ubuntu 24.04 (noble\'s 6.8 kernel)' }],
  },
  'kube-proxy': {
    name: 'kube-proxy',
    teaches:
      'the mirror image of the default: kubeadm keeps kube-proxy (Services in iptables, KUBE-SVC chains), Cilium runs without kube-proxy replacement, and HostPort comes from the portmap plugin chained behind Cilium (CNI-HOSTPORT-DNAT rules)',
    helmOverlay: 'kube-proxy.yaml',
    podRanges: (config) => [config.kubernetes.podCidr],
    checks: [],
    ownSettings: [],
    kubeProxy: 'kept',
    cniPlugins: ['portmap'],
    // NodePort XDP acceleration is part of kube-proxy replacement.
    xdp: false,
    replacesChecks: { 'no-kube-proxy': 'kube-proxy-present', 'no-kube-svc-rules': 'kube-svc-rules-present', hostport: 'hostport-portmap' },
  },
  eni: {
    name: 'eni',
    teaches:
      "Cilium's ENI IPAM on AWS (kOps' ipam: eni): the operator attaches ENIs to each node and pods get VPC addresses from the node subnet, routed by the VPC (no SNAT between pods, testpc reaches pods by their own addresses); a node's pods are capped by its instance type's ENIs, ENIs x (IPv4 per ENI - 1); internet traffic leaves masqueraded by ens5 (without masquerading it would leave by each pod's ENI and be lost)",
    helmOverlay: 'eni.yaml',
    // The lab security group admits the node subnet, where the operator puts the ENIs (the primary
    // ENI's subnet comes first when no subnet filter is set: Cilium's eni.rst, "ENI Creation").
    podRanges: (config) => [config.network.nodeSubnetCidr],
    computedValues: (config) => ({
      // The VPC routes every pod address: nothing inside it is masqueraded (what the agent would detect).
      ipv4NativeRoutingCIDR: config.network.vpcCidr,
      // The operator tags its ENIs io.cilium/cluster-name=<cluster.name> and garbage-collects only
      // detached ENIs of that name: the lab's name, not the chart's "default".
      cluster: { name: config.labName },
    }),
    checks: ['eni-ipam'],
    ownSettings: [],
    nodePodCidrs: false,
    // Cilium's XDP program would go on every ENI the operator adds (untuned, hot-plugged); an agent
    // restart failed attaching it to a secondary ENI in cilium/cilium#25453. Not this profile's lesson.
    xdp: false,
    maxPods: (instanceType, role) => eniPodCapacity(instanceType, role)?.maxPods,
    infra: { ciliumOperatorEni: true },
    rules: checkEniIpam,
    redeploy: {
      fixed: [{ path: 'nodes.instanceType', why: "each kubelet's maxPods comes from its instance type's ENIs and is set when the node joins; a new type replaces every node" }],
    },
    checkFacts: (config) => ({
      eni: {
        vpcCidr: config.network.vpcCidr,
        nodeSubnetCidr: config.network.nodeSubnetCidr,
        maxPods: {
          'control-plane': eniPodCapacity(config.nodes.instanceType, 'control-plane')?.maxPods ?? 0,
          worker: eniPodCapacity(config.nodes.instanceType, 'worker')?.maxPods ?? 0,
        },
      },
    }),
  },
  bgp: {
    name: 'bgp',
    teaches:
      "Cilium's BGP control plane peering with a router (FRR) between two subnets: the pod CIDRs and LoadBalancer IPs (LB IPAM, Services labelled advertise=bgp) learned by the router, ECMP across the nodes, externalTrafficPolicy: Local narrowing who advertises; the pitfall: Cilium does not install the routes it receives, so the nodes route the pod range via the router themselves",
    helmOverlay: 'bgp.yaml',
    podRanges: (config) => [config.kubernetes.podCidr],
    checks: ['bgp'],
    ownSettings: ['bgp'],
    rules: checkBgp,
    resources: bgpResources,
    topology: (config) => {
      const ranges = advertisedRanges(config);
      const via = { nodes: config.bgp.router.nodeSubnetIp, test: config.bgp.router.testSubnetIp };
      return {
        router: {
          name: config.bgp.router.name,
          nodeSubnetIp: config.bgp.router.nodeSubnetIp,
          testSubnetIp: config.bgp.router.testSubnetIp,
          instanceType: config.bgp.router.instanceType,
          // Ubuntu 24.04's FRR (8.4.4, the version of Debian 12 that test/bgp/frr-real.test.ts runs
          // the rendered configuration in), not 22.04's 8.1, whatever release the nodes run.
          ubuntuRelease: '24.04',
          fields: { nodeSubnetIp: 'bgp.router.nodeSubnetIp', testSubnetIp: 'bgp.router.testSubnetIp', instanceType: 'bgp.router.instanceType' },
        },
        testSubnetWorkers: { count: config.bgp.testSubnetWorkers, firstIp: config.bgp.testSubnetWorkerFirstIp, field: 'bgp.testSubnetWorkerFirstIp' },
        // Cilium's BGP control plane advertises but installs no received routes in the kernel
        // (docs: BGP Control Plane, "does not program the datapath with received routes"): every
        // instance routes what lies behind the router through the router's address in its subnet.
        routes: (subnet) => ranges.map((to) => ({ to, via: via[subnet] })),
      };
    },
    redeploy: {
      fixed: [
        { path: 'bgp.router', why: 'the router (its addresses, type and FRR configuration) is set up when it boots; a change replaces it' },
        {
          path: 'workers.count',
          why: "the router's FRR configuration, written once at its first boot, lists every node as a neighbour (a new worker would never peer), and the last workers sit behind the router (another count moves a worker to the other subnet)",
        },
        { path: 'bgp.routerAsn', why: "the router's AS is in the FRR configuration written when it boots" },
        { path: 'bgp.testSubnetWorkers', why: 'which workers sit behind the router is fixed when they are created' },
        { path: 'bgp.testSubnetWorkerFirstIp', why: "a worker's address is fixed when it is created" },
        { path: 'bgp.lbPoolCidr', why: "testpc's route to the LoadBalancer IPs and the router's import filter are written at boot" },
        { path: 'bgp.advertisedRanges', why: "the nodes' routes via the router and the router's import filter are written at boot" },
        { path: 'kubernetes.podCidr', why: "the nodes' routes via the router and the router's import filter (the advertised ranges' default) are written at boot" },
      ],
    },
    checkFacts: (config) => ({
      bgp: {
        routerAsn: config.bgp.routerAsn,
        clusterAsn: config.bgp.clusterAsn,
        lbPoolCidr: config.bgp.lbPoolCidr,
        podCidr: config.kubernetes.podCidr,
        routerAddresses: { nodes: config.bgp.router.nodeSubnetIp, test: config.bgp.router.testSubnetIp },
      },
    }),
  },
} as const satisfies Readonly<Record<ProfileName, LabProfile>>;

export function profileOf(config: Pick<LabConfig, 'profile'>): LabProfile {
  return PROFILES[config.profile];
}

/** The one CIDR Cilium routes natively (no SNAT between pods): the pod ranges' covering CIDR. */
export function nativeRoutingCidr(config: LabConfig): string {
  const ranges = profileOf(config)
    .podRanges(config)
    .map((c) => parseCidr(c))
    .filter((c): c is Ipv4Cidr => typeof c !== 'string');
  return formatCidr(coveringCidr(ranges));
}
