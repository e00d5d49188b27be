/**
 * Profile bgp end to end offline, before any cloud call: its refusals (router addresses outside
 * their subnets, an AS collision, a pod range or pool the advertised ranges leave out, ...), the
 * plan (a router with an interface in each subnet, the last workers behind it, each instance's
 * routes via the router), the template (both subnets in one zone, the router's second ENI and
 * Elastic IP, BGP open among members only) and the router's user data.
 */
import { spawnSync } from 'node:child_process';
import { renderFrrConfig } from '../../lib/bgp/frr-config.js';
import { loadLabConfig, LabConfigError } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import { USER_DATA_LIMIT_BYTES } from '../../lib/infra/node-user-data.js';
import { CILIUM_MINORS } from '../../lib/config/catalog.js';
import { composeLabCiliumValues } from '../../lib/lab/cilium.js';
import { packedUserData, resourcesOfType, synthLab, userDataScript } from '../helpers/synth.js';

const problems = (context: Record<string, unknown>): string[] => {
  try {
    loadLabConfig({ context: { profile: 'bgp', ...context } });
    return [];
  } catch (error) {
    if (error instanceof LabConfigError) return [...error.problems];
    throw error;
  }
};

describe('profile bgp: refusals at synth', () => {
  it('accepts the study topology as it is', () => {
    expect(problems({})).toEqual([]);
  });

  it("refuses a router address outside its subnet, on an AWS-reserved address, or another instance's", () => {
    expect(problems({ 'bgp.router.nodeSubnetIp': '192.168.30.200' })).toEqual(['bgp.router.nodeSubnetIp: router router 192.168.30.200 is outside network.nodeSubnetCidr 192.168.10.0/24; pick an address inside it']);
    expect(problems({ 'bgp.router.testSubnetIp': '192.168.10.250' })).toEqual(['bgp.router.testSubnetIp: router router 192.168.10.250 is outside network.testSubnetCidr 192.168.20.0/24; pick an address inside it']);
    expect(problems({ 'bgp.router.testSubnetIp': '192.168.20.100' })).toEqual(['testpc.ip: test host testpc 192.168.20.100 is already router router; every instance needs its own address']);
    expect(problems({ 'bgp.router.nodeSubnetIp': '192.168.10.1' })[0]).toMatch(/^bgp\.router\.nodeSubnetIp: router router 192\.168\.10\.1 is the VPC router/);
  });

  it('refuses workers behind the router outside the test subnet, or more of them than there are workers', () => {
    expect(problems({ 'bgp.testSubnetWorkerFirstIp': '192.168.10.150' })).toEqual(['bgp.testSubnetWorkerFirstIp: worker k8s-w2 192.168.10.150 is outside network.testSubnetCidr 192.168.20.0/24; move bgp.testSubnetWorkerFirstIp']);
    expect(problems({ 'bgp.testSubnetWorkers': 3 })).toEqual(['bgp.testSubnetWorkers: 3 workers behind the router, but the lab has 2 (workers.count); lower bgp.testSubnetWorkers or raise workers.count']);
  });

  it('refuses an AS collision (eBGP, as the study peers), reserved ASes, and a keepalive longer than the hold time', () => {
    expect(problems({ 'bgp.clusterAsn': 65000 })).toEqual([
      'bgp.clusterAsn: AS 65000 is bgp.routerAsn too; the router and the Cilium nodes peer as external BGP neighbours, as the study does (the router: remote-as external); in one AS the router would not pass one node\'s routes to another (iBGP split horizon) and FRR would refuse the peers as "external"; use e.g. bgp.clusterAsn=65001',
    ]);
    // the user set the router's AS: the clash is worded against it
    expect(problems({ 'bgp.routerAsn': 65001 })[0]).toMatch(/^bgp\.routerAsn: AS 65001 is bgp\.clusterAsn too; .*use e\.g\. bgp\.routerAsn=65000$/);
    expect(problems({ 'bgp.routerAsn': 23456 })).toEqual(['bgp.routerAsn: AS 23456 is AS_TRANS, the placeholder 2-byte speakers see for a 4-byte AS (RFC 6793); use a private AS such as 65000 (64512-65534)']);
    expect(problems({ 'bgp.clusterAsn': 0 })[0]).toMatch(/^bgp\.clusterAsn: must be an AS number from 1 to 4294967294 \(0 is reserved\)/);
    expect(problems({ 'bgp.keepAliveTimeSeconds': 30 })).toEqual(['bgp.keepAliveTimeSeconds: 30 s is longer than bgp.holdTimeSeconds 9 s: the session would expire between two keepalives; use at most a third of the hold time (the study: hold 9, keepalive 3)']);
  });

  it('refuses advertised ranges that leave out the pod range or the LoadBalancer pool, and a pool that overlaps another range', () => {
    expect(problems({ 'bgp.advertisedRanges': '10.20.0.0/24' })).toEqual([
      "bgp.advertisedRanges: kubernetes.podCidr 172.16.0.0/16 is covered by none of 10.20.0.0/24: the router would drop the nodes' pod CIDRs (its import filter) and the nodes would not route pod traffic through it; add 172.16.0.0/16, or leave bgp.advertisedRanges out (it defaults to the pod range and the pool)",
    ]);
    expect(problems({ 'bgp.advertisedRanges': '172.16.0.0/12' })[0]).toMatch(/^bgp\.advertisedRanges: bgp\.lbPoolCidr 10\.20\.0\.0\/24 is covered by none of 172\.16\.0\.0\/12: the router would drop the LoadBalancer IPs/);
    expect(problems({ 'bgp.advertisedRanges': '172.16.0.0/12,10.0.0.0/8' })).toEqual([]);
    expect(problems({ 'bgp.advertisedRanges': '172.16.0.0/12,10.20.0.0/24,192.168.0.0/16' })[0]).toMatch(/^bgp\.advertisedRanges: 192\.168\.0\.0\/16 overlaps network\.vpcCidr/);
    expect(problems({ 'bgp.lbPoolCidr': '10.10.5.0/24' })[0]).toMatch(/^bgp\.lbPoolCidr: 10\.10\.5\.0\/24 overlaps kubernetes\.serviceCidr 10\.10\.0\.0\/16; /);
  });

  it('refuses bgp settings on a lab of another profile, naming the profile to add', () => {
    expect(() => loadLabConfig({ context: { 'bgp.routerAsn': 64999 } })).toThrow(/bgp: only profile=bgp reads bgp; add -c profile=bgp/);
  });
});

