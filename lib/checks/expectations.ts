/**
 * The named expected results of every scenario (cilium-cli's check/result.go style): each
 * scenario asserts some of these, and results, tables and JUnit refer to them by id.
 */
import type { Expectation } from './types.js';

export const e = (id: string, description: string): Expectation => ({ id, description });

export const EXPECT = {
  // cluster
  nodesReady: e('all-nodes-ready', 'every node of the lab is registered and Ready'),
  noKubeProxyDaemonSet: e('no-kube-proxy-daemonset', 'kube-system has no kube-proxy DaemonSet'),
  noKubeProxyConfigMap: e('no-kube-proxy-configmap', 'kube-system has no kube-proxy ConfigMap'),
  corednsReady: e('coredns-ready', 'the coredns Deployment has all its replicas ready'),
  ciliumDaemonSetReady: e('cilium-daemonset-ready', 'the cilium DaemonSet is scheduled on every node and ready on all of them'),
  ciliumAgentOnEveryNode: e('cilium-agent-on-every-node', 'every node runs a Ready cilium agent pod'),
  ciliumOperatorReady: e('cilium-operator-ready', 'the cilium-operator Deployment is ready'),
  hubbleRelayReady: e('hubble-relay-ready', 'the hubble-relay Deployment is ready'),
  hubbleUiReady: e('hubble-ui-ready', 'the hubble-ui Deployment is ready'),
  // agent
  kubeProxyReplacement: e('kube-proxy-replacement-as-configured', '`cilium-dbg status` reports KubeProxyReplacement as cilium-config asks (the lab: True) on every agent'),
  routing: e('routing-as-configured', 'inter-host routing is what cilium-config asks (the lab: Native, no tunnel) on every agent'),
  hostRouting: e('host-routing-as-configured', 'host routing is BPF where cilium-config allows it (kube-proxy replacement and BPF masquerading, no legacy routing), else Legacy, on every agent'),
  masquerading: e('masquerading-as-configured', 'masquerading is on and in BPF or iptables as cilium-config asks (the lab: BPF) on every agent'),
  xdpAcceleration: e('xdp-acceleration-as-configured', 'NodePort XDP acceleration is Native (or BestEffort) on every agent where cilium-config asks for it'),
  // datapath
  podReachesPod: e('pod-reaches-pod-across-nodes', 'netpod on the control plane gets an answer from each webpod on a worker by pod IP'),
  sourceAsConfigured: e('peer-sees-source-as-configured', 'the backend sees netpod\'s own pod IP, or its node\'s IP where cilium-config masquerades pod-to-pod traffic (destination outside ipv4-native-routing-cidr)'),
  clusterIpAnswers: e('clusterip-every-request-answered', 'every request to the ClusterIP service is answered'),
  clusterIpBothBackends: e('clusterip-both-backends', 'requests to the ClusterIP service are answered by both webpod1 and webpod2'),
  serviceDnsAnswers: e('service-dns-name-answers', 'the service answers by its DNS name (CoreDNS through the service datapath)'),
  internetReachable: e('internet-reachable', 'netpod reaches a server on the internet'),
  egressMasqueraded: e('egress-masqueraded', 'the internet sees the node\'s public IP, not the pod\'s: egress is masqueraded'),
  hostPortReachable: e('hostport-reachable', 'the HostPort pod answers on its node\'s IP and the host port (netpod, from another node)'),
  hostPortSameNode: e('hostport-same-node', 'a pod on the HostPort pod\'s own node reaches it on that node\'s IP and the host port (what portmap\'s DNAT could not do)'),
  hostPortAgent: e('hostport-agent-enabled', 'the agent on that node reports HostPort enabled (kube-proxy replacement feature)'),
  hostPortServiceEntry: e('hostport-service-entry', 'the agent\'s service table on that node has a HostPort frontend on the host port with a backend'),
  noCniHostportRules: e('no-cni-hostport-iptables-rules', 'that node has no CNI-HOSTPORT iptables rules (HostPort is not done by the portmap plugin)'),
  nodePortEveryNode: e('nodeport-every-node-answers', 'from testpc, every node\'s IP answers every request on the NodePort (externalTrafficPolicy: Cluster)'),
  nodePortBothBackends: e('nodeport-both-backends', 'the NodePort requests from testpc are answered by both webpod1 and webpod2'),
  xdpCountersMove: e('xdp-counters-move', 'with native XDP, each node\'s XDP packet counters (where the driver exposes them) move while testpc calls its NodePort'),
  nodePortLocalOnlyBackendNodes: e('nodeport-local-only-backend-nodes', 'with externalTrafficPolicy: Local, only the nodes running a webpod answer (with their own webpod), the others do not'),
  // profile cluster-pool
  ipamPoolBlocks: e('ipam-pool-node-blocks', 'every node has its own /clusterPool.maskSize block of clusterPool.cidrs in its CiliumNode spec.ipam.podCIDRs'),
  ipamPodsInBlocks: e('ipam-pods-in-node-blocks', 'every test pod\'s IP is inside its own node\'s block'),
  // profile eni
  eniPodsInSubnet: e('eni-pod-ips-in-node-subnet', 'every test pod has a VPC address of network.nodeSubnetCidr (no overlay, no pod CIDR)'),
  eniTestpcReachesPods: e('eni-testpc-reaches-pods-directly', 'testpc, outside the cluster, reaches each webpod at its own pod address on port 80 (the VPC routes pod addresses: no overlay, no NodePort)'),
  eniCiliumNodeEnis: e('eni-ciliumnode-enis', "every node's CiliumNode status.eni.enis lists its ENIs in the node subnet of the lab's VPC, and each test pod's address is one of its own node's ENI addresses"),
  bgpSessionsFromNodes: e('bgp-sessions-established-on-nodes', "every node's Cilium agent has a BGP session Established with the router's address in its own subnet, between the lab's ASes (`cilium-dbg bgp peers`)"),
  bgpSessionsOnRouter: e('bgp-sessions-established-on-router', "the router's FRR has every Kubernetes node as a neighbour in the cluster's AS, Established (`show bgp summary json`)"),
  bgpPodCidrsOnRouter: e('bgp-pod-cidrs-on-router', "the router learned each node's pod CIDR with that node as next hop, and installed it in its kernel (`show ip bgp json`, `ip route`)"),
  bgpCrossSubnetPods: e('bgp-pod-to-pod-across-subnets', 'netpod in the node subnet reaches the webpod on a worker behind the router by pod IP (the nodes route the pod range via the router; Cilium installs no BGP route)'),
  bgpLbIpAssigned: e('bgp-loadbalancer-ip-assigned', "LB IPAM gave each of the check's LoadBalancer Services (labelled advertise=bgp) an address from the lab's pool"),
  bgpLbEcmp: e('bgp-loadbalancer-ecmp', 'the router learned the LoadBalancer IP of the externalTrafficPolicy Cluster Service from every node and installed one ECMP route with a next hop per node'),
  bgpLbLocalAdvertisers: e('bgp-loadbalancer-local-advertisers', 'the LoadBalancer IP of the externalTrafficPolicy Local Service is advertised only by the nodes that run one of its backends'),
  bgpTestpcReachesLb: e('bgp-testpc-reaches-loadbalancer', 'testpc reaches both LoadBalancer IPs through the router: every request answered, by more than one backend where several exist'),
  eniPodCapacity: e('eni-node-pod-capacity', "every node's pod capacity (status.capacity.pods) is the lab's figure for its instance type and role: ENIs x (IPv4 per ENI - 1) - 2 + its host-network pods"),
  // profile kube-proxy
  kubeProxyDaemonSet: e('kube-proxy-daemonset-ready', 'the kube-proxy DaemonSet runs and is ready on every node'),
  kubeProxyConfigMap: e('kube-proxy-configmap', 'kube-system has the kube-proxy ConfigMap'),
  kubeSvcRulesPresent: e('kube-svc-iptables-rules', 'every node carries KUBE-SVC iptables rules (kube-proxy programs the Services)'),
  cniHostportRules: e('cni-hostport-iptables-rules', 'the hostport pod\'s node carries CNI-HOSTPORT rules (the portmap plugin serves the HostPort)'),
  // profile netkit
  netkitConfigured: e('netkit-datapath-mode', 'cilium-config asks for datapath-mode netkit'),
  netkitEndpoints: e('netkit-endpoint-devices', 'every node\'s pod endpoint devices (lxc*) are netkit, none veth, at least one per test pod there'),
  // hosts
  noKubeSvcRules: e('no-kube-svc-iptables-rules', 'no node has KUBE-SVC iptables chains or rules (nothing programs services in iptables)'),
  mtuAsTuned: e('mtu-as-tuned', 'each tuned node\'s NIC still has the MTU the tuning persisted'),
  channelsAsTuned: e('channels-as-tuned', 'each tuned node\'s NIC still has the combined channels the tuning persisted'),
  xdpAttached: e('xdp-attached-driver-mode', 'where cilium-config asks for native XDP, every node\'s default-route NIC carries an XDP program in driver mode (ip -details link show)'),
  // hubble
  hubbleUiAnswers: e('hubble-ui-answers', 'the hubble-ui Service answers netpod with the Hubble UI page (<title>Hubble UI</title>)'),
  hubbleForwardedToPeers: e('hubble-forwarded-to-each-peer', 'Hubble relay shows FORWARDED flows from netpod to webpod1, webpod2 and the hostport pod'),
  hubbleNoDropsOfNetpod: e('hubble-no-dropped-flows-of-netpod', 'Hubble relay shows no DROPPED flow of netpod (a drop is shown with its reason)'),
  // upstream
  upstreamPassed: e('cilium-connectivity-test-passed', '`cilium connectivity test` ends with exit code 0'),
} as const;
