/**
 * The values block of each node script, computed from the lab plan and the few facts only
 * CloudFormation knows (region, Elastic IP, secret ARN, signal URL: passed in as token strings).
 * Pure: the same plan and references always give the same values.
 */
import { renderFrrConfig } from '../bgp/frr-config.js';
import { profileOf } from '../config/profiles.js';
import type { LabNode, LabPlan } from '../config/plan.js';
import type { ScriptValues } from './node-user-data.js';
import { KUBE_API_PORT, KUBERNETES_MINORS } from '../config/catalog.js';

export interface CloudRefs {
  readonly region: string;
  readonly readyUrl: string;
  readonly joinSecretArn: string;
  readonly controlPlanePublicIp: string;
}

/** The script each role boots with. */
export const ROLE_SCRIPTS: Readonly<Record<LabNode['role'], string>> = {
  'control-plane': 'control-plane.sh',
  worker: 'worker.sh',
  router: 'router.sh',
  testpc: 'testpc.sh',
};

/** A node gives up (and signals FAILURE itself) this long before CloudFormation's own timeout. */
export const SIGNAL_MARGIN_SECONDS = 120;

export function nodeScriptValues(plan: LabPlan, node: LabNode, refs: CloudRefs): ScriptValues {
  const config = plan.config;
  const common = {
    LAB_NODE_NAME: node.name,
    LAB_NODE_IP: node.privateIp,
    LAB_READY_URL: refs.readyUrl,
    LAB_DEADLINE_SECONDS: String(config.bootstrap.timeoutMinutes * 60 - SIGNAL_MARGIN_SECONDS),
    // Every lab host by name on every host, as the study's scripts set up /etc/hosts.
    LAB_HOSTS: plan.instances.map((n) => `${n.privateIp} ${n.name}`).join(','),
  };
  if (node.role === 'router') {
    const second = node.secondInterface;
    if (!second) throw new Error(`nodeScriptValues: router ${node.name} has no second interface`);
    const subnet = second.subnet === 'nodes' ? config.network.nodeSubnetCidr : config.network.testSubnetCidr;
    return {
      ...common,
      LAB_SECOND_ADDRESS: `${second.privateIp}/${subnet.split('/')[1]}`,
      LAB_FRR_CONF_B64: Buffer.from(renderFrrConfig(plan), 'utf8').toString('base64'),
      // Every Kubernetes node is a neighbour: the boot checks bgpd runs with all of them.
      LAB_BGP_PEERS: String(1 + plan.workers.length),
    };
  }
  // The instance's own routes (profile bgp: what lies behind the router, via its address in this subnet).
  const routed = { ...common, LAB_ROUTES: node.routes.map((r) => `${r.to} via ${r.via}`).join(',') };
  if (node.role === 'testpc') {
    return routed;
  }
  const kubeNode = {
    ...routed,
    LAB_REGION: refs.region,
    LAB_K8S_MINOR: plan.kubernetes.minor,
    LAB_PAUSE_IMAGE: (KUBERNETES_MINORS[plan.kubernetes.minor] as { pauseImage: string }).pauseImage,
    LAB_CONTAINERD_MINIMUMS: (KUBERNETES_MINORS[plan.kubernetes.minor] as { containerdMinimums: readonly string[] }).containerdMinimums.join(' '),
    // A maintained minor whose pkgs.k8s.io key is current (prepare-node.sh node::kubernetes_keyring).
    LAB_K8S_KEY_MINOR: Object.keys(KUBERNETES_MINORS).at(-1) as string,
    LAB_K8S_PACKAGE_VERSION: plan.kubernetes.packageVersion,
    LAB_KUBEADM_API: plan.kubernetes.kubeadmApi,
    // CNI plugins the profile chains behind Cilium, checked in /opt/cni/bin at boot (prepare-node.sh).
    LAB_CNI_PLUGINS: (profileOf(config).cniPlugins ?? []).join(' '),
    // The node's pod limit: the profile's (eni: what its ENIs hold), else kubernetes.maxPods; empty: kubelet's 110.
    LAB_MAX_PODS: String(profileOf(config).maxPods?.(node.instanceType, node.role === 'control-plane' ? 'control-plane' : 'worker') ?? config.kubernetes.maxPods ?? ''),
    LAB_CONTROL_PLANE_ENDPOINT: `${plan.controlPlane.privateIp}:${KUBE_API_PORT}`,
    LAB_JOIN_SECRET_ID: refs.joinSecretArn,
  };
  if (node.role === 'worker') {
    return kubeNode;
  }
  return {
    ...kubeNode,
    LAB_K8S_VERSION: plan.kubernetes.version,
    LAB_CLUSTER_NAME: config.labName,
    LAB_PUBLIC_IP: refs.controlPlanePublicIp,
    // No node pod CIDRs where Cilium hands out pod addresses alone (profile eni).
    LAB_POD_CIDR: profileOf(config).nodePodCidrs === false ? '' : config.kubernetes.podCidr,
    LAB_SERVICE_CIDR: config.kubernetes.serviceCidr,
    // kubeadm's kube-proxy addon: skipped (Cilium replaces it) unless the profile keeps it.
    LAB_KUBE_PROXY: profileOf(config).kubeProxy === 'kept' ? 'install' : 'skip',
    LAB_JOIN_TOKEN_TTL: `${config.kubernetes.joinTokenTtlMinutes}m0s`,
    LAB_ARCH: config.ubuntu.arch,
    LAB_HELM_VERSION: plan.tools.helmVersion,
    LAB_CILIUM_CLI_VERSION: plan.tools.ciliumCliVersion,
    LAB_HUBBLE_CLI_VERSION: plan.tools.hubbleCliVersion,
    LAB_KUBE_CONTEXT: plan.kubeContext,
  };
}
