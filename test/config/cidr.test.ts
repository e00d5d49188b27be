import { awsReservedReason, cidrContains, cidrsOverlap, formatIpv4, parseCidr, parseIpv4, type Ipv4Cidr } from '../../lib/config/cidr.js';

const cidr = (text: string): Ipv4Cidr => {
  const parsed = parseCidr(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

describe('parseCidr', () => {
  it('parses a network and its prefix', () => {
    expect(cidr('192.168.10.0/24')).toEqual({ network: parseIpv4('192.168.10.0'), prefix: 24 });
  });
  it.each([
    ['192.168.10.0', 'is not an IPv4 CIDR'],
    ['192.168.300.0/24', 'invalid IPv4 address part'],
    ['192.168.10.0/33', 'prefix /33'],
    ['192.168.10.5/24', 'network address is 192.168.10.0/24'],
  ])('refuses %s', (text, message) => {
    expect(parseCidr(text)).toEqual(expect.stringContaining(message));
  });
});

describe('CIDR relations', () => {
  it('finds the study ranges disjoint and the subnets inside the VPC', () => {
    expect(cidrsOverlap(cidr('172.16.0.0/16'), cidr('10.10.0.0/16'))).toBe(false);
    expect(cidrsOverlap(cidr('10.0.0.0/8'), cidr('10.10.0.0/16'))).toBe(true);
    expect(cidrContains(cidr('192.168.0.0/16'), cidr('192.168.20.0/24'))).toBe(true);
    expect(cidrContains(cidr('192.168.10.0/24'), cidr('192.168.0.0/16'))).toBe(false);
  });
  it('formats addresses back', () => {
    expect(formatIpv4(parseIpv4('192.168.10.101') as number)).toBe('192.168.10.101');
  });
});

describe('awsReservedReason', () => {
  const subnet = cidr('192.168.10.0/24');
  it.each(['192.168.10.0', '192.168.10.1', '192.168.10.2', '192.168.10.3', '192.168.10.255'])('marks %s reserved', (ip) => {
    expect(awsReservedReason(subnet, parseIpv4(ip) as number)).toContain('AWS reserves');
  });
  it('leaves .4 and .10 usable', () => {
    expect(awsReservedReason(subnet, parseIpv4('192.168.10.4') as number)).toBeUndefined();
    expect(awsReservedReason(subnet, parseIpv4('192.168.10.10') as number)).toBeUndefined();
  });
});
