/**
 * The facts the lab depends on, as data: what each Ubuntu release, instance family,
 * Kubernetes minor and Cilium minor means for the lab. Every table names its source so
 * a maintainer can re-check it when versions move. Pure data and lookups, no I/O.
 */

export type CpuArch = 'amd64' | 'arm64';

/** Port of the Kubernetes API on the control plane (kubeadm's default bindPort). */
export const KUBE_API_PORT = 6443;

/** Ubuntu releases the lab boots, and where Canonical publishes their AMI ids in SSM. */
export interface UbuntuRelease {
  readonly codename: string;
  /** The EBS flavour in Canonical's SSM path: gp2 up to 23.04, gp3 from 23.10 on. */
  readonly ebsFlavour: 'ebs-gp2' | 'ebs-gp3';
  readonly arches: readonly CpuArch[];
}

/** Source: canonical/ubuntu-cloud-docs `aws/aws-how-to/instances/find-ubuntu-images.rst`. */
export const UBUNTU_RELEASES: Readonly<Record<string, UbuntuRelease>> = {
  '22.04': { codename: 'jammy', ebsFlavour: 'ebs-gp2', arches: ['amd64', 'arm64'] },
  '24.04': { codename: 'noble', ebsFlavour: 'ebs-gp3', arches: ['amd64', 'arm64'] },
};

export function ubuntuAmiParameter(release: string, arch: CpuArch): string | undefined {
  const entry = UBUNTU_RELEASES[release];
  if (!entry || !entry.arches.includes(arch)) {
    return undefined;
  }
  return `/aws/service/canonical/ubuntu/server/${release}/stable/current/${arch}/hvm/${entry.ebsFlavour}/ami-id`;
}

/**
 * Instance families on the Xen hypervisor. They are refused: the lab's datapath (XDP on the
 * ENA driver) needs Nitro. Source: EC2 User Guide, "Instances built on the AWS Nitro System"
 * (https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-nitro-instances.html) lists every
 * Nitro family; these are the previous-generation ones absent from it.
 */
export const XEN_FAMILIES: readonly string[] = [
  't1', 't2', 'm1', 'm2', 'm3', 'm4', 'c1', 'c3', 'c4', 'r3', 'r4', 'x1', 'x1e', 'i2', 'i3', 'd2', 'g2', 'g3', 'g3s', 'p2', 'p3', 'f1', 'h1', 'cc2', 'cr1', 'hs1',
];

/** Nitro families older than the 5th generation (everything from generation 5 on is Nitro). */
const EARLY_NITRO_FAMILIES: readonly string[] = ['t3', 't3a', 't4g', 'a1', 'i3en', 'g4dn', 'g4ad', 'inf1', 'p4d', 'p4de', 'u-6tb1', 'z1d'];

export interface InstanceTypeFacts {
  readonly family: string;
  readonly size: string;
  readonly hypervisor: 'nitro' | 'xen' | 'unknown';
  readonly arch: CpuArch;
}

/**
 * Classifies an instance type by name. The deploy-time preflight confirms it with
 * DescribeInstanceTypes (Hypervisor, NetworkInfo.EnaSupport); this table lets synth refuse
 * the known-bad types before any AWS call.
 */
export function classifyInstanceType(instanceType: string): InstanceTypeFacts | undefined {
  const match = /^([a-z][a-z0-9-]*?)\.([a-z0-9]+)$/.exec(instanceType);
  if (!match) {
    return undefined;
  }
  const family = match[1] as string;
  const size = match[2] as string;
  const parts = /^([a-z]+)(\d+)([a-z-]*)$/.exec(family);
  const generation = parts ? Number(parts[2]) : 0;
  const attributes = parts ? (parts[3] as string) : '';
  let hypervisor: InstanceTypeFacts['hypervisor'] = 'unknown';
  if (XEN_FAMILIES.includes(family)) {
    hypervisor = 'xen';
  } else if (EARLY_NITRO_FAMILIES.includes(family) || generation >= 5) {
    hypervisor = 'nitro';
  }
  // Graviton families carry a "g" in their attribute letters (t4g, m7gd, c6gn); a1 is the first Graviton.
  const arch: CpuArch = family === 'a1' || attributes.includes('g') ? 'arm64' : 'amd64';
  return { family, size, hypervisor, arch };
}

/**
 * Sizes too small for a kubeadm node (kubeadm's preflight wants 2 CPUs and 1700 MB:
 * https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/).
 * `medium` has 2 vCPUs only in the burstable families.
 */
export function tooSmallForKubeadm(facts: InstanceTypeFacts): boolean {
  if (facts.size === 'nano' || facts.size === 'micro') {
    return true;
  }
  return facts.size === 'medium' && !facts.family.startsWith('t');
}

