/**
 * Checks that relate several LabConfig fields. Each finding names the field it is about and
 * says how to fix it; they all run at synth, before any AWS call.
 */
import type { z } from 'zod';
import { PROFILES, type LabProfile } from './profiles.js';
import { LabConfigFieldsSchema, type LabConfig } from './schema.js';
import { KUBEADM_MINIMUM, familySizes, instanceTypeSpec, meetsKubeadmMinimum } from './instance-types.js';
import { unpublishedPatchReason } from './kubernetes-patches.js';
import {
  CILIUM_MINORS,
  KUBERNETES_MINORS,
  UBUNTU_RELEASES,
  classifyInstanceType,
  minorOf,
  nearest,
  tooSmallForKubeadm,
  ubuntuAmiParameter,
  type CpuArch,
} from './catalog.js';
import {
  awsReservedReason,
  cidrContains,
  cidrContainsAddress,
  cidrsOverlap,
  formatCidr,
  parseCidr,
  parseIpv4,
  type Ipv4Cidr,
} from './cidr.js';
import { planInstances } from './plan.js';
import { profileOf } from './profiles.js';
import type { Report } from './report.js';


/**
 * A clash between two fields is reported against the first; `other` words it against the second,
 * and the loader uses that when the user set the second and not the first (load.ts).
 */
export interface ClashParams {
  readonly other: { readonly path: readonly string[]; readonly message: string };
}

export function checkLabConfig(config: LabConfig, ctx: z.RefinementCtx): void {
  const report: Report = (path, message, other) => ctx.addIssue({ code: 'custom', path: [...path], message, ...(other ? { params: { other } satisfies ClashParams } : {}) });
  checkNetwork(config, report);
  checkAddresses(config, report);
  checkInstanceTypes(config, report);
  checkUbuntu(config, report);
  checkVersions(config, report);
  checkAccess(config, report);
  checkProfile(config, report);
}

function cidrOf(text: string | undefined): Ipv4Cidr | undefined {
  if (text === undefined) {
    return undefined;
  }
  const parsed = parseCidr(text);
  return typeof parsed === 'string' ? undefined : parsed;
}

function checkNetwork(config: LabConfig, report: Report): void {
  const vpc = cidrOf(config.network.vpcCidr);
  const nodes = cidrOf(config.network.nodeSubnetCidr);
  const test = cidrOf(config.network.testSubnetCidr);
  const pods = cidrOf(config.kubernetes.podCidr);
  const services = cidrOf(config.kubernetes.serviceCidr);

  if (vpc && (vpc.prefix < 16 || vpc.prefix > 28)) {
    report(['network', 'vpcCidr'], `a VPC CIDR must be /16 to /28 (got /${vpc.prefix}); use e.g. 192.168.0.0/16 (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html)`);
  }
  for (const [field, subnet] of [['nodeSubnetCidr', nodes], ['testSubnetCidr', test]] as const) {
    if (vpc && subnet && !cidrContains(vpc, subnet)) {
      report(['network', field], `${formatCidr(subnet)} is not inside network.vpcCidr ${formatCidr(vpc)}; pick a subnet of the VPC range`);
    }
    if (subnet && (subnet.prefix < 16 || subnet.prefix > 28)) {
      report(['network', field], `a subnet must be /16 to /28 (got /${subnet.prefix})`);
    }
  }
  if (nodes && test && cidrsOverlap(nodes, test)) {
    const why = 'the two subnets must be disjoint (the study uses 192.168.10.0/24 and 192.168.20.0/24)';
    report(['network', 'testSubnetCidr'], `${formatCidr(test)} overlaps network.nodeSubnetCidr ${formatCidr(nodes)}; ${why}`, {
      path: ['network', 'nodeSubnetCidr'],
      message: `${formatCidr(nodes)} overlaps network.testSubnetCidr ${formatCidr(test)}; ${why}`,
    });
  }
  // Native routing sends pod and service traffic through the VPC route table: the three ranges
  // must be disjoint or packets are routed to the wrong place (the classic Cilium pitfall).
  if (pods && services && cidrsOverlap(pods, services)) {
    const why = 'pod and service ranges must be disjoint (the study uses 172.16.0.0/16 and 10.10.0.0/16)';
    report(['kubernetes', 'serviceCidr'], `${formatCidr(services)} overlaps kubernetes.podCidr ${formatCidr(pods)}; ${why}`, {
      path: ['kubernetes', 'podCidr'],
      message: `${formatCidr(pods)} overlaps kubernetes.serviceCidr ${formatCidr(services)}; ${why}`,
    });
  }
  if (pods && vpc && cidrsOverlap(pods, vpc)) {
    report(['kubernetes', 'podCidr'], `${formatCidr(pods)} overlaps network.vpcCidr ${formatCidr(vpc)}; with native routing pod IPs must not be VPC addresses (use e.g. 172.16.0.0/16)`, {
      path: ['network', 'vpcCidr'],
      message: `${formatCidr(vpc)} overlaps kubernetes.podCidr ${formatCidr(pods)}; with native routing pod IPs must not be VPC addresses (pick a VPC range apart from the pods)`,
    });
  }
  if (services && vpc && cidrsOverlap(services, vpc)) {
    report(['kubernetes', 'serviceCidr'], `${formatCidr(services)} overlaps network.vpcCidr ${formatCidr(vpc)}; service IPs must not be VPC addresses (use e.g. 10.10.0.0/16)`, {
      path: ['network', 'vpcCidr'],
      message: `${formatCidr(vpc)} overlaps kubernetes.serviceCidr ${formatCidr(services)}; service IPs must not be VPC addresses (pick a VPC range apart from the services)`,
    });
  }
  if (pods && pods.prefix > 22) {
    report(['kubernetes', 'podCidr'], `/${pods.prefix} is too small: every node takes a /24 of it; use /22 or larger (the study uses /16)`);
  }
  if (services && (services.prefix < 12 || services.prefix > 24)) {
    report(['kubernetes', 'serviceCidr'], `kube-apiserver takes a service range of /12 to /24 (got /${services.prefix}); use e.g. 10.10.0.0/16`);
  }
}

