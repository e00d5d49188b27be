/**
 * Connectivity checks as data (ARCHITECTURE.md convention 10, after cilium-cli's
 * connectivity/check): a `Scenario` has a name, what it proves, the named expectations it
 * asserts, and a `run` that reads the cluster through the KubeClient and RemoteRunner interfaces.
 * A `Check` groups scenarios that share a fixture (the test namespace and its pods). The runner
 * (./runner.ts) turns each scenario into a `ScenarioResult`: passed, failed or skipped, with a
 * reason and the evidence (commands, their output, Kubernetes events).
 */
import type { RemoteRunner } from '../lab/remote-runner.js';
import type { ArtifactStore } from '../lab/services.js';
import type { KubeClient } from '../kube/types.js';
import type { BgpFacts } from '../config/profiles.js';

export type ScenarioStatus = 'passed' | 'failed' | 'skipped';

/** A named expected result (cilium-cli's ResultOK, ResultDrop, ...). */
export interface Expectation {
  /** Stable id, used in results and JUnit, e.g. "kube-proxy-replacement-true". */
  readonly id: string;
  /** What must hold, in words. */
  readonly description: string;
}

/** One expectation as a run found it. */
export interface ExpectationResult {
  readonly id: string;
  readonly met: boolean;
  /** What was seen. */
  readonly detail: string;
}

export interface Evidence {
  /** The commands run (one per line), e.g. `exec kube-system/cilium-abc: cilium-dbg status -o json`. */
  readonly command: string;
  /** Their output, trimmed to a readable size. */
  readonly output: string;
  /** Kubernetes events, one formatted line each. */
  readonly events: readonly string[];
}

export interface ScenarioResult {
  /** The check (group) the scenario belongs to. */
  readonly check: string;
  readonly scenario: string;
  readonly proves: string;
  readonly status: ScenarioStatus;
  readonly durationMs: number;
  /** Why it failed or was skipped; a one-line summary when it passed. */
  readonly reason: string;
  readonly expectations: readonly ExpectationResult[];
  readonly evidence: Evidence;
}

/** A node of the lab as the checks know it (from the plan, not from Kubernetes). */
export interface LabNodeInfo {
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
  readonly privateIp: string;
  readonly instanceId: string;
  /** Which of the lab's subnets it sits in (profile bgp: some nodes sit behind the router). @default nodes */
  readonly subnet?: 'nodes' | 'test';
}

/** What the lab is supposed to be; the scenarios compare the cluster against it. */
export interface LabFacts {
  /** Control plane first, then the workers. */
  readonly nodes: readonly LabNodeInfo[];
  /** The control plane's public IP: what the internet sees for masqueraded egress from it. */
  readonly controlPlanePublicIp?: string;
  /** The cluster-pool IPAM settings, when the lab's profile uses it. */
  readonly clusterPool?: { readonly cidrs: readonly string[]; readonly maskSize: number };
  /** The ENI IPAM facts, when the lab's profile uses it: where pod addresses come from, and each role's kubelet maxPods. */
  readonly eni?: { readonly vpcCidr: string; readonly nodeSubnetCidr: string; readonly maxPods: Readonly<Record<'control-plane' | 'worker', number>> };
  /** Profile bgp: the ASes, the LoadBalancer pool, and the router address each node peers with. */
  readonly bgp?: BgpFacts;
  /** Profile bgp: the router between the subnets, where its BGP state is read over SSM. */
  readonly router?: { readonly name: string; readonly privateIp: string; readonly instanceId: string };
  /** The test host outside the cluster (the NodePort client); undefined with testpc.enabled=false. */
  readonly testpc?: { readonly name: string; readonly privateIp: string; readonly instanceId: string };
}

