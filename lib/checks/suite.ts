/** The checks of `lab check`, in the order they run. */
import { check } from './builder.js';
import { datapathFixture } from './datapath-fixture.js';
import { agentStatus } from './scenarios/agent-status.js';
import { ciliumAgentsReady } from './scenarios/cilium-agents-ready.js';
import { ciliumComponentsReady } from './scenarios/cilium-components-ready.js';
import { corednsReady } from './scenarios/coredns-ready.js';
import { hostPort } from './scenarios/hostport.js';
import { hubbleFlows } from './scenarios/hubble-flows.js';
import { hubbleUi } from './scenarios/hubble-ui.js';
import { nicTuning } from './scenarios/nic-tuning.js';
import { noKubeProxy } from './scenarios/no-kube-proxy.js';
import { noKubeSvcRules } from './scenarios/no-kube-svc-rules.js';
import { nodePortFromTestpc } from './scenarios/nodeport.js';
import { nodesReady } from './scenarios/nodes-ready.js';
import { podToClusterIp } from './scenarios/pod-to-clusterip.js';
import { podToInternet } from './scenarios/pod-to-internet.js';
import { podToPod } from './scenarios/pod-to-pod.js';
import { podToServiceDns } from './scenarios/pod-to-service-dns.js';
import { upstreamConnectivityTest, type UpstreamOptions } from './scenarios/upstream-connectivity.js';
import type { Check, Scenario } from './types.js';
import type { DatapathPods } from './datapath-fixture.js';
import { bgp } from './scenarios/bgp.js';
import { eniIpam } from './scenarios/eni-ipam.js';
import { ipamPool } from './scenarios/ipam-pool.js';
import { hostPortPortmap, kubeProxyPresent, kubeSvcRulesPresent } from './scenarios/kube-proxy-profile.js';
import { netkitDevices } from './scenarios/netkit-devices.js';

export interface SuiteOptions {
  /** Also run `cilium connectivity test` on the control plane. */
  readonly upstream?: UpstreamOptions;
  /** The scenarios only the lab's profile has (LabProfile.checks). */
  readonly profileChecks?: readonly string[];
  /** Base scenarios the profile swaps for its own (LabProfile.replacesChecks: base name -> its name). */
  readonly replaceChecks?: Readonly<Record<string, string>>;
}

/** The scenarios a profile may put in place of a base one (LabProfile.replacesChecks), by name. */
export const REPLACEMENT_SCENARIOS = {
  'kube-proxy-present': kubeProxyPresent,
  'kube-svc-rules-present': kubeSvcRulesPresent,
  'hostport-portmap': hostPortPortmap as Scenario<unknown>,
} as const satisfies Readonly<Record<string, Scenario<unknown>>>;

/** The scenarios a profile may add, by the names profiles use (lib/config/profiles.ts). */
export const PROFILE_SCENARIOS = { 'ipam-pool': ipamPool, 'netkit-devices': netkitDevices, 'eni-ipam': eniIpam, bgp } as const satisfies Readonly<Record<string, Scenario<DatapathPods>>>;

/** The scenario, or the profile's replacement for it. */
function swap<F>(scenario: Scenario<F>, replace: Readonly<Record<string, string>> | undefined): Scenario<F> {
  const name = replace?.[scenario.name];
  if (name === undefined) return scenario;
  const replacement = REPLACEMENT_SCENARIOS[name as keyof typeof REPLACEMENT_SCENARIOS];
  if (!replacement) throw new Error(`cilium-lab: replacement scenario ${name} is not in lib/checks/suite.ts REPLACEMENT_SCENARIOS`);
  return replacement as Scenario<F>;
}

export function labChecks(options: SuiteOptions = {}): Check<unknown>[] {
  const r = options.replaceChecks;
  const checks: Check<unknown>[] = [
    check('cluster')
      .proves(r ? 'the cluster formed as the profile asks (kube-proxy present or not) and every Cilium component runs' : 'the cluster formed without kube-proxy and every Cilium component runs')
      .withScenarios(nodesReady, swap(noKubeProxy, r), corednsReady, ciliumAgentsReady, ciliumComponentsReady)
      .build(),
    check('agent').proves(r ? 'each Cilium agent runs the datapath its cilium-config asks for' : 'each Cilium agent runs the intended kube-proxy-free datapath').withScenarios(agentStatus).build(),
    check('hosts').proves(r ? 'the nodes carry the Service rules of whoever owns Services and keep their NIC tuning' : 'the nodes themselves carry no kube-proxy rules and keep their NIC tuning').withScenarios(swap(noKubeSvcRules, r), nicTuning).build(),
    check('datapath')
      .proves(`pods reach pods, services, the internet and host ports, and testpc reaches NodePorts, ${r ? 'with kube-proxy serving Services' : 'through Cilium alone'}, and Hubble sees it`)
      .withFixture(datapathFixture)
      .withScenarios(
        ...(options.profileChecks ?? []).map((name) => {
          const scenario = PROFILE_SCENARIOS[name as keyof typeof PROFILE_SCENARIOS];
          if (!scenario) throw new Error(`cilium-lab: profile scenario ${name} is not in lib/checks/suite.ts PROFILE_SCENARIOS`);
          return scenario;
        }),
        podToPod,
        podToClusterIp,
        podToServiceDns,
        podToInternet,
        swap(hostPort, r),
        nodePortFromTestpc,
        hubbleFlows,
        hubbleUi,
      )
      .build(),
  ];
  if (options.upstream) {
    checks.push(check('upstream').proves('Cilium\'s own connectivity suite passes').withScenarios(upstreamConnectivityTest(options.upstream)).build());
  }
  return checks;
}
