/**
 * The lab plan: everything derived from a LabConfig that the stack, the node scripts and the
 * `lab` CLI need (node list with names and IPs, the AMI parameter, the kubeadm API version,
 * the pinned tool versions). Derived in one place so no consumer re-derives it differently.
 */
import type { LabConfig } from './schema.js';
import { CILIUM_MINORS, CONTROL_PLANE_TOOLS, KUBERNETES_MINORS, minorOf, ubuntuAmiParameter } from './catalog.js';
import { formatIpv4, parseIpv4 } from './cidr.js';

export type NodeRole = 'control-plane' | 'worker' | 'testpc';

export interface LabNode {
  /** Kubernetes node name, hostname and EC2 Name tag. */
  readonly name: string;
  readonly role: NodeRole;
  readonly privateIp: string;
  readonly instanceType: string;
  /** Which of the two public subnets the node sits in. */
  readonly subnet: 'nodes' | 'test';
}

export interface LabPlan {
  readonly config: LabConfig;
  /** CloudFormation stack name (= labName). */
  readonly stackName: string;
  /** The kubectl context name the study uses. */
  readonly kubeContext: 'CiliumLab';
  readonly controlPlane: LabNode;
  readonly workers: readonly LabNode[];
  readonly testpc: LabNode | undefined;
  /** Every instance of the lab: control plane, workers, then the test host. */
  readonly instances: readonly LabNode[];
  readonly amiParameterName: string;
  readonly kubernetes: {
    readonly version: string;
    readonly minor: string;
    /** Debian package version on pkgs.k8s.io, e.g. 1.30.14-1.1. */
    readonly packageVersion: string;
    readonly kubeadmApi: 'v1beta3' | 'v1beta4';
  };
  readonly tools: {
    readonly helmVersion: string;
    readonly ciliumCliVersion: string;
    readonly hubbleCliVersion: string;
  };
}

/** Worker i (1-based) is `${namePrefix}${i}` at firstIp + i - 1. */
export function workerNodes(config: Pick<LabConfig, 'workers' | 'nodes'>): LabNode[] {
  const first = parseIpv4(config.workers.firstIp) ?? 0;
  return Array.from({ length: config.workers.count }, (_, index) => ({
    name: `${config.workers.namePrefix}${index + 1}`,
    role: 'worker' as const,
    privateIp: formatIpv4(first + index),
    instanceType: config.nodes.instanceType,
    subnet: 'nodes' as const,
  }));
}

/** Builds the plan from a config that has passed LabConfigSchema (its lookups cannot miss). */
export function planLab(config: LabConfig): LabPlan {
  const controlPlane: LabNode = {
    name: config.controlPlane.name,
    role: 'control-plane',
    privateIp: config.controlPlane.ip,
    instanceType: config.nodes.instanceType,
    subnet: 'nodes',
  };
  const workers = workerNodes(config);
  const testpc: LabNode | undefined = config.testpc.enabled
    ? { name: config.testpc.name, role: 'testpc', privateIp: config.testpc.ip, instanceType: config.testpc.instanceType, subnet: 'test' }
    : undefined;
  const minor = minorOf(config.kubernetes.version);
  const kubernetesMinor = KUBERNETES_MINORS[minor];
  const ciliumMinor = CILIUM_MINORS[minorOf(config.cilium.version)];
  const amiParameterName = ubuntuAmiParameter(config.ubuntu.release, config.ubuntu.arch);
  if (!kubernetesMinor || !ciliumMinor || !amiParameterName) {
    throw new Error('planLab() needs a config validated by LabConfigSchema (use loadLabConfig)');
  }
  return {
    config,
    stackName: config.labName,
    kubeContext: 'CiliumLab',
    controlPlane,
    workers,
    testpc,
    instances: [controlPlane, ...workers, ...(testpc ? [testpc] : [])],
    amiParameterName,
    kubernetes: {
      version: config.kubernetes.version,
      minor,
      packageVersion: `${config.kubernetes.version}-1.1`,
      kubeadmApi: kubernetesMinor.kubeadmApi,
    },
    tools: {
      helmVersion: CONTROL_PLANE_TOOLS.helmVersion,
      ciliumCliVersion: ciliumMinor.cliVersion,
      hubbleCliVersion: ciliumMinor.hubbleCliVersion,
    },
  };
}
