/**
 * The instance type catalog: a size AWS does not sell is refused at synth naming the field (not
 * left to CloudFormation), kubeadm's minimum is judged on the catalog's vCPUs and memory, and the
 * cost table prices only types the catalog knows.
 */
import { CATALOGED_FAMILIES, familySizes, instanceTypeSpec, meetsKubeadmMinimum } from '../../lib/config/instance-types.js';
import { LabConfigError, loadLabConfig } from '../../lib/config/load.js';
import { PRICES } from '../../lib/lifecycle/prices.js';

const problems = (context: Record<string, unknown>): string[] => {
  try {
    loadLabConfig({ context });
    return [];
  } catch (error) {
    if (error instanceof LabConfigError) return [...error.problems];
    throw error;
  }
};

describe('instance types', () => {
  it.each([
    ['nodes.instanceType', 't3.xlage', 'nodes.instanceType: t3.xlage is not an EC2 instance type: t3 comes in nano, micro, small, medium, large, xlarge, 2xlarge (did you mean t3.xlarge?)'],
    ['nodes.instanceType', 'c6i.3xlarge', 'nodes.instanceType: c6i.3xlarge is not an EC2 instance type: c6i comes in large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, 32xlarge, metal (did you mean c6i.xlarge?)'],
    ['testpc.instanceType', 'm5.medium', 'testpc.instanceType: m5.medium is not an EC2 instance type: m5 comes in large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, metal (did you mean m5.metal?)'],
  ])('refuses %s=%s, a size that is not sold, with one line naming the field', (field, type, message) => {
    expect(problems({ [field]: type })).toEqual([message]);
  });

  it('judges kubeadm\'s minimum on the catalog\'s figures, naming them', () => {
    expect(problems({ 'nodes.instanceType': 't3.micro' })).toEqual([
      'nodes.instanceType: t3.micro is too small for a Kubernetes node: kubeadm needs 2 vCPUs and 1700 MB (it has 2 vCPU(s) and 1 GiB); use t3.medium or larger',
    ]);
    expect(problems({ 'nodes.instanceType': 'm7g.medium', 'testpc.instanceType': 't4g.small', 'ubuntu.arch': 'arm64' })).toEqual([
      'nodes.instanceType: m7g.medium is too small for a Kubernetes node: kubeadm needs 2 vCPUs and 1700 MB (it has 1 vCPU(s) and 4 GiB); use t3.medium or larger',
    ]);
    expect(problems({ 'nodes.instanceType': 't3.small' })).toEqual([]);
    // a test host is no kubeadm node
    expect(problems({ 'testpc.instanceType': 't3.micro' })).toEqual([]);
  });

  it('knows the figures AWS publishes for the types a lab picks', () => {
    expect(instanceTypeSpec('t3.xlarge')).toEqual({ vcpus: 4, memoryGiB: 16 });
    expect(instanceTypeSpec('c5.9xlarge')).toEqual({ vcpus: 36, memoryGiB: 72 });
    expect(instanceTypeSpec('m5.metal')).toEqual({ vcpus: 96, memoryGiB: 384 });
    expect(instanceTypeSpec('m7i.metal-48xl')).toEqual({ vcpus: 192, memoryGiB: 768 });
    expect(instanceTypeSpec('r6g.medium')).toEqual({ vcpus: 1, memoryGiB: 8 });
    expect(instanceTypeSpec('t3.xlage')).toBeUndefined();
    expect(meetsKubeadmMinimum({ vcpus: 2, memoryGiB: 1.5 })).toBe(false);
  });

  it('prices only types the catalog knows (the cost table and the kubeadm minimum share one set of facts)', () => {
    for (const [region, prices] of Object.entries(PRICES)) {
      for (const type of Object.keys(prices.instances)) {
        expect([region, type, instanceTypeSpec(type) !== undefined]).toEqual([region, type, true]);
      }
    }
    expect(CATALOGED_FAMILIES.every((f) => (familySizes(f) ?? []).length > 0)).toBe(true);
  });

  it('still accepts a Nitro family it has no size facts for (the name rules judge it)', () => {
    expect(problems({ 'nodes.instanceType': 'm8i.xlarge' })).toEqual([]);
  });
});