describe('profile bgp: the Helm values', () => {
  const kubernetesFor = (minor: string) => (CILIUM_MINORS[minor]?.kubernetesMinors.includes('1.30') ? '1.30.14' : '1.32.9');
  it.each(Object.keys(CILIUM_MINORS))("Cilium %s: the BGP control plane on, the unreachable node's direct route skipped, every key in the chart (composeLabCiliumValues checks it), XDP kept", (minor) => {
    const version = CILIUM_MINORS[minor]?.chartVersion as string;
    const values = composeLabCiliumValues(planLab(loadLabConfig({ context: { profile: 'bgp', 'cilium.version': version, 'kubernetes.version': kubernetesFor(minor) } })), { xdp: true });
    expect(values.values).toMatchObject({ bgpControlPlane: { enabled: true }, directRoutingSkipUnreachable: true, autoDirectNodeRoutes: true, ipv4NativeRoutingCIDR: '172.16.0.0/16', loadBalancer: { acceleration: 'native' } });
    expect(values.sources).toContain('helm-values/profiles/bgp.yaml (profile bgp)');
  });
});

describe('profile bgp: the plan', () => {
  const plan = planLab(loadLabConfig({ context: { profile: 'bgp', 'workers.count': 3 } }));

  it('puts a router with an interface in each subnet and the last worker behind it, and the rest where the study lab has them', () => {
    expect(plan.instances.map((n) => `${n.name} ${n.role} ${n.subnet} ${n.privateIp}${n.secondInterface ? ` + ${n.secondInterface.subnet} ${n.secondInterface.privateIp}` : ''}`)).toEqual([
      'k8s-s control-plane nodes 192.168.10.10',
      'k8s-w1 worker nodes 192.168.10.101',
      'k8s-w2 worker nodes 192.168.10.102',
      'k8s-w3 worker test 192.168.20.101',
      'router router nodes 192.168.10.200 + test 192.168.20.200',
      'testpc testpc test 192.168.20.100',
    ]);
  });

  it("routes the pod range and the pool via the router's address in each instance's own subnet (Cilium installs no BGP route)", () => {
    const routes = Object.fromEntries(plan.instances.map((n) => [n.name, n.routes.map((r) => `${r.to} via ${r.via}`).join(', ')]));
    expect(routes).toEqual({
      'k8s-s': '172.16.0.0/16 via 192.168.10.200, 10.20.0.0/24 via 192.168.10.200',
      'k8s-w1': '172.16.0.0/16 via 192.168.10.200, 10.20.0.0/24 via 192.168.10.200',
      'k8s-w2': '172.16.0.0/16 via 192.168.10.200, 10.20.0.0/24 via 192.168.10.200',
      'k8s-w3': '172.16.0.0/16 via 192.168.20.200, 10.20.0.0/24 via 192.168.20.200',
      router: '',
      testpc: '172.16.0.0/16 via 192.168.20.200, 10.20.0.0/24 via 192.168.20.200',
    });
    // every other profile: no router, no routes
    const study = planLab(loadLabConfig({ context: {} }));
    expect(study.router).toBeUndefined();
    expect(study.instances.flatMap((n) => n.routes)).toEqual([]);
  });

  it("renders the router's FRR configuration with every Kubernetes node a neighbour and the import filter of the advertised ranges", () => {
    const conf = renderFrrConfig(plan);
    expect(conf.split('\n').filter((l) => /neighbor \d/.test(l) && l.includes('peer-group'))).toEqual([
      ' neighbor 192.168.10.10 peer-group CILIUM',
      ' neighbor 192.168.10.101 peer-group CILIUM',
      ' neighbor 192.168.10.102 peer-group CILIUM',
      ' neighbor 192.168.20.101 peer-group CILIUM',
    ]);
    expect(conf).toContain('router bgp 65000\n bgp router-id 192.168.10.200\n');
    expect(conf).toContain('ip prefix-list LAB-ADVERTISED seq 5 permit 172.16.0.0/16 le 32\nip prefix-list LAB-ADVERTISED seq 10 permit 10.20.0.0/24 le 32\n');
    expect(conf).toContain(' timers bgp 3 9\n');
    expect(conf).toContain('  maximum-paths 8\n');
    // a LoadBalancer IP of a large lab has a path from every node: FRR installs them all
    expect(renderFrrConfig(planLab(loadLabConfig({ context: { profile: 'bgp', 'workers.count': 20, 'network.nodeSubnetCidr': '192.168.10.0/24' } })))).toContain('  maximum-paths 21\n');
  });
});

