/**
 * The router's FRR configuration (profile bgp), rendered from the lab plan: pure, so the same
 * plan always gives the same file. The router boots with it (scripts/node/router.sh checks it
 * with FRR's own parser before starting bgpd) and the tests run it in a real FRR.
 *
 * As the study's router: AS bgp.routerAsn, every Kubernetes node a neighbour in the peer group
 * CILIUM with `remote-as external` (any AS but the router's own: eBGP), and up to eight equal
 * paths per prefix installed (ECMP across the nodes that advertise a LoadBalancer IP). Beyond the
 * study: an import filter that takes only the lab's advertised ranges (the pod range and the
 * LoadBalancer pool: a node cannot teach the router a default route), and nothing advertised back
 * (Cilium would not install it anyway). Both filters also satisfy FRR's `bgp ebgp-requires-policy`,
 * on by default since FRR 7.4, without turning it off as the study does.
 * FRR docs: https://docs.frrouting.org/en/latest/bgp.html (peer groups, remote-as external,
 * maximum-paths, ebgp-requires-policy).
 */
import { advertisedRanges } from '../config/bgp-rules.js';
import type { LabPlan } from '../config/plan.js';

/**
 * How many equal paths FRR installs per prefix: every node that advertises a LoadBalancer IP (ECMP
 * over all of them; the study's 8 at the least). Debian 12's frr 8.4.4 is built with
 * --enable-multipath=256 (`/usr/lib/frr/zebra --version`), FRR's own debian/rules defaults to
 * MULTIPATH=256, above the lab's 51 nodes at most; Ubuntu's build flags were not checked here.
 */
export function frrMaximumPaths(kubeNodes: number): number {
  return Math.max(8, kubeNodes);
}

export function renderFrrConfig(plan: LabPlan): string {
  const { config, router } = plan;
  if (!router) throw new Error('renderFrrConfig: the lab has no router (profile bgp)');
  const kubeNodes = [plan.controlPlane, ...plan.workers];
  const lines = [
    '! cilium-lab: the router of profile bgp, written by the lab (lib/bgp/frr-config.ts). Edit the lab config, not this file.',
    'frr defaults traditional',
    `hostname ${router.name}`,
    'log syslog informational',
    'service integrated-vtysh-config',
    '!',
    ...advertisedRanges(config).map((range, index) => `ip prefix-list LAB-ADVERTISED seq ${(index + 1) * 5} permit ${range} le 32`),
    '!',
    'route-map FROM-CILIUM permit 10',
    ' match ip address prefix-list LAB-ADVERTISED',
    'exit',
    '!',
    'route-map TO-CILIUM deny 10',
    'exit',
    '!',
    `router bgp ${config.bgp.routerAsn}`,
    ` bgp router-id ${router.privateIp}`,
    ' bgp log-neighbor-changes',
    ' bgp graceful-restart',
    ' bgp bestpath as-path multipath-relax',
    ` timers bgp ${config.bgp.keepAliveTimeSeconds} ${config.bgp.holdTimeSeconds}`,
    ' neighbor CILIUM peer-group',
    ' neighbor CILIUM remote-as external',
    ...kubeNodes.map((node) => ` neighbor ${node.privateIp} peer-group CILIUM`),
    ...kubeNodes.map((node) => ` neighbor ${node.privateIp} description ${node.name}`),
    ' !',
    ' address-family ipv4 unicast',
    '  neighbor CILIUM route-map FROM-CILIUM in',
    '  neighbor CILIUM route-map TO-CILIUM out',
    `  maximum-paths ${frrMaximumPaths(kubeNodes.length)}`,
    ' exit-address-family',
    'exit',
    '!',
  ];
  return `${lines.join('\n')}\n`;
}