/** Kubernetes minors the lab can bootstrap, with the kubeadm config API each one takes. */
export interface KubernetesMinor {
  /** v1beta3 up to 1.30; v1beta4 from 1.31 (https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/). */
  readonly kubeadmApi: 'v1beta3' | 'v1beta4';
}

export const KUBERNETES_MINORS: Readonly<Record<string, KubernetesMinor>> = {
  '1.30': { kubeadmApi: 'v1beta3' },
  '1.31': { kubeadmApi: 'v1beta4' },
  '1.32': { kubeadmApi: 'v1beta4' },
  '1.33': { kubeadmApi: 'v1beta4' },
  '1.34': { kubeadmApi: 'v1beta4' },
};

/** Cilium minors the lab installs, what each one is e2e-tested with, and the CLIs pinned for it. */
export interface CiliumMinor {
  /** Kubernetes minors listed as e2e-tested in that release's `network/kubernetes/compatibility.rst`. */
  readonly kubernetesMinors: readonly string[];
  /** Minimum kernel for the agent (`operations/system_requirements.rst`). */
  readonly minKernel: string;
  /** cilium-cli release pinned for this minor: one of CLI_RELEASES.ciliumCli whose README lists this minor. */
  readonly cliVersion: string;
  /** Hubble CLI release pinned for this minor: the newest patch of the same minor (there is no v1.20 Hubble CLI yet). */
  readonly hubbleCliVersion: string;
}

/**
 * Releases of the CLIs the control plane downloads that exist, read from the repositories' tags
 * (so a pin can be checked against them; a pin that was never released fails the whole boot with
 * HTTP 404). Each asset is `<tool>-linux-<arch>.tar.gz` with a `.sha256sum` beside it (the
 * repositories' Makefile `release` targets).
 *   cilium/cilium-cli @ e694be34c478 (2026-08-21): v0.16.0-v0.16.24, v0.17.0, v0.18.0-v0.18.9,
 *     v0.19.0-v0.19.7 (stable.txt: v0.19.7); no v0.20.x. README per tag: v0.16.24 and v0.18.0-6
 *     support "Cilium 1.15 and newer", v0.18.7-v0.19.7 "1.16 and newer".
 *   cilium/hubble @ 75d3a68c727d (2026-08-05): newest v1.16.6, v1.17.5, v1.18.6, v1.19.4 (stable.txt);
 *     no v1.20.x.
 *   helm/helm @ e9b85e4de16a (2026-08-20): v3.16.2 exists; newest v3.16.4, v3.17.4, v3.18.6, v3.19.5.
 */
export const CLI_RELEASES = {
  ciliumCli: ['v0.16.24', 'v0.18.9', 'v0.19.7'],
  hubbleCli: ['v1.16.6', 'v1.17.5', 'v1.18.6', 'v1.19.4'],
  helm: ['v3.16.2', 'v3.16.4', 'v3.19.5'],
} as const;

export const CILIUM_MINORS: Readonly<Record<string, CiliumMinor>> = {
  '1.16': { kubernetesMinors: ['1.27', '1.28', '1.29', '1.30'], minKernel: '5.4', cliVersion: 'v0.16.24', hubbleCliVersion: 'v1.16.6' },
  '1.17': { kubernetesMinors: ['1.29', '1.30', '1.31', '1.32'], minKernel: '5.4', cliVersion: 'v0.18.9', hubbleCliVersion: 'v1.17.5' },
  '1.18': { kubernetesMinors: ['1.30', '1.31', '1.32', '1.33'], minKernel: '5.10', cliVersion: 'v0.18.9', hubbleCliVersion: 'v1.18.6' },
  '1.19': { kubernetesMinors: ['1.31', '1.32', '1.33', '1.34'], minKernel: '5.10', cliVersion: 'v0.19.7', hubbleCliVersion: 'v1.19.4' },
  // cilium-cli v0.20.0 was never released: v0.19.7 is the newest and supports "Cilium 1.17 and newer".
  '1.20': { kubernetesMinors: ['1.32', '1.33', '1.34', '1.35'], minKernel: '5.10', cliVersion: 'v0.19.7', hubbleCliVersion: 'v1.19.4' },
};

/** Tools installed on the control plane for every Cilium minor, pinned; each download is checked against its published sha256. */
export const CONTROL_PLANE_TOOLS = {
  helmVersion: 'v3.16.4',
} as const;

/** `major.minor` of a `major.minor.patch` version string. */
export function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** The closest candidate by edit distance, for "did you mean" hints. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}
