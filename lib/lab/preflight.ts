/**
 * `lab preflight`: the facts of the deployed lab against what its Cilium version and values
 * need, before anything is changed on the nodes.
 *
 *   EC2   DescribeInstanceTypes: Hypervisor nitro (or bare metal), NetworkInfo.EnaSupport
 *         supported|required; DescribeInstances: running, its AMI; DescribeImages: EnaSupport.
 *   SSM   every Kubernetes node's agent Online.
 *   node  node-facts.sh on every Kubernetes node at once: kernel release and the ENA driver of
 *         the default-route NIC, judged against the Cilium minor's minimum kernel, BPF host
 *         routing (>= 5.10), netkit (>= 6.8) and, when XDP is wanted, ENA >= 2.2.8.
 *
 * The judge functions are pure (facts in, findings out); `runPreflight` gathers the facts. Every
 * refusal names the node (or the instance type and its nodes), the fact found and the fact needed.
 * Sources: Cilium Documentation/operations/system_requirements.rst and
 * network/kubernetes/kubeproxy-free.rst; EC2 DescribeInstanceTypes (DescribeInstances reports
 * "xen" even on Nitro, so it is not used for the hypervisor).
 */
import { CILIUM_MINORS, minorOf } from '../config/catalog.js';
import type { HelmValues } from '../cilium/values.js';
import type { NodeRunResult } from './remote-runner.js';
import type { ImageFacts, InstanceFacts, InstanceTypeFacts } from './services.js';
import type { DeployedNode, LabTarget } from './target.js';
import { renderLabScript, runStep, taggedJson, type PhaseDeps } from './remote.js';

/** One refused fact. */
export interface Finding {
  /** The node, or the instance type with its nodes. */
  readonly subject: string;
  readonly fact: string;
  readonly found: string;
  readonly needed: string;
}

export function formatFinding(finding: Finding): string {
  return `${finding.subject}: ${finding.fact} is ${finding.found}; needs ${finding.needed}`;
}

export class PreflightError extends Error {
  constructor(readonly findings: readonly Finding[]) {
    super(`cilium-lab: preflight refused ${findings.length} fact(s) of the lab:\n${findings.map((f) => `  - ${formatFinding(f)}`).join('\n')}`);
    this.name = 'PreflightError';
  }
}

/** The smallest ENA driver (amzn-drivers numbering) Cilium's NodePort XDP works with. */
export const ENA_MIN_VERSION_FOR_XDP = '2.2.8';
/** BPF host routing (bpf.hostLegacyRouting: false) needs this kernel. */
export const BPF_HOST_ROUTING_MIN_KERNEL = '5.10';
/** bpf.datapathMode: netkit needs this kernel. */
export const NETKIT_MIN_KERNEL = '6.8';

/** What the lab's Cilium version and values ask of every Kubernetes node. */
export interface DatapathNeeds {
  readonly ciliumVersion: string;
  /** The Cilium minor's minimum kernel (CILIUM_MINORS). */
  readonly minKernel: string;
  /** bpf.hostLegacyRouting is false: BPF host routing asked for explicitly. */
  readonly bpfHostRouting: boolean;
  /** bpf.datapathMode is netkit or netkit-l2. */
  readonly netkit: boolean;
  /** loadBalancer.acceleration: native (XDP required) or best-effort (XDP where the driver has it). */
  readonly xdp: 'native' | 'best-effort' | undefined;
}

