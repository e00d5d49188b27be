/**
 * How many network interfaces (ENIs) each instance type the lab knows can have, and how many IPv4
 * addresses each of them can hold: what Cilium's ENI IPAM (profile eni) can hand to pods.
 *
 * Source: awslabs/amazon-eks-ami nodeadm/internal/kubelet/instance-info.jsonl (defaultMaxENIs,
 * ipv4AddressesPerInterface) at commit 81fec2e895854f599974fe4d3d72f61c0a9aaffa (2026-07-23),
 * generated from the EC2 DescribeInstanceTypes API (network card 0). Every figure here also gives
 * the maxPods of EKS's eni-max-pods.txt (commit 2377b69aaeb8d751af1a265c2bfbeb94e6f6da90,
 * 2026-02-27) by its formula, ENIs x (IPv4 per ENI - 1) + 2: checked for all 203 types when this
 * file was written. The same types as instance-types.ts (test/config/eni-limits.test.ts).
 */

export interface EniLimits {
  /** Network interfaces the instance can have (network card 0). */
  readonly maxEnis: number;
  /** IPv4 addresses each interface can hold, its own primary address included. */
  readonly ipv4PerEni: number;
}

/** [maxEnis, ipv4PerEni] per size, per family. */
const TABLE: Readonly<Record<string, Readonly<Record<string, readonly [number, number]>>>> = {
  t3: { nano: [2, 2], micro: [2, 2], small: [3, 4], medium: [3, 6], large: [3, 12], xlarge: [4, 15], '2xlarge': [4, 15] },
  t3a: { nano: [2, 2], micro: [2, 2], small: [2, 4], medium: [3, 6], large: [3, 12], xlarge: [4, 15], '2xlarge': [4, 15] },
  t4g: { nano: [2, 2], micro: [2, 2], small: [3, 4], medium: [3, 6], large: [3, 12], xlarge: [4, 15], '2xlarge': [4, 15] },
  m5: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], metal: [15, 50] },
  m5a: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50] },
  m6i: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], '32xlarge': [15, 50], metal: [15, 50] },
  m6a: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], '32xlarge': [15, 50], '48xlarge': [15, 50], metal: [15, 50] },
  m7i: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], '48xlarge': [15, 50], 'metal-24xl': [15, 50], 'metal-48xl': [15, 50] },
  m6g: { medium: [2, 4], large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], metal: [15, 50] },
  m7g: { medium: [2, 4], large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], metal: [15, 50] },
  c5: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '9xlarge': [8, 30], '12xlarge': [8, 30], '18xlarge': [15, 50], '24xlarge': [15, 50], metal: [15, 50] },
  c5a: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50] },
  c6i: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], '32xlarge': [15, 50], metal: [15, 50] },
  c6a: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], '32xlarge': [15, 50], '48xlarge': [15, 50], metal: [15, 50] },
  c7i: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], '48xlarge': [15, 50], 'metal-24xl': [15, 50], 'metal-48xl': [15, 50] },
  c6g: { medium: [2, 4], large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], metal: [15, 50] },
  c7g: { medium: [2, 4], large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], metal: [15, 50] },
  r5: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], metal: [15, 50] },
  r6i: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], '32xlarge': [15, 50], metal: [15, 50] },
  r7i: { large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], '24xlarge': [15, 50], '48xlarge': [15, 50], 'metal-24xl': [15, 50], 'metal-48xl': [15, 50] },
  r6g: { medium: [2, 4], large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], metal: [15, 50] },
  r7g: { medium: [2, 4], large: [3, 10], xlarge: [4, 15], '2xlarge': [4, 15], '4xlarge': [8, 30], '8xlarge': [8, 30], '12xlarge': [8, 30], '16xlarge': [15, 50], metal: [15, 50] },
};

/** The ENI limits of an instance type, or undefined when the lab has none for it. */
export function eniLimits(instanceType: string): EniLimits | undefined {
  const [family, size] = instanceType.split('.', 2) as [string, string | undefined];
  const row = size === undefined ? undefined : TABLE[family]?.[size];
  return row ? { maxEnis: row[0], ipv4PerEni: row[1] } : undefined;
}

/** The instance types with ENI limits, for messages. */
export function eniLimitTypes(): string[] {
  return Object.entries(TABLE).flatMap(([family, sizes]) => Object.keys(sizes).map((size) => `${family}.${size}`));
}