function checkAddresses(config: LabConfig, report: Report): void {
  const nodes = cidrOf(config.network.nodeSubnetCidr);
  const test = cidrOf(config.network.testSubnetCidr);
  const seen = new Map<number, string>();
  // Workers share a field (workers.firstIp): their problems are capped, not listed by the dozen.
  const workerProblems = new Map<string, string[]>();
  const place = (path: readonly (string | number)[], label: string, ip: string, subnet: Ipv4Cidr | undefined, subnetField: string, fix: string, sink?: string[]): void => {
    const say = (message: string) => (sink ? sink.push(message) : report(path, message));
    const address = parseIpv4(ip);
    if (address === undefined || !subnet) {
      return;
    }
    if (!cidrContainsAddress(subnet, address)) {
      say(`${label} ${ip} is outside ${subnetField} ${formatCidr(subnet)}; ${fix}`);
      return;
    }
    const reserved = awsReservedReason(subnet, address);
    if (reserved) {
      say(`${label} ${reserved}; pick another address`);
      return;
    }
    const other = seen.get(address);
    if (other) {
      say(`${label} ${ip} is already ${other}; every instance needs its own address`);
      return;
    }
    seen.set(address, label);
  };
  const subnets = { nodes: { cidr: nodes, field: 'network.nodeSubnetCidr' }, test: { cidr: test, field: 'network.testSubnetCidr' } };
  const LABELS = { 'control-plane': 'control plane', worker: 'worker', router: 'router', testpc: 'test host' } as const;
  const instances = planInstances(config).all;
  for (const node of instances) {
    const interfaces = [{ subnet: node.subnet, privateIp: node.privateIp, ipField: node.ipField }, ...(node.secondInterface ? [node.secondInterface] : [])];
    for (const nic of interfaces) {
      const { cidr, field } = subnets[nic.subnet];
      // Workers share one field (workers.firstIp, or the profile's): their problems are capped.
      const shared = node.role === 'worker';
      const fix = shared ? (nic.ipField === 'workers.firstIp' ? 'lower workers.count or move workers.firstIp' : `move ${nic.ipField}`) : 'pick an address inside it';
      place(nic.ipField.split('.'), `${LABELS[node.role]} ${node.name}`, nic.privateIp, cidr, field, fix, shared ? (workerProblems.get(nic.ipField) ?? workerProblems.set(nic.ipField, []).get(nic.ipField)) : undefined);
    }
  }
  const SHOWN = 3;
  for (const [field, problems] of workerProblems) {
    for (const message of problems.slice(0, SHOWN)) report(field.split('.'), message);
    if (problems.length > SHOWN) report(field.split('.'), `... and ${problems.length - SHOWN} more workers like these`);
  }
  const names = instances.map((node) => node.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) {
    report(['workers', 'namePrefix'], `node name "${duplicate}" is used twice; node names must be unique`);
  }
}

