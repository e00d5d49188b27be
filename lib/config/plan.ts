/**
 * The lab plan: everything derived from a LabConfig that the stack, the node scripts and the
 * `lab` CLI need (node list with names and IPs, the AMI parameter, the kubeadm API version,
 * the pinned tool versions). Derived in one place so no consumer re-derives it differently.
 */
import type { LabConfig } from './schema.js';
import { CILIUM_MINORS, CONTROL_PLANE_TOOLS, KUBERNETES_MINORS, minorOf, ubuntuAmiParameter } from './catalog.js';
import { formatIpv4, parseIpv4 } from './cidr.js';
import { profileOf, type LabTopology } from './profiles.js';

export type { LabNode, LabPlan, LabRoute, NodeRole } from './plan-types.js';
import type { LabNode, LabPlan } from './plan-types.js';

/**
 * Worker i (1-based) is `${namePrefix}${i}` at firstIp + i - 1, in the node subnet; where the
 * profile puts workers behind a router (bgp), the last ones sit in the test subnet from its
 * own first address instead.
 */
function workerNodes(config: LabConfig, topology: LabTopology | undefined): LabNode[] {
  const behindRouter = topology ? Math.min(topology.testSubnetWorkers.count, config.workers.count) : 0;
  const inNodeSubnet = config.workers.count - behindRouter;
  const first = parseIpv4(config.workers.firstIp) ?? 0;
  const firstBehind = parseIpv4(topology?.testSubnetWorkers.firstIp ?? '') ?? 0;
  return Array.from({ length: config.workers.count }, (_, index) => {
    const behind = index >= inNodeSubnet;
    return {
      name: `${config.workers.namePrefix}${index + 1}`,
      role: 'worker' as const,
      privateIp: formatIpv4(behind ? firstBehind + index - inNodeSubnet : first + index),
      instanceType: config.nodes.instanceType,
      subnet: behind ? ('test' as const) : ('nodes' as const),
      ipField: behind ? (topology?.testSubnetWorkers.field ?? 'workers.firstIp') : 'workers.firstIp',
      routes: topology?.routes(behind ? 'test' : 'nodes') ?? [],
    };
  });
}

/** The lab's instances, placed (subnet, address, routes) but not yet checked: rules.ts checks the addresses. */
export function planInstances(config: LabConfig): { controlPlane: LabNode; workers: LabNode[]; router: LabNode | undefined; testpc: LabNode | undefined; all: LabNode[] } {
  const topology = profileOf(config).topology?.(config);
  const controlPlane: LabNode = {
    name: config.controlPlane.name,
    role: 'control-plane',
    privateIp: config.controlPlane.ip,
    instanceType: config.nodes.instanceType,
    subnet: 'nodes',
    ipField: 'controlPlane.ip',
    routes: topology?.routes('nodes') ?? [],
  };
  const workers = workerNodes(config, topology);
  const router: LabNode | undefined = topology
    ? {
        name: topology.router.name,
        role: 'router',
        privateIp: topology.router.nodeSubnetIp,
        instanceType: topology.router.instanceType,
        subnet: 'nodes',
        ipField: topology.router.fields.nodeSubnetIp,
        routes: [],
        ubuntuRelease: topology.router.ubuntuRelease,
        secondInterface: { subnet: 'test', privateIp: topology.router.testSubnetIp, ipField: topology.router.fields.testSubnetIp },
      }
    : undefined;
  const testpc: LabNode | undefined = config.testpc.enabled
    ? {
        name: config.testpc.name,
        role: 'testpc',
        privateIp: config.testpc.ip,
        instanceType: config.testpc.instanceType,
        subnet: 'test',
        ipField: 'testpc.ip',
        routes: topology?.routes('test') ?? [],
      }
    : undefined;
  return { controlPlane, workers, router, testpc, all: [controlPlane, ...workers, ...(router ? [router] : []), ...(testpc ? [testpc] : [])] };
}

/** Builds the plan from a config that has passed LabConfigSchema (its lookups cannot miss). */
export function planLab(config: LabConfig): LabPlan {
  const { controlPlane, workers, router, testpc } = planInstances(config);
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
    router,
    instances: [controlPlane, ...workers, ...(router ? [router] : []), ...(testpc ? [testpc] : [])],
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
