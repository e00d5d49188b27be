/**
 * Study profiles as data (lib/config/profiles.ts): the cluster-pool profile end to end offline —
 * its refusals (the overlap pitfall, blocks for every node, settings another profile reads), the
 * Helm values it composes (checked against every chart the lab carries), the security group it
 * opens to its pools, and `lab profiles`.
 */
import { loadLabConfig, LabConfigError } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import { PROFILES, nativeRoutingCidr } from '../../lib/config/profiles.js';
import { CILIUM_MINORS } from '../../lib/config/catalog.js';
import { composeLabCiliumValues } from '../../lib/lab/cilium.js';
import { runCli } from '../../lib/lab/cli.js';
import { profilesCommand } from '../../lib/lab/commands/profiles.js';
import { resourcesOfType, synthLab, userDataScript } from '../helpers/synth.js';

const problems = (context: Record<string, unknown>): string[] => {
  try {
    loadLabConfig({ context });
    return [];
  } catch (error) {
    if (error instanceof LabConfigError) return [...error.problems];
    throw error;
  }
};

describe('profile cluster-pool: refusals', () => {
  it('accepts the default pool and a comma-separated list of pools', () => {
    expect(problems({ profile: 'cluster-pool' })).toEqual([]);
    expect(loadLabConfig({ context: { profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16, 10.201.0.0/16' } }).clusterPool.cidrs).toEqual(['10.200.0.0/16', '10.201.0.0/16']);
  });

  it("refuses the chart's 10.0.0.0/8 over the service range, explaining the pitfall", () => {
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.0.0.0/8' })).toEqual([
      "clusterPool.cidrs.0: 10.0.0.0/8 overlaps kubernetes.serviceCidr 10.10.0.0/16: Cilium's cluster-pool IPAM hands out pod addresses from these pools, and a pool that overlaps node or service addresses breaks cross-node traffic (the chart's default 10.0.0.0/8 is the classic case); pick a pool apart from both (e.g. 10.200.0.0/16)",
    ]);
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '192.168.128.0/20' })[0]).toMatch(/^clusterPool\.cidrs\.0: 192\.168\.128\.0\/20 overlaps network\.vpcCidr 192\.168\.0\.0\/16: /);
  });

  it('refuses pools too small for a block per node, a mask that does not fit, and overlapping pools', () => {
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/24' })).toEqual(['clusterPool.cidrs: the pools hold 1 /24 block(s) for 3 Kubernetes nodes; add a pool (the list can only grow) or use a larger one']);
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/24', 'clusterPool.maskSize': 20 })).toContain('clusterPool.maskSize: /20 blocks do not fit in the pool 10.200.0.0/24; use a mask of /24 or longer (it cannot change once the lab runs)');
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,10.200.128.0/17' })).toEqual(['clusterPool.cidrs.1: 10.200.128.0/17 overlaps the pool 10.200.0.0/16; every pool is its own range']);
  });

  it('refuses pools so far apart that the range covering them (Cilium\'s native-routing CIDR, never masqueraded) swallows other ranges', () => {
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.20.0.0/16,10.200.0.0/16' })).toEqual([
      "clusterPool.cidrs: the range covering every pool, 10.0.0.0/8 (Cilium's ipv4NativeRoutingCIDR: traffic to it is never masqueraded), overlaps kubernetes.serviceCidr 10.10.0.0/16; pick pools next to each other (e.g. 10.200.0.0/16, 10.201.0.0/16)",
    ]);
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,172.20.0.0/16' })[0]).toMatch(
      /^clusterPool\.cidrs: the range covering every pool, 0\.0\.0\.0\/0 .* overlaps network\.vpcCidr 192\.168\.0\.0\/16 and kubernetes\.serviceCidr 10\.10\.0\.0\/16 and 169\.254\.0\.0\/16 .* and holds public addresses/,
    );
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '100.64.0.0/16,100.127.0.0/16', 'kubernetes.serviceCidr': '10.10.0.0/16' })).toEqual([]);
    expect(problems({ profile: 'cluster-pool', 'clusterPool.cidrs': '172.20.0.0/16,172.30.0.0/16' })).toEqual([]);
    // The covering range is what the values carry.
    expect(nativeRoutingCidr(loadLabConfig({ context: { profile: 'cluster-pool', 'clusterPool.cidrs': '172.20.0.0/16,172.30.0.0/16' } }))).toBe('172.16.0.0/12');
  });

  it('refuses cluster-pool settings on a lab of another profile, naming the profile to add', () => {
    expect(problems({ 'clusterPool.maskSize': 26 })).toEqual(['clusterPool: only profile=cluster-pool reads clusterPool; add -c profile=cluster-pool, or leave clusterPool out (this lab is profile=study)']);
    expect(problems({ profile: 'ebpf' })).toEqual(['profile: must be a profile of `npm run lab -- profiles`: study, cluster-pool, netkit, kube-proxy, eni, bgp']);
  });
});

