/**
 * Pure IPv4 address and CIDR arithmetic. No dependencies, no I/O: the config validation,
 * the IP planner and the VPC's subnet allocator all share these few functions.
 */

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit integer (host bits cleared). */
  readonly network: number;
  /** Prefix length, 0..32. */
  readonly prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses a dotted-quad IPv4 address; returns undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) {
    return undefined;
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/**
 * Parses `a.b.c.d/n`. Returns an error string (not an exception) so callers can attach it to
 * the config field that held the value.
 */
export function parseCidr(text: string): Ipv4Cidr | string {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!match) {
    return `"${text}" is not an IPv4 CIDR; write it as address/prefix, e.g. 192.168.0.0/16`;
  }
  const address = parseIpv4(match[1] as string);
  const prefix = Number(match[2]);
  if (address === undefined) {
    return `"${text}" has an invalid IPv4 address part "${match[1]}"`;
  }
  if (prefix > 32) {
    return `"${text}" has prefix /${prefix}; an IPv4 prefix is 0 to 32`;
  }
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) {
    return `"${text}" has host bits set; the network address is ${formatIpv4(network)}/${prefix}`;
  }
  return { network, prefix };
}

export function cidrSize(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.network >= outer.network && inner.network + cidrSize(inner) <= outer.network + cidrSize(outer);
}

export function cidrContainsAddress(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.network && address < cidr.network + cidrSize(cidr);
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network < b.network + cidrSize(b) && b.network < a.network + cidrSize(a);
}

/** The address at `offset` from the network address (offset 10 of 192.168.10.0/24 is .10). */
export function addressAt(cidr: Ipv4Cidr, offset: number): number {
  return cidr.network + offset;
}

/**
 * AWS reserves the first four addresses and the last address of every subnet
 * (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
 * Returns the reason when `address` is one of them, undefined otherwise.
 */
export function awsReservedReason(subnet: Ipv4Cidr, address: number): string | undefined {
  const offset = address - subnet.network;
  const last = cidrSize(subnet) - 1;
  const reasons: Record<number, string> = {
    0: 'the network address',
    1: 'the VPC router',
    2: 'the Amazon DNS server',
    3: 'reserved by AWS for future use',
    [last]: 'the broadcast address',
  };
  const reason = reasons[offset];
  return reason === undefined ? undefined : `${formatIpv4(address)} is ${reason} of ${formatCidr(subnet)} (AWS reserves .0-.3 and the last address)`;
}

/** The smallest CIDR that covers every one of `cidrs` (the native routing range of several pod pools). */
export function coveringCidr(cidrs: readonly Ipv4Cidr[]): Ipv4Cidr {
  if (cidrs.length === 0) throw new Error('coveringCidr needs at least one CIDR');
  const first = Math.min(...cidrs.map((c) => c.network));
  const last = Math.max(...cidrs.map((c) => c.network + cidrSize(c) - 1));
  let prefix = Math.min(...cidrs.map((c) => c.prefix));
  for (; prefix > 0; prefix--) {
    const size = 2 ** (32 - prefix);
    const network = first - (first % size);
    if (last < network + size) return { network, prefix };
  }
  return { network: 0, prefix: 0 };
}
