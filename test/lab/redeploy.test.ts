/**
 * What a re-deploy of a running lab may not change (lib/lab/redeploy.ts), judged against the
 * LabConfig output the stack was built from.
 */
import { loadLabConfig } from '../../lib/config/load.js';
import { redeployRefusals } from '../../lib/lab/redeploy.js';

const config = (context: Record<string, unknown>) => loadLabConfig({ context: { labName: 'kans', ...context } });
const deployedAs = (context: Record<string, unknown>) => JSON.parse(JSON.stringify(config(context)));

describe('redeployRefusals', () => {
  it('lets the same settings, and settings a re-deploy can change, through', () => {
    expect(redeployRefusals(deployedAs({}), config({}))).toEqual([]);
    expect(redeployRefusals(deployedAs({}), config({ 'workers.count': 3, ttl: '8h' }))).toEqual([]);
  });

  it('refuses another profile, naming both and the way out', () => {
    expect(redeployRefusals(deployedAs({}), config({ profile: 'cluster-pool' }))).toEqual([
      expect.stringMatching(/^profile: lab kans runs with profile study, and this deploy asks for cluster-pool; a profile fixes Cilium's IPAM and datapath .*; lab down -c labName=kans first, or deploy this one under another labName$/),
    ]);
  });

  it('refuses a new Ubuntu release (every node replaced), also the one a profile brings by default', () => {
    expect(redeployRefusals(deployedAs({}), config({ 'ubuntu.release': '24.04' }))[0]).toMatch(/^ubuntu\.release: lab kans runs with ubuntu\.release 22\.04, and this deploy asks for 24\.04; a new Ubuntu release is a new AMI/);
    expect(redeployRefusals(deployedAs({}), config({ profile: 'netkit' })).map((p) => p.split(':')[0])).toEqual(['profile', 'ubuntu.release']);
  });

  it('lets the pool list grow, and refuses a dropped pool or a new mask size', () => {
    const pooled = deployedAs({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,10.201.0.0/16' });
    expect(redeployRefusals(pooled, config({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,10.201.0.0/16,10.202.0.0/16' }))).toEqual([]);
    expect(redeployRefusals(pooled, config({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.201.0.0/16,10.202.0.0/16' }))).toEqual([
      "clusterPool.cidrs: lab kans runs with 10.200.0.0/16, which this deploy drops; Cilium's pool list can only grow: the operator keeps handing out blocks of every pool it has, so keep every running entry and add new ones after them (10.200.0.0/16,10.201.0.0/16,10.202.0.0/16)",
    ]);
    expect(redeployRefusals(pooled, config({ profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,10.201.0.0/16', 'clusterPool.maskSize': 25 }))[0]).toMatch(/^clusterPool\.maskSize: lab kans runs with clusterPool\.maskSize 24, and this deploy asks for 25; /);
  });

  it("profile bgp: holds what the router's boot wrote (its neighbours, the workers behind it, the ranges), lets the cluster side's timers change", () => {
    const bgp = deployedAs({ profile: 'bgp' });
    expect(redeployRefusals(bgp, config({ profile: 'bgp', 'bgp.holdTimeSeconds': 30, 'bgp.keepAliveTimeSeconds': 10, 'bgp.clusterAsn': 64600 }))).toEqual([]);
    expect(redeployRefusals(bgp, config({ profile: 'bgp', 'workers.count': 3 }))[0]).toMatch(/^workers\.count: lab kans runs with workers\.count 2, and this deploy asks for 3; the router's FRR configuration, written once at its first boot, lists every node as a neighbour/);
    expect(redeployRefusals(bgp, config({ profile: 'bgp', 'bgp.router.nodeSubnetIp': '192.168.10.250' })).map((p) => p.split(':')[0])).toEqual(['bgp.router']);
    expect(redeployRefusals(bgp, config({ profile: 'bgp', 'bgp.lbPoolCidr': '10.30.0.0/24' })).map((p) => p.split(':')[0])).toEqual(['bgp.lbPoolCidr']);
    // the same count on a study lab is free
    expect(redeployRefusals(deployedAs({}), config({ 'workers.count': 3 }))).toEqual([]);
  });

  it("holds a profile's own settings only while the profile stays (eni: the instance type its maxPods came from)", () => {
    expect(redeployRefusals(deployedAs({ profile: 'eni' }), config({ profile: 'eni', 'nodes.instanceType': 'm5.xlarge' }))[0]).toMatch(/^nodes\.instanceType: lab kans runs with nodes\.instanceType t3\.xlarge, and this deploy asks for m5\.xlarge; each kubelet's maxPods/);
    expect(redeployRefusals(deployedAs({}), config({ 'nodes.instanceType': 'm5.xlarge' }))).toEqual([]);
  });

  it('does not judge a setting an older lab\'s output does not carry', () => {
    const old = deployedAs({});
    delete old.profile;
    expect(redeployRefusals(old, config({ profile: 'kube-proxy' }))).toEqual([]);
    expect(redeployRefusals(undefined, config({ profile: 'kube-proxy' }))).toEqual([]);
  });
});