function checkInstanceType(path: readonly string[], instanceType: string, arch: CpuArch, kubeadmNode: boolean, report: Report): void {
  const facts = classifyInstanceType(instanceType);
  if (!facts) {
    return;
  }
  if (facts.hypervisor === 'xen') {
    report(path, `${instanceType} runs on the Xen hypervisor; the lab needs a Nitro type with ENA for XDP (use e.g. t3.xlarge, m5.xlarge or c6i.xlarge: https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-nitro-instances.html)`);
    return;
  }
  if (facts.hypervisor === 'unknown') {
    report(path, `${instanceType} is not a family the lab knows to be Nitro with ENA; use a 5th-generation or newer type, or t3/t3a/t4g`);
    return;
  }
  // A family the lab has size facts for: the size must be one AWS sells (a typo is caught here,
  // not by CloudFormation at deploy), and kubeadm's minimum is judged on its vCPUs and memory.
  const sizes = familySizes(facts.family);
  if (sizes && !sizes.includes(facts.size)) {
    const guess = nearest(facts.size, sizes);
    report(path, `${instanceType} is not an EC2 instance type: ${facts.family} comes in ${sizes.join(', ')}${guess ? ` (did you mean ${facts.family}.${guess}?)` : ''}`);
    return;
  }
  if (facts.arch !== arch) {
    report(path, `${instanceType} is ${facts.arch} but ubuntu.arch is ${arch}; set ubuntu.arch=${facts.arch} or pick a${arch === 'arm64' ? ' Graviton (…g)' : 'n x86'} type`);
  }
  const spec = instanceTypeSpec(instanceType);
  if (kubeadmNode && (spec ? !meetsKubeadmMinimum(spec) : tooSmallForKubeadm(facts))) {
    const has = spec ? ` (it has ${spec.vcpus} vCPU(s) and ${spec.memoryGiB} GiB)` : '';
    report(path, `${instanceType} is too small for a Kubernetes node: kubeadm needs ${KUBEADM_MINIMUM.vcpus} vCPUs and ${KUBEADM_MINIMUM.memoryMiB} MB${has}; use t3.medium or larger`);
  }
}

function checkInstanceTypes(config: LabConfig, report: Report): void {
  checkInstanceType(['nodes', 'instanceType'], config.nodes.instanceType, config.ubuntu.arch, true, report);
  if (config.testpc.enabled) {
    checkInstanceType(['testpc', 'instanceType'], config.testpc.instanceType, config.ubuntu.arch, false, report);
  }
  const router = profileOf(config).topology?.(config).router;
  if (router) checkInstanceType(router.fields.instanceType.split('.'), router.instanceType, config.ubuntu.arch, false, report);
}

function checkUbuntu(config: LabConfig, report: Report): void {
  const releases = Object.keys(UBUNTU_RELEASES);
  if (!UBUNTU_RELEASES[config.ubuntu.release]) {
    report(['ubuntu', 'release'], `Ubuntu ${config.ubuntu.release} is not supported; use one of ${releases.join(', ')} (Canonical publishes their AMIs under /aws/service/canonical/ubuntu/server/)`);
  } else if (!ubuntuAmiParameter(config.ubuntu.release, config.ubuntu.arch)) {
    report(['ubuntu', 'arch'], `Canonical publishes no ${config.ubuntu.arch} AMI parameter for Ubuntu ${config.ubuntu.release}`);
  }
}