export interface CheckOptions {
  /** Reach the internet (pod-to-internet, upstream external targets). */
  readonly internet: boolean;
  /** URL for the internet probe; it must answer with the caller's public IPv4. @default https://checkip.amazonaws.com */
  readonly internetUrl: string;
  /** Namespace of the datapath fixture. @default cilium-lab-check */
  readonly namespace: string;
  /** Leave the namespace after the run (for debugging). */
  readonly keepNamespace: boolean;
  /** Budget for each pod to become Ready. */
  readonly podReadyTimeoutMs: number;
  /** Budget for a namespace to be gone. */
  readonly namespaceDeleteTimeoutMs: number;
  /** Budget for one exec. */
  readonly execTimeoutMs: number;
  /** Budget for one remote (SSM) script. */
  readonly remoteTimeoutMs: number;
  /** Pause between two reads of a wait. */
  readonly pollIntervalMs: number;
  /** How long Hubble may take to show the test traffic. */
  readonly hubbleWaitMs: number;
  /** How long a new network policy may take to be in force (the first L7 rule on a node starts Envoy's listener). */
  readonly policyWaitMs: number;
  /** How long BGP may take to settle: sessions Established (connect retry), LB IPs assigned and advertised. */
  readonly bgpWaitMs: number;
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  internet: true,
  internetUrl: 'https://checkip.amazonaws.com',
  namespace: 'cilium-lab-check',
  keepNamespace: false,
  podReadyTimeoutMs: 180_000,
  namespaceDeleteTimeoutMs: 120_000,
  execTimeoutMs: 60_000,
  remoteTimeoutMs: 120_000,
  pollIntervalMs: 2_000,
  hubbleWaitMs: 20_000,
  policyWaitMs: 60_000,
  bgpWaitMs: 90_000,
};

/** What every scenario and fixture gets. */
export interface CheckEnvironment {
  readonly kube: KubeClient;
  /** Host-level commands over SSM; undefined when the run has no access to the nodes. */
  readonly remote?: RemoteRunner;
  readonly lab: LabFacts;
  readonly options: CheckOptions;
  /** Aborted on SIGINT: waits and execs stop, the runner skips what is left and cleans up. */
  readonly signal: AbortSignal;
  /** The lab's artifacts bucket, for files too large for SSM's output (the upstream suite's sysdump). */
  readonly artifacts?: { readonly store: ArtifactStore; readonly bucket: string };
}

/** Thrown (through `ScenarioRun.skip`) when a scenario cannot run; the result is skipped, not passed. */
export class SkipScenario extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SkipScenario';
  }
}

/** The handle a scenario records its evidence and verdicts through. */
export interface ScenarioRun<F = unknown> {
  readonly env: CheckEnvironment;
  /** The check's fixture (for datapath scenarios: the pods and the service). */
  readonly fixture: F;
  /** Records a command and its output as evidence. */
  record(command: string, output: string): void;
  /** Records Kubernetes events (already formatted) as evidence. */
  events(lines: readonly string[]): void;
  /** Records whether an expectation held; `met: false` fails the scenario. */
  expect(expectation: Expectation, met: boolean, detail: string): boolean;
  /** Ends the scenario as skipped with this reason. */
  skip(reason: string): never;
}

export interface Scenario<F = unknown> {
  readonly name: string;
  /** What a pass proves about the lab, in one sentence. */
  readonly proves: string;
  /** Every expectation the scenario may assert. */
  readonly expectations: readonly Expectation[];
  run(run: ScenarioRun<F>): Promise<void>;
}

/** Shared set-up of a check: created before its scenarios, removed after (also on failure). */
export interface Fixture<F> {
  readonly name: string;
  setup(env: CheckEnvironment, record: (command: string, output: string) => void): Promise<F>;
  teardown(env: CheckEnvironment, record: (command: string, output: string) => void): Promise<void>;
}

export interface Check<F = unknown> {
  readonly name: string;
  readonly proves: string;
  readonly scenarios: readonly Scenario<F>[];
  readonly fixture?: Fixture<F>;
}