describe('profile bgp: the template', () => {
  const { json } = synthLab({ profile: 'bgp' });

  it('puts both subnets in one availability zone (an ENI attaches only to an instance in its own zone); the study lab keeps two', () => {
    const zones = (j: Record<string, any>) => resourcesOfType(j, 'AWS::EC2::Subnet').map(([, s]) => `${s.Properties.CidrBlock} ${JSON.stringify(s.Properties.AvailabilityZone)}`);
    expect(zones(json)).toEqual(['192.168.10.0/24 {"Fn::Select":[0,{"Fn::GetAZs":""}]}', '192.168.20.0/24 {"Fn::Select":[0,{"Fn::GetAZs":""}]}']);
    expect(zones(synthLab({}).json)).toEqual(['192.168.10.0/24 {"Fn::Select":[0,{"Fn::GetAZs":""}]}', '192.168.20.0/24 {"Fn::Select":[1,{"Fn::GetAZs":""}]}']);
  });

  it("attaches the router's second ENI in the test subnet at its address, source/destination check off, and gives the router an Elastic IP", () => {
    const [[eniId, eni]] = resourcesOfType(json, 'AWS::EC2::NetworkInterface') as [[string, any]];
    const testSubnet = resourcesOfType(json, 'AWS::EC2::Subnet').find(([, s]) => s.Properties.CidrBlock === '192.168.20.0/24')?.[0];
    expect(eni.Properties).toMatchObject({ PrivateIpAddress: '192.168.20.200', SourceDestCheck: false, SubnetId: { Ref: testSubnet } });
    const [[, attachment]] = resourcesOfType(json, 'AWS::EC2::NetworkInterfaceAttachment') as [[string, any]];
    const router = resourcesOfType(json, 'AWS::EC2::Instance').find(([, i]) => i.Properties.PrivateIpAddress === '192.168.10.200');
    expect(attachment.Properties).toEqual({ DeleteOnTermination: true, DeviceIndex: '1', InstanceId: { Ref: router?.[0] }, NetworkInterfaceId: { Ref: eniId } });
    expect(router?.[1].Properties.SourceDestCheck).toBe(false);
    // the router runs Ubuntu 24.04 (FRR 8.4, the version the real-FRR tests run) while the nodes run the lab's 22.04
    expect(JSON.stringify(router?.[1].Properties.ImageId)).toContain('ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id');
    const node = resourcesOfType(json, 'AWS::EC2::Instance').find(([, i]) => i.Properties.PrivateIpAddress === '192.168.10.10')?.[1];
    expect(JSON.stringify(node.Properties.ImageId)).toContain('ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id');
    const association = resourcesOfType(json, 'AWS::EC2::EIPAssociation').find(([, a]) => a.Properties.InstanceId.Ref === router?.[0]);
    expect(association).toBeDefined();
    // the Elastic IP is associated by instance while the router has one interface; the second attaches after it
    const [[, attachmentResource]] = resourcesOfType(json, 'AWS::EC2::NetworkInterfaceAttachment') as [[string, any]];
    expect(attachmentResource.DependsOn).toEqual([association?.[0]]);
    expect(resourcesOfType(json, 'AWS::EC2::Instance')).toHaveLength(5);
  });

  it('opens BGP (TCP 179) to lab members only, nothing to an address range', () => {
    const rules = resourcesOfType(json, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    const bgp = rules.filter((r) => r.IpProtocol === 'tcp' && r.FromPort <= 179 && r.ToPort >= 179);
    expect(bgp).toHaveLength(1);
    expect(bgp[0].SourceSecurityGroupId).toBeDefined();
    expect(bgp[0].CidrIp).toBeUndefined();
    const inline = resourcesOfType(json, 'AWS::EC2::SecurityGroup').flatMap(([, g]) => g.Properties.SecurityGroupIngress ?? []);
    expect(inline.filter((r: any) => r.CidrIp && (r.IpProtocol === '-1' || (r.FromPort <= 179 && r.ToPort >= 179))).map((r: any) => r.CidrIp)).toEqual(['172.16.0.0/16']);
  });

  it("boots the router from router.sh with the lab's FRR configuration, within EC2's 16 KB, lint-clean", () => {
    const router = resourcesOfType(json, 'AWS::EC2::Instance').find(([, i]) => i.Properties.PrivateIpAddress === '192.168.10.200')?.[1];
    expect(Buffer.byteLength(packedUserData(router))).toBeLessThan(USER_DATA_LIMIT_BYTES);
    const script = userDataScript(router);
    expect(script).toContain("readonly LAB_SECOND_ADDRESS='192.168.20.200/24'");
    const b64 = /^readonly LAB_FRR_CONF_B64='([^']*)'$/m.exec(script)?.[1] ?? '';
    expect(Buffer.from(b64, 'base64').toString('utf8')).toBe(renderFrrConfig(planLab(loadLabConfig({ context: { profile: 'bgp' } }))));
    expect(script).toMatch(/^\s*router::main "\$@"$/m);
    expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0);
    const lint = spawnSync('shellcheck', ['-S', 'warning', '-'], { input: script, encoding: 'utf8' });
    if (!lint.error) expect(lint.stdout).toBe('');
    // the workers behind the router set their routes at boot
    const behind = resourcesOfType(json, 'AWS::EC2::Instance').find(([, i]) => i.Properties.PrivateIpAddress === '192.168.20.101')?.[1];
    expect(userDataScript(behind)).toContain("readonly LAB_ROUTES='172.16.0.0/16 via 192.168.20.200,10.20.0.0/24 via 192.168.20.200'");
  });
});
