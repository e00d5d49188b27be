import { LabConfigError, configPaths, loadLabConfig } from '../../lib/config/load.js';

const load = (context: Record<string, unknown> = {}, files: Record<string, string> = {}) =>
  loadLabConfig({
    context,
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file '${path}'`);
      return text;
    },
  });

/** The problems LabConfigError lists for an input, or [] when it is accepted. */
const problems = (context: Record<string, unknown>, files: Record<string, string> = {}): string[] => {
  try {
    load(context, files);
    return [];
  } catch (error) {
    if (error instanceof LabConfigError) return [...error.problems];
    throw error;
  }
};

describe('LabConfig defaults are the study lab', () => {
  const config = load();
  it.each([
    ['labName', config.labName, 'cilium-lab'],
    ['network.vpcCidr', config.network.vpcCidr, '192.168.0.0/16'],
    ['network.nodeSubnetCidr', config.network.nodeSubnetCidr, '192.168.10.0/24'],
    ['network.testSubnetCidr', config.network.testSubnetCidr, '192.168.20.0/24'],
    ['controlPlane.name', config.controlPlane.name, 'k8s-s'],
    ['controlPlane.ip', config.controlPlane.ip, '192.168.10.10'],
    ['workers.count', config.workers.count, 2],
    ['workers.firstIp', config.workers.firstIp, '192.168.10.101'],
    ['nodes.instanceType', config.nodes.instanceType, 't3.xlarge'],
    ['testpc.enabled', config.testpc.enabled, true],
    ['testpc.instanceType', config.testpc.instanceType, 't3.small'],
    ['ubuntu.release', config.ubuntu.release, '22.04'],
    ['ubuntu.arch', config.ubuntu.arch, 'amd64'],
    ['kubernetes.version', config.kubernetes.version, '1.30.14'],
    ['kubernetes.podCidr', config.kubernetes.podCidr, '172.16.0.0/16'],
    ['kubernetes.serviceCidr', config.kubernetes.serviceCidr, '10.10.0.0/16'],
    ['cilium.version', config.cilium.version, '1.16.3'],
    ['access.operatorCidr', config.access.operatorCidr, undefined],
    ['access.allowWorldAccess', config.access.allowWorldAccess, false],
    ['access.keyPairName', config.access.keyPairName, undefined],
    ['expiresAt', config.expiresAt, undefined],
    ['region', config.region, undefined],
  ])('%s defaults to %p', (_field, actual, expected) => {
    expect(actual).toEqual(expected);
  });
});

describe('LabConfig sources', () => {
  it('takes cdk context strings for numbers and booleans (-c workers.count=3)', () => {
    const config = load({ 'workers.count': '3', 'testpc.enabled': 'false' });
    expect([config.workers.count, config.testpc.enabled]).toEqual([3, false]);
  });

  it('reads a YAML config file named by -c config=FILE', () => {
    const config = load({ config: 'lab.yaml' }, { 'lab.yaml': 'labName: kans-week3\nworkers:\n  count: 3\n' });
    expect([config.labName, config.workers.count]).toEqual(['kans-week3', 3]);
  });

  it('lets context keys win over the config file', () => {
    const config = load({ config: 'lab.yaml', 'workers.count': '1' }, { 'lab.yaml': 'workers: {count: 3}' });
    expect(config.workers.count).toBe(1);
  });

  it('ignores CDK feature flags and lookup caches in the context', () => {
    expect(() => load({ '@aws-cdk/core:validateAgainstDefaultRules': true, 'availability-zones:account=1:region=x': ['a'] })).not.toThrow();
  });

  it('lists every settable path', () => {
    expect(configPaths()).toEqual(expect.arrayContaining(['workers.count', 'kubernetes.podCidr', 'access.operatorCidr']));
  });
});

describe('LabConfig refuses bad input, naming the field and the fix', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a mistyped context key', { 'workers.cout': '3' }, /^workers\.cout: not a lab setting; did you mean "workers\.count"\?/],
    ['a malformed CIDR', { 'network.vpcCidr': '192.168.0.0' }, /^network\.vpcCidr: "192\.168\.0\.0" is not an IPv4 CIDR/],
    ['a CIDR with host bits', { 'kubernetes.podCidr': '172.16.1.0/16' }, /^kubernetes\.podCidr: .*network address is 172\.16\.0\.0\/16/],
    ['pod and service CIDRs that overlap', { 'kubernetes.podCidr': '10.0.0.0/8' }, /^kubernetes\.podCidr: 10\.0\.0\.0\/8 overlaps kubernetes\.serviceCidr 10\.10\.0\.0\/16/],
    ['a pod CIDR inside the VPC', { 'kubernetes.podCidr': '192.168.128.0/17' }, /^kubernetes\.podCidr: .*overlaps network\.vpcCidr/],
    ['a service CIDR inside the VPC', { 'kubernetes.serviceCidr': '192.168.64.0/18' }, /^kubernetes\.serviceCidr: .*overlaps network\.vpcCidr/],
    ['a subnet outside the VPC', { 'network.testSubnetCidr': '10.20.0.0/24' }, /^network\.testSubnetCidr: 10\.20\.0\.0\/24 is not inside network\.vpcCidr/],
    ['overlapping subnets', { 'network.testSubnetCidr': '192.168.10.0/25' }, /^network\.testSubnetCidr: .*overlaps network\.nodeSubnetCidr/],
    ['a control-plane IP outside its subnet', { 'controlPlane.ip': '192.168.20.10' }, /^controlPlane\.ip: .*outside network\.nodeSubnetCidr/],
    ['an AWS-reserved IP', { 'controlPlane.ip': '192.168.10.2' }, /^controlPlane\.ip: .*Amazon DNS server/],
    ['a worker IP equal to the control plane', { 'workers.firstIp': '192.168.10.9' }, /^workers\.firstIp: worker k8s-w2 192\.168\.10\.10 is already control plane k8s-s/],
    ['workers that run past the subnet', { 'workers.firstIp': '192.168.10.250', 'workers.count': '10' }, /^workers\.firstIp: worker k8s-w6 192\.168\.10\.255 is the broadcast address/],
    ['a Xen instance type', { 'nodes.instanceType': 'm4.xlarge' }, /^nodes\.instanceType: m4\.xlarge runs on the Xen hypervisor; .*Nitro/],
    ['a Xen test host', { 'testpc.instanceType': 't2.micro' }, /^testpc\.instanceType: t2\.micro runs on the Xen hypervisor/],
    ['an unknown instance family', { 'nodes.instanceType': 'q1.large' }, /^nodes\.instanceType: q1\.large is not a family the lab knows/],
    ['a Graviton type on amd64', { 'nodes.instanceType': 'm7g.xlarge' }, /^nodes\.instanceType: m7g\.xlarge is arm64 but ubuntu\.arch is amd64; set ubuntu\.arch=arm64/],
    ['a type too small for kubeadm', { 'nodes.instanceType': 't3.micro' }, /^nodes\.instanceType: t3\.micro is too small/],
    ['an Ubuntu release without an SSM path', { 'ubuntu.release': '20.04' }, /^ubuntu\.release: Ubuntu 20\.04 is not supported; use one of 22\.04, 24\.04/],
    ['an unknown architecture', { 'ubuntu.arch': 'i386' }, /^ubuntu\.arch: must be amd64 or arm64/],
    ['an unsupported Kubernetes minor', { 'kubernetes.version': '1.29.9' }, /^kubernetes\.version: Kubernetes 1\.29 is not one the lab bootstraps/],
    ['a Kubernetes version without a patch', { 'kubernetes.version': '1.30' }, /^kubernetes\.version: must be a full major\.minor\.patch version/],
    ['an unsupported Cilium minor', { 'cilium.version': '1.15.7' }, /^cilium\.version: Cilium 1\.15 is not one the lab installs/],
    ['Kubernetes and Cilium that are not compatible', { 'kubernetes.version': '1.33.4' }, /^cilium\.version: Cilium 1\.16 is not tested with Kubernetes 1\.33 .*use Cilium 1\.18 or 1\.19 or 1\.20/],
    ['zero workers', { 'workers.count': '0' }, /^workers\.count: must be at least 1/],
    ['too many workers', { 'workers.count': '51' }, /^workers\.count: must be at most 50/],
    ['a non-numeric worker count', { 'workers.count': 'three' }, /^workers\.count: must be a whole number from 1 to 50/],
    ['an operator CIDR of 0.0.0.0/0', { 'access.operatorCidr': '0.0.0.0/0' }, /^access\.operatorCidr: 0\.0\.0\.0\/0 opens the Kubernetes API .*access\.allowWorldAccess=true/],
    ['an invalid lab name', { labName: 'Cilium_Lab' }, /^labName: must be 2-24 characters/],
    ['an expiry that is not ISO 8601', { expiresAt: 'tomorrow' }, /^expiresAt: must be an ISO 8601 UTC time/],
    ['a duplicate node name', { 'testpc.name': 'k8s-w1' }, /^workers\.namePrefix: node name "k8s-w1" is used twice/],
  ])('refuses %s', (_what, context, message) => {
    expect(problems(context)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it('accepts 0.0.0.0/0 when access.allowWorldAccess=true', () => {
    expect(problems({ 'access.operatorCidr': '0.0.0.0/0', 'access.allowWorldAccess': 'true' })).toEqual([]);
  });

  it('accepts arm64 with a Graviton type and Ubuntu 24.04', () => {
    expect(problems({ 'ubuntu.arch': 'arm64', 'ubuntu.release': '24.04', 'nodes.instanceType': 'm7g.xlarge', 'testpc.instanceType': 't4g.small' })).toEqual([]);
  });

  it('refuses a config file that is not there, naming the key', () => {
    expect(problems({ config: 'missing.yaml' })).toEqual([expect.stringMatching(/^config: cannot read "missing\.yaml"/)]);
  });

  it('refuses an unknown key inside the config file with a hint', () => {
    expect(problems({ config: 'lab.yaml' }, { 'lab.yaml': 'kubernetes: {podCIDR: 10.0.0.0/8}' })).toEqual([
      expect.stringMatching(/^kubernetes\.podCIDR: not a lab setting; did you mean "kubernetes\.podCidr"\?/),
    ]);
  });

  it('reports every problem at once, not just the first', () => {
    expect(problems({ 'workers.count': '0', 'nodes.instanceType': 't2.large' })).toHaveLength(2);
  });
});

describe('one mistake, one line', () => {
  const problemsOf = (context: Record<string, unknown>, readFile?: (path: string) => string): string[] => {
    try {
      loadLabConfig({ context, ...(readFile ? { readFile } : {}) });
    } catch (error) {
      expect(error).toBeInstanceOf(LabConfigError);
      return (error as Error).message.split('\n').slice(1);
    }
    throw new Error('the config was accepted');
  };

  it('an out-of-range worker count is one line: the rules between fields do not run on a field that failed', () => {
    expect(problemsOf({ 'workers.count': '500' })).toEqual(['  - workers.count: must be at most 50; the lab takes 1 to 50 workers']);
  });

  it('caps the workers that clash, in readable sentences', () => {
    const lines = problemsOf({ 'workers.count': '40', 'workers.firstIp': '192.168.10.240' });
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('  - workers.firstIp: worker k8s-w17 192.168.11.0 is outside network.nodeSubnetCidr 192.168.10.0/24; lower workers.count or move workers.firstIp');
    expect(lines[3]).toBe('  - workers.firstIp: ... and 22 more workers like these');
  });
});

describe('YAML pitfalls in config files', () => {
  const fromFile = (text: string): string => {
    try {
      loadLabConfig({ context: { config: 'lab.yaml' }, readFile: () => text });
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it.each([
    ['kubernetes:\n  version: 1.30\n', 'kubernetes.version: 1.3 arrived as a number', 'version: "1.30.14"'],
    ['ubuntu:\n  release: 24.04\n', 'ubuntu.release: 24.04 arrived as a number', 'release: "22.04"'],
    ['cilium:\n  version: 1.16\n', 'cilium.version: 1.16 arrived as a number', 'version: "1.16.3"'],
  ])('an unquoted %j says to quote it, with an example', (text, said, example) => {
    const message = fromFile(text);
    expect(message).toContain(said);
    expect(message).toContain(`write it in quotes, e.g. ${example}`);
    expect(message).not.toContain('expected string, received number');
  });

  it('a dotted key in a file says to nest it, instead of suggesting itself', () => {
    const message = fromFile('workers.count: 3\n');
    expect(message).toContain('workers.count: a dotted key in a config file is not nested; write it as workers: {count: ...}');
    expect(message).not.toContain('did you mean "workers.count"');
  });
});

describe('a clash is reported against the field the user changed', () => {
  const problem = (context: Record<string, unknown>): string => {
    try {
      loadLabConfig({ context });
    } catch (error) {
      return (error as Error).message.split('\n')[1] ?? '';
    }
    throw new Error('accepted');
  };

  it.each([
    [{ 'kubernetes.podCidr': '10.0.0.0/8' }, '  - kubernetes.podCidr: 10.0.0.0/8 overlaps kubernetes.serviceCidr 10.10.0.0/16'],
    [{ 'kubernetes.serviceCidr': '172.16.0.0/20' }, '  - kubernetes.serviceCidr: 172.16.0.0/20 overlaps kubernetes.podCidr 172.16.0.0/16'],
    [{ 'network.vpcCidr': '172.16.0.0/16', 'network.nodeSubnetCidr': '172.16.10.0/24', 'network.testSubnetCidr': '172.16.20.0/24', 'controlPlane.ip': '172.16.10.10', 'workers.firstIp': '172.16.10.101', 'testpc.ip': '172.16.20.100' }, '  - network.vpcCidr: 172.16.0.0/16 overlaps kubernetes.podCidr 172.16.0.0/16'],
    [{ 'network.nodeSubnetCidr': '192.168.20.0/25' }, '  - network.nodeSubnetCidr: 192.168.20.0/25 overlaps network.testSubnetCidr 192.168.20.0/24'],
  ])('%j', (context, line) => {
    expect(problem(context)).toMatch(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });
});