describe('profile cluster-pool: what it builds', () => {
  const config = loadLabConfig({ context: { profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,10.201.0.0/16' } });

  it.each(Object.values(CILIUM_MINORS).map((m) => m.chartVersion))('composes Helm values chart %s accepts: cluster-pool IPAM over the pools, routed natively', (version) => {
    const plan = planLab({ ...config, cilium: { version }, kubernetes: { ...config.kubernetes, version: CILIUM_MINORS[version.split('.').slice(0, 2).join('.')]?.kubernetesMinors.includes('1.30') ? '1.30.14' : '1.32.13' } });
    const { values, sources } = composeLabCiliumValues(plan, { xdp: true });
    expect(values).toMatchObject({
      ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: ['10.200.0.0/16', '10.201.0.0/16'], clusterPoolIPv4MaskSize: 24 } },
      k8s: { requireIPv4PodCIDR: false },
      ipv4NativeRoutingCIDR: '10.200.0.0/15',
    });
    expect(sources).toContain('helm-values/profiles/cluster-pool.yaml (profile cluster-pool)');
  });

  it('routes the study lab natively over its pod CIDR, as before', () => {
    expect(nativeRoutingCidr(loadLabConfig({ context: {} }))).toBe('172.16.0.0/16');
  });

  it('opens the lab security group to the pools, not to kubernetes.podCidr', () => {
    const { json } = synthLab({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,10.201.0.0/16' });
    const [, group] = resourcesOfType(json, 'AWS::EC2::SecurityGroup')[0] as [string, any];
    expect(group.Properties.SecurityGroupIngress.map((r: { CidrIp: string }) => r.CidrIp)).toEqual(['10.200.0.0/16', '10.201.0.0/16']);
  });

  it('keeps each profile in one place: every profile names what it teaches and only scenarios the suite has', async () => {
    const { PROFILE_SCENARIOS, REPLACEMENT_SCENARIOS, labChecks } = await import('../../lib/checks/suite.js');
    const base = labChecks().flatMap((c) => c.scenarios.map((s) => s.name));
    for (const profile of Object.values(PROFILES) as { teaches: string; checks: readonly string[]; replacesChecks?: Record<string, string> }[]) {
      expect(profile.teaches.length).toBeGreaterThan(40);
      for (const name of profile.checks) expect(Object.keys(PROFILE_SCENARIOS)).toContain(name);
      for (const [replaced, name] of Object.entries(profile.replacesChecks ?? {})) {
        expect(base).toContain(replaced);
        expect(Object.keys(REPLACEMENT_SCENARIOS)).toContain(name);
      }
    }
    // A profile's replacements really take the base scenarios' places.
    const swapped = labChecks({ replaceChecks: PROFILES['kube-proxy'].replacesChecks }).flatMap((c) => c.scenarios.map((s) => s.name));
    expect(swapped).toEqual(base.map((name) => (PROFILES['kube-proxy'].replacesChecks as Record<string, string>)[name] ?? name));
  });
});

describe('profile netkit', () => {
  it('takes Ubuntu 24.04 by default and refuses 22.04, saying why', () => {
    expect(loadLabConfig({ context: { profile: 'netkit' } }).ubuntu.release).toBe('24.04');
    expect(loadLabConfig({ context: {} }).ubuntu.release).toBe('22.04');
    expect(problems({ profile: 'netkit', 'ubuntu.release': '22.04' })).toEqual([
      "ubuntu.release: profile=netkit needs ubuntu.release 24.04 (got 22.04): netkit needs a kernel >= 6.8 with CONFIG_NETKIT, which the lab takes from Ubuntu 24.04 (noble's 6.8 kernel)",
    ]);
  });

  it.each(Object.values(CILIUM_MINORS).map((m) => m.chartVersion))('asks chart %s for netkit devices, and preflight for their kernel', async (version) => {
    const { datapathNeeds } = await import('../../lib/lab/preflight.js');
    const config = loadLabConfig({ context: { profile: 'netkit', 'cilium.version': version, 'kubernetes.version': version.startsWith('1.16') || version.startsWith('1.17') ? '1.30.14' : '1.32.13' } });
    const { values } = composeLabCiliumValues(planLab(config), { xdp: true });
    expect(values).toMatchObject({ bpf: { datapathMode: 'netkit', masquerade: true, hostLegacyRouting: false }, endpointRoutes: { enabled: false } });
    expect(datapathNeeds(version, values).netkit).toBe(true);
  });
});

describe('profile kube-proxy', () => {
  const kubernetesFor = (version: string) => (CILIUM_MINORS[version.split('.').slice(0, 2).join('.')]?.kubernetesMinors.includes('1.30') ? '1.30.14' : '1.32.13');

  it.each(Object.values(CILIUM_MINORS).map((m) => m.chartVersion))('composes values chart %s accepts and its agent starts with: no kube-proxy replacement, portmap chaining, no XDP', (version) => {
    const config = loadLabConfig({ context: { profile: 'kube-proxy', 'cilium.version': version, 'kubernetes.version': kubernetesFor(version) } });
    // xdp: true is what `lab cilium` passes without --no-xdp; the profile drops the overlay itself.
    const { values, sources } = composeLabCiliumValues(planLab(config), { xdp: true });
    expect(values).toMatchObject({ kubeProxyReplacement: false, cni: { chainingMode: 'portmap' }, bpf: { masquerade: false, hostLegacyRouting: true }, installNoConntrackIptablesRules: false });
    expect((values as { loadBalancer?: { acceleration?: unknown } }).loadBalancer?.acceleration).toBeUndefined();
    expect(sources).not.toContain('helm-values/xdp.yaml');
    expect(sources).toContain('helm-values/profiles/kube-proxy.yaml (profile kube-proxy)');
  });

  it('keeps XDP for the other profiles', () => {
    expect(composeLabCiliumValues(planLab(loadLabConfig({ context: {} })), { xdp: true }).sources).toContain('helm-values/xdp.yaml');
  });

  it("chains exactly the CNI plugins it asks every node to have (LabProfile.cniPlugins = the overlay's cni.chainingMode)", async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    for (const profile of Object.values(PROFILES) as { helmOverlay?: string; cniPlugins?: readonly string[]; name: string }[]) {
      const overlay = profile.helmOverlay ? parse(readFileSync(new URL(`../../helm-values/profiles/${profile.helmOverlay}`, import.meta.url), 'utf8')) : {};
      const chaining = overlay?.cni?.chainingMode;
      expect([profile.name, profile.cniPlugins ?? []]).toEqual([profile.name, chaining && chaining !== 'none' ? [chaining] : []]);
    }
  });
});

describe('profile eni', () => {
  const kubernetesFor = (version: string) => (CILIUM_MINORS[version.split('.').slice(0, 2).join('.')]?.kubernetesMinors.includes('1.30') ? '1.30.14' : '1.32.13');

  it('sizes each node from its ENIs: ENIs x (IPv4 per ENI - 1) - 2 + its host-network pods', async () => {
    const { eniPodCapacity } = await import('../../lib/config/eni-ipam.js');
    // t3.xlarge: 4 ENIs x 15 addresses (awslabs/amazon-eks-ami instance-info.jsonl); EKS's eni-max-pods.txt says 58
    expect(eniPodCapacity('t3.xlarge', 'worker')).toEqual({ podAddresses: 56, addressedPods: 54, maxPods: 56, subnetAddresses: 60 });
    expect(eniPodCapacity('t3.xlarge', 'control-plane')?.maxPods).toBe(61);
    // t3a.small is not t3.small: 2 ENIs x 4 (EKS 8) against 3 x 4 (EKS 11)
    expect([eniPodCapacity('t3a.small', 'worker')?.podAddresses, eniPodCapacity('t3.small', 'worker')?.podAddresses]).toEqual([6, 9]);
    expect(eniPodCapacity('z9.large', 'worker')).toBeUndefined();
  });

  it('has ENI limits for every instance type the lab knows, each giving EKS\'s figure by its formula', async () => {
    const { CATALOGED_FAMILIES, familySizes } = await import('../../lib/config/instance-types.js');
    const { eniLimits } = await import('../../lib/config/eni-limits.js');
    const types = CATALOGED_FAMILIES.flatMap((f) => (familySizes(f) ?? []).map((s) => `${f}.${s}`));
    expect(types.filter((t) => eniLimits(t) === undefined)).toEqual([]);
    // a few lines of eni-max-pods.txt (awslabs/amazon-eks-ami 2377b69, 2026-02-27)
    const eks = { 't3.medium': 17, 't3a.small': 8, 'm5.large': 29, 'm6g.medium': 8, 'c5.18xlarge': 737, 'm7i.metal-48xl': 737 };
    for (const [type, pods] of Object.entries(eks)) {
      const l = eniLimits(type);
      expect([type, l && l.maxEnis * (l.ipv4PerEni - 1) + 2]).toEqual([type, pods]);
    }
  });

  it('refuses a pod CIDR setting, a type without ENI limits, and nodes that cannot fit the node subnet, naming each field', () => {
    expect(problems({ profile: 'eni' })).toEqual([]);
    expect(problems({ profile: 'eni', 'kubernetes.podCidr': '172.20.0.0/16' })).toEqual([
      "kubernetes.podCidr: profile=eni gives pods VPC addresses from network.nodeSubnetCidr (Cilium's operator attaches ENIs), so kubeadm allocates no pod CIDRs and kubernetes.podCidr 172.20.0.0/16 would be ignored; leave kubernetes.podCidr out",
    ]);
    expect(problems({ profile: 'eni', 'nodes.instanceType': 'm5zn.large' })[0]).toMatch(/^nodes\.instanceType: profile=eni needs the ENI limits of m5zn\.large /);
    expect(problems({ profile: 'eni', 'nodes.instanceType': 'm5.4xlarge', 'workers.count': 4 })).toEqual([
      'network.nodeSubnetCidr: profile=eni: 5 Kubernetes nodes of m5.4xlarge can take 5 x 240 addresses of 192.168.10.0/24 with every ENI full (1205 with AWS\'s 5), more than its 256; use a larger node subnet, fewer workers or a smaller type',
    ]);
  });

  it.each(Object.values(CILIUM_MINORS).map((m) => m.chartVersion))('composes values chart %s accepts and its agent starts with: ENI IPAM, the VPC routed natively, iptables masquerading on the ENIs, the operator on the control plane', (version) => {
    const config = loadLabConfig({ context: { profile: 'eni', 'cilium.version': version, 'kubernetes.version': kubernetesFor(version), labName: 'kans-eni' } });
    const { values, sources } = composeLabCiliumValues(planLab(config), { xdp: true });
    expect(values).toMatchObject({
      ipam: { mode: 'eni' },
      eni: { enabled: true },
      routingMode: 'native',
      autoDirectNodeRoutes: false,
      ipv4NativeRoutingCIDR: '192.168.0.0/16',
      enableIPv4Masquerade: true,
      egressMasqueradeInterfaces: 'ens+',
      bpf: { masquerade: false, hostLegacyRouting: true },
      cluster: { name: 'kans-eni' },
      operator: { nodeSelector: { 'node-role.kubernetes.io/control-plane': '' } },
      // kubeadm gives the nodes no podCIDR here: an agent that required one would wait forever
      k8s: { requireIPv4PodCIDR: false },
    });
    expect(sources).toContain('helm-values/profiles/eni.yaml (profile eni)');
    // no XDP on the operator's hot-plugged ENIs (cilium/cilium#25453)
    expect(sources).not.toContain('helm-values/xdp.yaml');
    expect((values as { loadBalancer?: { acceleration?: unknown } }).loadBalancer?.acceleration).toBeUndefined();
  });

  it('boots its nodes without pod CIDRs and with their ENI pod limits, and gives only the control plane the operator\'s EC2 permissions', () => {
    const { json } = synthLab({ profile: 'eni' });
    const scripts = resourcesOfType(json, 'AWS::EC2::Instance').map(([, instance]) => userDataScript(instance));
    const controlPlane = scripts.find((s) => s.includes("readonly LAB_NODE_NAME='k8s-s'")) as string;
    expect(controlPlane).toContain("readonly LAB_POD_CIDR=''");
    expect(controlPlane).toContain("readonly LAB_MAX_PODS='61'");
    expect(scripts.filter((s) => s.includes("readonly LAB_MAX_PODS='56'"))).toHaveLength(2);
    const policies = resourcesOfType(json, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('CiliumOperatorEni'));
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0] as [string, any];
    const roles = resourcesOfType(json, 'AWS::IAM::Role').filter(([id]) => id.startsWith('NodeK8sS')).map(([id]) => ({ Ref: id }));
    expect(policy.Properties.Roles).toEqual(roles);
    const statements = policy.Properties.PolicyDocument.Statement as { Sid: string; Action: string | string[]; Condition?: unknown }[];
    expect(statements.map((st) => st.Sid)).toEqual(['ReadEc2', 'CreateEniInLabSubnet', 'TagEniAtCreation', 'ChangeEniInLabVpc', 'AttachToLabInstances']);
    expect(JSON.stringify(statements.find((st) => st.Sid === 'ChangeEniInLabVpc')?.Condition)).toMatch(/"ec2:Vpc"/);
    // no other profile gets them
    expect(resourcesOfType(synthLab({}).json, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('CiliumOperatorEni'))).toEqual([]);
    // the same inputs, the same template
    expect(JSON.stringify(synthLab({ profile: 'eni' }).json)).toBe(JSON.stringify(json));
  });
});

describe('kubernetes.maxPods (the kubelet\'s pod limit, at boot)', () => {
  it('reaches every Kubernetes node\'s kubelet, and is refused where the profile sizes the nodes itself', async () => {
    const { nodeScriptValues } = await import('../../lib/infra/node-script-values.js');
    const refs = { region: 'ap-northeast-2', readyUrl: 'u', joinSecretArn: 'a', controlPlanePublicIp: '203.0.113.10' };
    const plan = planLab(loadLabConfig({ context: { 'kubernetes.maxPods': '300' } }));
    expect(plan.instances.map((n) => nodeScriptValues(plan, n, refs)['LAB_MAX_PODS'])).toEqual(['300', '300', '300', undefined]);
    const study = planLab(loadLabConfig({ context: {} }));
    expect(nodeScriptValues(study, study.instances[1] as never, refs)['LAB_MAX_PODS']).toBe('');
    expect(problems({ profile: 'eni', 'kubernetes.maxPods': 300 })).toEqual(["kubernetes.maxPods: profile=eni sets each node's maxPods itself (from what its network interfaces hold); leave kubernetes.maxPods out"]);
    expect(problems({ 'kubernetes.maxPods': 5 })[0]).toMatch(/^kubernetes\.maxPods: /);
  });
});

describe('every profile', () => {
  it.each(Object.keys(PROFILES))('%s synthesises the same template from the same inputs', (name) => {
    expect(JSON.stringify(synthLab({ profile: name }).json)).toBe(JSON.stringify(synthLab({ profile: name }).json));
  });

  it.each(Object.keys(PROFILES))('%s has a lab cost figure: the instances it deploys, priced', async (name) => {
    const { labCost } = await import('../../lib/lifecycle/cost.js');
    const cost = labCost(loadLabConfig({ context: { profile: name, region: 'ap-northeast-2' } }), { now: new Date('2026-12-02T00:00:00Z') });
    const study = labCost(loadLabConfig({ context: { region: 'ap-northeast-2' } }), { now: new Date('2026-12-02T00:00:00Z') });
    expect(cost.perHour).toBeGreaterThan(0);
    // No profile but bgp adds paid resources: the same instances, the same price as the study lab.
    // bgp adds its router: a t3.small (Seoul 0.026 USD/h), its Elastic IP (0.005) and its 30 GB of gp3 (0.0912/GB-month).
    const router = name === 'bgp' ? 0.026 + 0.005 + (30 * 0.0912) / 730 : 0;
    expect(cost.perHour).toBeCloseTo(study.perHour + router, 6);
    if (name === 'bgp') expect(cost.lines.map((l) => l.what)).toContain('t3.small (router)');
  });
});

describe('lab profiles', () => {
  it('lists every profile with what it teaches, marking the default', async () => {
    const lines: string[] = [];
    const code = await runCli(['profiles'], { commands: [profilesCommand], createServices: () => { throw new Error('no AWS'); }, out: () => ({ info: (l) => lines.push(l), result: (l) => lines.push(l) }) });
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(/^study {9}the KANS week-8 lab: .* \(default\)\ncluster-pool {2}Cilium's cluster-pool IPAM: .*\nnetkit {8}netkit devices instead of veth pairs.*\nkube-proxy {4}the mirror image of the default: .*\neni {11}Cilium's ENI IPAM on AWS/);
  });
});
