import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';

const plan = (context: Record<string, unknown> = {}) => planLab(loadLabConfig({ context }));

describe('planLab', () => {
  it('lays out the study topology: k8s-s, k8s-w1, k8s-w2, testpc', () => {
    expect(plan().instances.map((n) => [n.name, n.role, n.privateIp, n.instanceType])).toEqual([
      ['k8s-s', 'control-plane', '192.168.10.10', 't3.xlarge'],
      ['k8s-w1', 'worker', '192.168.10.101', 't3.xlarge'],
      ['k8s-w2', 'worker', '192.168.10.102', 't3.xlarge'],
      ['testpc', 'testpc', '192.168.20.100', 't3.small'],
    ]);
  });

  it('derives worker names and IPs from the count', () => {
    expect(plan({ 'workers.count': '4' }).workers.map((w) => `${w.name}=${w.privateIp}`)).toEqual([
      'k8s-w1=192.168.10.101',
      'k8s-w2=192.168.10.102',
      'k8s-w3=192.168.10.103',
      'k8s-w4=192.168.10.104',
    ]);
  });

  it('drops the test host when disabled', () => {
    expect(plan({ 'testpc.enabled': 'false' }).instances.map((n) => n.name)).toEqual(['k8s-s', 'k8s-w1', 'k8s-w2']);
  });

  it("uses Canonical's gp2 SSM path for 22.04", () => {
    expect(plan().amiParameterName).toBe('/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id');
  });

  it("uses Canonical's gp3 SSM path for 24.04 arm64", () => {
    expect(plan({ 'ubuntu.release': '24.04', 'ubuntu.arch': 'arm64', 'nodes.instanceType': 'c7g.xlarge', 'testpc.instanceType': 't4g.small' }).amiParameterName).toBe(
      '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
    );
  });

  it('picks kubeadm v1beta3 for 1.30', () => {
    expect(plan().kubernetes).toEqual({ version: '1.30.14', minor: '1.30', packageVersion: '1.30.14-1.1', kubeadmApi: 'v1beta3' });
  });

  it('picks kubeadm v1beta4 from 1.31', () => {
    expect(plan({ 'kubernetes.version': '1.31.6', 'cilium.version': '1.17.18' }).kubernetes.kubeadmApi).toBe('v1beta4');
  });

  it('pins the cilium CLI that matches the Cilium minor', () => {
    expect(plan({ 'kubernetes.version': '1.32.3', 'cilium.version': '1.19.6' }).tools.ciliumCliVersion).toBe('v0.19.7');
  });
});
