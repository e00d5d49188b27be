/**
 * The EC2 instance types the lab knows by name, with their vCPUs and memory: the families a lab
 * commonly picks (burstable, general purpose, compute and memory optimized, x86 and Graviton), each
 * with the sizes AWS sells. A size that is not sold (a typo such as t3.xlage) is refused at synth
 * naming the field; the kubeadm minimum (2 vCPUs, 1700 MB) is judged on these figures, and the
 * cost table's types must be in it (test/config/instance-types.test.ts).
 *
 * Source: Amazon EC2 Instance Types guide, "Specifications" pages
 * (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html, co.html, mo.html), read
 * 2026-11; burstable sizes from https://aws.amazon.com/ec2/instance-types/t3/ and /t4g/.
 * Families not listed here (other Nitro families) are still accepted by the name rules in
 * catalog.ts, without size facts.
 */

export interface InstanceTypeSpec {
  readonly vcpus: number;
  readonly memoryGiB: number;
}

/** Burstable: the same seven sizes in t3, t3a and t4g. */
const BURSTABLE: Readonly<Record<string, InstanceTypeSpec>> = {
  nano: { vcpus: 2, memoryGiB: 0.5 },
  micro: { vcpus: 2, memoryGiB: 1 },
  small: { vcpus: 2, memoryGiB: 2 },
  medium: { vcpus: 2, memoryGiB: 4 },
  large: { vcpus: 2, memoryGiB: 8 },
  xlarge: { vcpus: 4, memoryGiB: 16 },
  '2xlarge': { vcpus: 8, memoryGiB: 32 },
};

/**
 * A fixed-ratio family: its sizes (`large`, `xlarge`, `<n>xlarge`, `medium` for Graviton with one
 * vCPU, `metal`/`metal-<n>xl` with the vCPUs of the largest size) and its memory per vCPU.
 */
interface FixedRatioFamily {
  readonly gibPerVcpu: 2 | 4 | 8;
  readonly sizes: readonly string[];
}

const x = (...n: number[]): string[] => n.map((k) => `${k}xlarge`);
const family = (gibPerVcpu: 2 | 4 | 8, ...sizes: string[]): FixedRatioFamily => ({ gibPerVcpu, sizes });

const FIXED_RATIO: Readonly<Record<string, FixedRatioFamily>> = {
  m5: family(4, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24), 'metal'),
  m5a: family(4, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24)),
  m6i: family(4, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24, 32), 'metal'),
  m6a: family(4, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24, 32, 48), 'metal'),
  m7i: family(4, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24, 48), 'metal-24xl', 'metal-48xl'),
  m6g: family(4, 'medium', 'large', 'xlarge', ...x(2, 4, 8, 12, 16), 'metal'),
  m7g: family(4, 'medium', 'large', 'xlarge', ...x(2, 4, 8, 12, 16), 'metal'),
  c5: family(2, 'large', 'xlarge', ...x(2, 4, 9, 12, 18, 24), 'metal'),
  c5a: family(2, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24)),
  c6i: family(2, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24, 32), 'metal'),
  c6a: family(2, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24, 32, 48), 'metal'),
  c7i: family(2, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24, 48), 'metal-24xl', 'metal-48xl'),
  c6g: family(2, 'medium', 'large', 'xlarge', ...x(2, 4, 8, 12, 16), 'metal'),
  c7g: family(2, 'medium', 'large', 'xlarge', ...x(2, 4, 8, 12, 16), 'metal'),
  r5: family(8, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24), 'metal'),
  r6i: family(8, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24, 32), 'metal'),
  r7i: family(8, 'large', 'xlarge', ...x(2, 4, 8, 12, 16, 24, 48), 'metal-24xl', 'metal-48xl'),
  r6g: family(8, 'medium', 'large', 'xlarge', ...x(2, 4, 8, 12, 16), 'metal'),
  r7g: family(8, 'medium', 'large', 'xlarge', ...x(2, 4, 8, 12, 16), 'metal'),
};

/** The families with size facts. */
export const CATALOGED_FAMILIES: readonly string[] = ['t3', 't3a', 't4g', ...Object.keys(FIXED_RATIO)];

/** The sizes AWS sells in a cataloged family, smallest first; undefined for other families. */
export function familySizes(familyName: string): readonly string[] | undefined {
  if (familyName === 't3' || familyName === 't3a' || familyName === 't4g') return Object.keys(BURSTABLE);
  return FIXED_RATIO[familyName]?.sizes;
}

function vcpusOf(size: string, sizes: readonly string[]): number {
  if (size === 'medium') return 1;
  if (size === 'large') return 2;
  if (size === 'xlarge') return 4;
  const n = /^(\d+)xlarge$/.exec(size);
  if (n) return 4 * Number(n[1]);
  const metal = /^metal-(\d+)xl$/.exec(size);
  if (metal) return 4 * Number(metal[1]);
  // metal: the vCPUs of the largest virtual size.
  return Math.max(...sizes.filter((s) => s !== size && !s.startsWith('metal')).map((s) => vcpusOf(s, sizes)));
}

/** vCPUs and memory of a cataloged type; undefined when its family is not cataloged or the size is not sold. */
export function instanceTypeSpec(instanceType: string): InstanceTypeSpec | undefined {
  const dot = instanceType.indexOf('.');
  const familyName = instanceType.slice(0, dot);
  const size = instanceType.slice(dot + 1);
  if (familyName === 't3' || familyName === 't3a' || familyName === 't4g') return BURSTABLE[size];
  const fixed = FIXED_RATIO[familyName];
  if (!fixed || !fixed.sizes.includes(size)) return undefined;
  const vcpus = vcpusOf(size, fixed.sizes);
  return { vcpus, memoryGiB: vcpus * fixed.gibPerVcpu };
}

/** kubeadm's preflight minimum for a control-plane or worker node: 2 CPUs and 1700 MB of memory. */
export const KUBEADM_MINIMUM = { vcpus: 2, memoryMiB: 1700 } as const;

export function meetsKubeadmMinimum(spec: InstanceTypeSpec): boolean {
  return spec.vcpus >= KUBEADM_MINIMUM.vcpus && spec.memoryGiB * 1024 >= KUBEADM_MINIMUM.memoryMiB;
}
