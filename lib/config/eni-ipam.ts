/**
 * Profile eni (Cilium's ENI IPAM, lib/config/profiles.ts): what a node's network interfaces give
 * its pods, and the rules a lab of this profile must meet before anything is deployed.
 *
 * Pod addresses per node: Cilium's operator attaches ENIs (ens5 first: first-interface-index 0)
 * and takes secondary addresses on them, never an interface's own primary address (cilium/cilium
 * pkg/aws/eni/node.go CreateInterface: "up to ENI instance limit - 1 (reserve 1 for primary IP)"):
 *   ENIs x (IPv4 per ENI - 1).
 * Of those the agent keeps one for its router address (cilium_host, from the ENI's range:
 * Documentation/network/concepts/routing.rst) and one for its health endpoint (allocated from
 * the same IPAM; cilium/cilium#10426 asks the docs for the figure; lab check's eni-ipam scenario
 * compares the node's capacity with this on a real lab). kubelet's maxPods also counts the pods that use the host's network and no address:
 * Cilium's agent and its Envoy DaemonSet on every node, and on the control plane the four static
 * pods of kubeadm and the operator (pinned there). So, per node,
 *   maxPods = ENIs x (IPv4 per ENI - 1) - 2 + host-network pods,
 * which for a worker is EKS's figure less 2 (EKS counts aws-node and kube-proxy where Cilium has
 * its agent and Envoy, and reserves no router or health address).
 */
import { formatCidr, parseCidr, cidrSize, type Ipv4Cidr } from './cidr.js';
import { eniLimits } from './eni-limits.js';
import type { Report } from './report.js';
import { LabConfigFieldsSchema, type LabConfig } from './schema.js';

/** Addresses the agent takes from the node's pool for itself: router (cilium_host) and health endpoint. */
export const CILIUM_NODE_ADDRESSES = 2;
/** Pods on the host's network on every node: cilium agent, cilium-envoy. */
export const HOST_NETWORK_PODS_PER_NODE = 2;
/** More on the control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, cilium-operator. */
export const HOST_NETWORK_PODS_CONTROL_PLANE = 5;
/** Addresses AWS keeps in every subnet (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html). */
const AWS_RESERVED_PER_SUBNET = 5;

export interface EniPodCapacity {
  /** Secondary addresses the node's ENIs can hold: ENIs x (IPv4 per ENI - 1). */
  readonly podAddresses: number;
  /** Pods with an address of their own: podAddresses less the agent's router and health addresses. */
  readonly addressedPods: number;
  /** kubelet's maxPods: addressedPods plus the host-network pods of the node's role. */
  readonly maxPods: number;
  /** Every address the node may take in its subnet with all ENIs full (their primaries included). */
  readonly subnetAddresses: number;
}

export function eniPodCapacity(instanceType: string, role: 'control-plane' | 'worker'): EniPodCapacity | undefined {
  const limits = eniLimits(instanceType);
  if (!limits) return undefined;
  const podAddresses = limits.maxEnis * (limits.ipv4PerEni - 1);
  const addressedPods = podAddresses - CILIUM_NODE_ADDRESSES;
  const hostNetwork = HOST_NETWORK_PODS_PER_NODE + (role === 'control-plane' ? HOST_NETWORK_PODS_CONTROL_PLANE : 0);
  return { podAddresses, addressedPods, maxPods: addressedPods + hostNetwork, subnetAddresses: limits.maxEnis * limits.ipv4PerEni };
}

function cidrOf(text: string): Ipv4Cidr | undefined {
  const parsed = parseCidr(text);
  return typeof parsed === 'string' ? undefined : parsed;
}

/** The rules of profile eni, run at synth with the lab's own. */
export function checkEniIpam(config: LabConfig, report: Report): void {
  const defaults = LabConfigFieldsSchema.parse({});
  if (config.kubernetes.podCidr !== defaults.kubernetes.podCidr) {
    report(
      ['kubernetes', 'podCidr'],
      `profile=eni gives pods VPC addresses from network.nodeSubnetCidr (Cilium's operator attaches ENIs), so kubeadm allocates no pod CIDRs and kubernetes.podCidr ${config.kubernetes.podCidr} would be ignored; leave kubernetes.podCidr out`,
    );
  }
  const type = config.nodes.instanceType;
  const capacity = eniPodCapacity(type, 'worker');
  if (!capacity) {
    report(['nodes', 'instanceType'], `profile=eni needs the ENI limits of ${type} to size each node's pods, and the lab has them for the families of lib/config/eni-limits.ts (t3, t3a, t4g, m5, m6i, m7i, c5, c6i, r5, ... ); pick one of those`);
    return;
  }
  if (capacity.addressedPods < 4) {
    report(['nodes', 'instanceType'], `profile=eni: ${type}'s ENIs hold ${capacity.podAddresses} pod address(es), ${capacity.addressedPods} after Cilium's router and health addresses, too few for the lab's test pods; pick a larger type (t3.medium holds 13)`);
  }
  const subnet = cidrOf(config.network.nodeSubnetCidr);
  if (!subnet) return;
  const kubeNodes = 1 + config.workers.count;
  const needed = kubeNodes * capacity.subnetAddresses + AWS_RESERVED_PER_SUBNET;
  if (needed > cidrSize(subnet)) {
    report(
      ['network', 'nodeSubnetCidr'],
      `profile=eni: ${kubeNodes} Kubernetes nodes of ${type} can take ${kubeNodes} x ${capacity.subnetAddresses} addresses of ${formatCidr(subnet)} with every ENI full (${needed} with AWS's 5), more than its ${cidrSize(subnet)}; use a larger node subnet, fewer workers or a smaller type`,
    );
  }
}