function at(values: HelmValues, path: string): unknown {
  let node: unknown = values;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The needs of one set of Helm values on one Cilium version. */
export function datapathNeeds(ciliumVersion: string, values: HelmValues): DatapathNeeds {
  const minor = CILIUM_MINORS[minorOf(ciliumVersion)];
  if (!minor) throw new Error(`cilium ${ciliumVersion}: not a Cilium minor the lab knows (${Object.keys(CILIUM_MINORS).join(', ')})`);
  const acceleration = at(values, 'loadBalancer.acceleration');
  return {
    ciliumVersion,
    minKernel: minor.minKernel,
    bpfHostRouting: at(values, 'bpf.hostLegacyRouting') === false,
    netkit: at(values, 'bpf.datapathMode') === 'netkit' || at(values, 'bpf.datapathMode') === 'netkit-l2',
    xdp: acceleration === 'native' || acceleration === 'best-effort' ? acceleration : undefined,
  };
}

/** The leading numbers of a version or kernel release: "6.8.0-1021-aws" -> [6, 8, 0], "2.13.0g" -> [2, 13, 0]. */
export function versionNumbers(text: string): number[] | undefined {
  const match = /^(\d+(?:\.\d+)*)/.exec(text.trim());
  return match ? (match[1] as string).split('.').map(Number) : undefined;
}

/** a >= b on dotted numbers (missing parts count as 0). */
export function atLeast(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

const subjectOf = (type: string, nodes: readonly string[]): string => `instance type ${type} (${nodes.join(', ')})`;

/** Nitro (or bare metal) with ENA, from DescribeInstanceTypes; `facts` undefined: EC2 does not know the type. */
export function judgeInstanceType(type: string, facts: InstanceTypeFacts | undefined, nodes: readonly string[]): Finding[] {
  const subject = subjectOf(type, nodes);
  if (!facts) return [{ subject, fact: 'the instance type', found: 'unknown to DescribeInstanceTypes in this region', needed: 'a Nitro type with ENA' }];
  const findings: Finding[] = [];
  if (facts.hypervisor !== 'nitro' && facts.bareMetal !== true) {
    findings.push({ subject, fact: 'the hypervisor', found: facts.hypervisor ?? 'not reported', needed: 'nitro: XDP on the ENA driver needs a Nitro instance type (t3, m5 and later)' });
  }
  if (facts.enaSupport !== 'supported' && facts.enaSupport !== 'required') {
    findings.push({ subject, fact: 'NetworkInfo.EnaSupport', found: facts.enaSupport ?? 'not reported', needed: 'supported or required (the lab datapath runs on ENA)' });
  }
  return findings;
}

/** The instance is running; `facts` undefined: DescribeInstances does not know it. */
export function judgeInstance(node: string, instanceId: string, facts: InstanceFacts | undefined): Finding[] {
  if (!facts) return [{ subject: node, fact: `instance ${instanceId}`, found: 'not found by DescribeInstances', needed: 'the instance the stack created (redeploy with npx cdk deploy)' }];
  if (facts.state !== 'running') {
    return [{ subject: node, fact: `the state of ${instanceId}`, found: facts.state ?? 'not reported', needed: 'running (start it: aws ec2 start-instances)' }];
  }
  return [];
}

/** The node's AMI has EnaSupport; an AMI EC2 no longer describes (deregistered) is not judged. */
export function judgeImage(node: string, image: ImageFacts | undefined): Finding[] {
  if (!image || image.enaSupport === true) return [];
  return [{ subject: node, fact: `EnaSupport of its AMI ${image.imageId}${image.name ? ` (${image.name})` : ''}`, found: String(image.enaSupport ?? 'not set'), needed: 'true (an ENA-enabled AMI such as Canonical Ubuntu)' }];
}

/** The node's SSM agent; `status` is its last PingStatus when it is not Online, undefined when it is. */
export function judgeAgent(node: string, instanceId: string, status: string | undefined): Finding[] {
  if (status === undefined) return [];
  return [{ subject: node, fact: `the SSM agent of ${instanceId}`, found: status, needed: 'Online (DescribeInstanceInformation PingStatus); the lab runs everything on the nodes through SSM Run Command' }];
}

/** What node-facts.sh reports. */
export interface NodeFacts {
  readonly kernel: string;
  readonly interface: string;
  readonly driver: string;
  readonly driverVersion: string;
  readonly mtu: number | null;
}

/** The in-tree ENA driver (Linux >= 5.7) reports the kernel release as its version. */
export function isKernelReleaseVersion(version: string, kernel: string): boolean {
  return version === kernel || /^\d+\.\d+(\.\d+)?-/.test(version);
}

/** The node's kernel and ENA driver against the needs. */
export function judgeNodeFacts(node: string, facts: NodeFacts, needs: DatapathNeeds): Finding[] {
  const findings: Finding[] = [];
  const kernel = versionNumbers(facts.kernel);
  const kernelNeeds: [string, string][] = [[needs.minKernel, `cilium ${minorOf(needs.ciliumVersion)}'s minimum kernel`]];
  if (needs.bpfHostRouting) kernelNeeds.push([BPF_HOST_ROUTING_MIN_KERNEL, 'BPF host routing (bpf.hostLegacyRouting: false)']);
  if (needs.netkit) kernelNeeds.push([NETKIT_MIN_KERNEL, 'netkit devices (bpf.datapathMode: netkit)']);
  if (!kernel) {
    findings.push({ subject: node, fact: 'the kernel release', found: JSON.stringify(facts.kernel), needed: `a readable release >= ${kernelNeeds.map(([v]) => v).join(', ')}` });
  } else {
    for (const [minimum, why] of kernelNeeds) {
      if (!atLeast(kernel, versionNumbers(minimum) as number[])) {
        findings.push({ subject: node, fact: 'the kernel', found: facts.kernel, needed: `>= ${minimum} for ${why}` });
      }
    }
  }
  if (needs.xdp === 'native') {
    const nic = facts.interface || 'the default-route NIC';
    const needed = `the ENA driver >= ${ENA_MIN_VERSION_FOR_XDP} (or the in-tree driver of Linux >= 5.7) for XDP (loadBalancer.acceleration: native); or install without XDP (--no-xdp)`;
    if (facts.driver !== 'ena') {
      findings.push({ subject: node, fact: `the driver of ${nic}`, found: facts.driver || 'unknown (ethtool -i gave none)', needed });
    } else if (!isKernelReleaseVersion(facts.driverVersion, facts.kernel)) {
      const version = /^\d+\.\d+\.\d+[A-Za-z]?$/.test(facts.driverVersion) ? versionNumbers(facts.driverVersion) : undefined;
      if (!version) {
        findings.push({ subject: node, fact: `the ENA driver version of ${nic}`, found: `unreadable (${JSON.stringify(facts.driverVersion)})`, needed });
      } else if (!atLeast(version, versionNumbers(ENA_MIN_VERSION_FOR_XDP) as number[])) {
        findings.push({ subject: node, fact: `the ENA driver of ${nic}`, found: facts.driverVersion, needed });
      }
    }
  }
  return findings;
}

/** The CILIUM_LAB_FACTS line of node-facts.sh, or undefined. */
export function parseNodeFacts(stdout: string): NodeFacts | undefined {
  const raw = taggedJson(stdout, 'CILIUM_LAB_FACTS') as Partial<Record<keyof NodeFacts, unknown>> | undefined;
  if (!raw || typeof raw.kernel !== 'string') return undefined;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return { kernel: raw.kernel, interface: str(raw.interface), driver: str(raw.driver), driverVersion: str(raw.driverVersion), mtu: typeof raw.mtu === 'number' ? raw.mtu : null };
}

/** A node whose facts script did not report. */
export function judgeFactsRun(result: NodeRunResult): Finding[] {
  if (result.status === 'Success' && parseNodeFacts(result.stdout)) return [];
  const lastError = result.stderr.trim().split('\n').at(-1);
  const found =
    result.status === 'Success'
      ? 'missing: node-facts.sh printed no CILIUM_LAB_FACTS line'
      : `unknown: node-facts.sh ended ${result.status}${result.exitCode >= 0 ? ` (exit code ${result.exitCode})` : ''}${result.note ? `, ${result.note}` : ''}${lastError ? `: ${lastError}` : ''}`;
  return [{ subject: result.name, fact: 'the kernel and NIC report', found, needed: 'node-facts.sh to run over SSM and report them' }];
}

export interface PreflightNodeReport {
  readonly name: string;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly imageId?: string;
  readonly facts?: NodeFacts;
}

export interface PreflightReport {
  readonly needs: DatapathNeeds;
  readonly nodes: readonly PreflightNodeReport[];
  /** Facts that could not be judged (e.g. an AMI EC2 no longer describes). */
  readonly notes: readonly string[];
}

export function nodeFactsScript(): string {
  return renderLabScript('node-facts.sh');
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

/**
 * Gathers every fact and judges it; throws PreflightError listing all refusals (not just the
 * first), or returns what was found. Nodes that are not running or whose agent is not Online are
 * not asked for their kernel facts (they could not answer).
 */
export async function runPreflight(deps: PhaseDeps, target: LabTarget, needs: DatapathNeeds): Promise<PreflightReport> {
  const { ec2 } = deps.services;
  const nodes = target.kubeNodes;
  const findings: Finding[] = [];
  const notes: string[] = [];

  const byType = groupBy(nodes, (n) => n.instanceType);
  const typeFacts = await ec2.instanceTypes([...byType.keys()]);
  for (const [type, group] of byType) {
    findings.push(...judgeInstanceType(type, typeFacts.find((t) => t.instanceType === type), group.map((n) => n.name)));
  }

  const instances = await ec2.instances(nodes.map((n) => n.instanceId));
  const instanceOf = (node: DeployedNode) => instances.find((i) => i.instanceId === node.instanceId);
  for (const node of nodes) findings.push(...judgeInstance(node.name, node.instanceId, instanceOf(node)));
  const imageIds = [...new Set(instances.flatMap((i) => (i.imageId ? [i.imageId] : [])))];
  const images = await ec2.images(imageIds);
  for (const node of nodes) {
    const imageId = instanceOf(node)?.imageId;
    if (!imageId) continue;
    const image = images.find((i) => i.imageId === imageId);
    if (!image) notes.push(`${node.name}: its AMI ${imageId} is no longer described by EC2 (deregistered?): its ENA support was not checked`);
    findings.push(...judgeImage(node.name, image));
  }
  deps.info(`  EC2: ${nodes.length} node(s), type(s) ${[...byType.keys()].join(', ')}, ${findings.length === 0 ? 'Nitro with ENA' : `${findings.length} refusal(s)`}`);

  const running = nodes.filter((n) => instanceOf(n)?.state === 'running');
  const notOnline = running.length > 0 ? await deps.services.agentsNotOnline(running.map((n) => n.instanceId), Date.now() + deps.timeouts.agentsOnlineMs) : {};
  for (const node of running) findings.push(...judgeAgent(node.name, node.instanceId, notOnline[node.instanceId]));
  const reachable = running.filter((n) => notOnline[n.instanceId] === undefined);
  deps.info(`  SSM: ${reachable.length} of ${nodes.length} agent(s) Online`);

  const factsByNode = new Map<string, NodeFacts>();
  if (reachable.length > 0) {
    const results = await runStep(deps, reachable, nodeFactsScript(), 'preflight facts', deps.timeouts.factsMs);
    for (const result of results) {
      const refused = judgeFactsRun(result);
      findings.push(...refused);
      const facts = parseNodeFacts(result.stdout);
      if (refused.length > 0 || !facts) continue;
      factsByNode.set(result.name, facts);
      findings.push(...judgeNodeFacts(result.name, facts, needs));
      deps.info(`  ${result.name}: kernel ${facts.kernel}, ${facts.interface} driver ${facts.driver || '?'} ${facts.driverVersion || '?'}, MTU ${facts.mtu ?? '?'}`);
    }
  }
  if (findings.length > 0) throw new PreflightError(findings);
  return {
    needs,
    notes,
    nodes: nodes.map((n) => {
      const imageId = instanceOf(n)?.imageId;
      const facts = factsByNode.get(n.name);
      return { name: n.name, instanceId: n.instanceId, instanceType: n.instanceType, ...(imageId ? { imageId } : {}), ...(facts ? { facts } : {}) };
    }),
  };
}