function checkVersions(config: LabConfig, report: Report): void {
  const k8sMinor = minorOf(config.kubernetes.version);
  const ciliumMinor = minorOf(config.cilium.version);
  const k8s = KUBERNETES_MINORS[k8sMinor];
  const cilium = CILIUM_MINORS[ciliumMinor];
  if (!k8s) {
    report(['kubernetes', 'version'], `Kubernetes ${k8sMinor} is not one the lab bootstraps; use ${Object.keys(KUBERNETES_MINORS).join(', ')} (a full patch version such as 1.30.14)`);
  } else {
    // A patch that was never published fails every node's apt-get install at boot.
    const unpublished = unpublishedPatchReason(config.kubernetes.version);
    if (unpublished) report(['kubernetes', 'version'], unpublished);
  }
  if (!cilium) {
    report(['cilium', 'version'], `Cilium ${ciliumMinor} is not one the lab installs; use ${Object.keys(CILIUM_MINORS).join(', ')} (e.g. 1.16.3)`);
  } else if (config.cilium.version !== cilium.chartVersion) {
    // The lab checks every Helm value against the chart's own keys (lib/cilium/chart-keys/<version>.json) before installing.
    report(
      ['cilium', 'version'],
      `Cilium ${config.cilium.version} is not a chart the lab has facts for (the keys it checks the values against); for Cilium ${ciliumMinor} it has ${cilium.chartVersion}: ` +
        `use ${cilium.chartVersion}, or add ${config.cilium.version}'s with \`npx tsx scripts/extract-chart-facts.ts <its unpacked chart>\` and its CILIUM_MINORS entry`,
    );
  }
  if (k8s && cilium && !cilium.kubernetesMinors.includes(k8sMinor)) {
    const fitting = Object.entries(CILIUM_MINORS)
      .filter(([, facts]) => facts.kubernetesMinors.includes(k8sMinor))
      .map(([minor]) => minor);
    report(
      ['cilium', 'version'],
      `Cilium ${ciliumMinor} is not tested with Kubernetes ${k8sMinor} (it is with ${cilium.kubernetesMinors.join(', ')}); ` +
        (fitting.length ? `use Cilium ${fitting.join(' or ')} for Kubernetes ${k8sMinor}` : `pick another kubernetes.version`) +
        ' (https://docs.cilium.io/en/stable/network/kubernetes/compatibility/)',
    );
  }
}

function checkAccess(config: LabConfig, report: Report): void {
  const operator = cidrOf(config.access.operatorCidr);
  if (operator && operator.prefix === 0 && !config.access.allowWorldAccess) {
    report(['access', 'operatorCidr'], '0.0.0.0/0 opens the Kubernetes API (and SSH) to the whole internet; use your own address, e.g. "$(curl -s https://checkip.amazonaws.com)/32", or set access.allowWorldAccess=true to accept the risk');
  }
}

/**
 * The lab configuration: every field (schema.ts), then the rules between fields (checkLabConfig).
 * A field that failed on its own stops the cross-field rules, so one mistake gives one line (a
 * workers.count of 500 is one error, not 450 address clashes that follow from it). The config room
 * reads top to bottom: cidr/catalog/expiry -> schema (fields) -> plan -> rules -> load.
 */
export const LabConfigSchema = LabConfigFieldsSchema.superRefine(checkLabConfig);

/** The profile's own rules, and settings only another profile reads. */
function checkProfile(config: LabConfig, report: Report): void {
  const defaults = LabConfigFieldsSchema.parse({});
  for (const other of Object.values(PROFILES).filter((p) => p.name !== config.profile)) {
    for (const section of other.ownSettings) {
      if (JSON.stringify(config[section]) !== JSON.stringify(defaults[section])) {
        report([section], `only profile=${other.name} reads ${section}; add -c profile=${other.name}, or leave ${section} out (this lab is profile=${config.profile})`);
      }
    }
  }
  const profile: LabProfile = PROFILES[config.profile];
  for (const need of profile.requires ?? []) {
    const value = String(need.path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config));
    if (!need.allowed.includes(value)) report(need.path.split('.'), `profile=${profile.name} needs ${need.path} ${need.allowed.join(' or ')} (got ${value}): ${need.why}`);
  }
  if (profile.maxPods && config.kubernetes.maxPods !== undefined) {
    report(['kubernetes', 'maxPods'], `profile=${profile.name} sets each node's maxPods itself (from what its network interfaces hold); leave kubernetes.maxPods out`);
  }
  profile.rules?.(config, report);
}
