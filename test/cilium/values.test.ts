import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import type { ChartKeys } from '../../lib/cilium/chart-keys.js';
import {
  assertValuesFitChart,
  checkValuesAgainstChart,
  composeCiliumValues,
  flattenValues,
  labComputedValues,
  loadChartKeys,
  loadValuesFile,
  parseValuesText,
  renderCiliumValuesYaml,
  SHIPPED_VALUES_DIR,
  supportedChartVersions,
  type HelmValues,
} from '../../lib/cilium/values.js';

const base = loadValuesFile(new URL('cilium.yaml', SHIPPED_VALUES_DIR));
const xdp = loadValuesFile(new URL('xdp.yaml', SHIPPED_VALUES_DIR));
const chart1163 = loadChartKeys('1.16.3');
const planOf = (context: Record<string, unknown>) => planLab(loadLabConfig({ context }));
const studyComputed = labComputedValues(planOf({}));

describe('flattenValues', () => {
  it('gives the dotted path of every leaf, lists and empty maps included', () => {
    expect(flattenValues({ bpf: { masquerade: true }, hubble: { metrics: { enabled: ['dns', 'drop'] } }, podAnnotations: {} })).toEqual({
      'bpf.masquerade': true,
      'hubble.metrics.enabled': ['dns', 'drop'],
      podAnnotations: {},
    });
  });
});

describe('the shipped helm-values files', () => {
  const composed = composeCiliumValues({ base, overlays: [{ name: 'xdp.yaml', values: xdp }], computed: studyComputed });
  it.each(supportedChartVersions())('cilium.yaml fits the cilium %s chart', (version) => {
    expect(checkValuesAgainstChart(base, loadChartKeys(version))).toEqual([]);
  });
  it.each(supportedChartVersions())('cilium.yaml + xdp.yaml + computed values fit the cilium %s chart', (version) => {
    expect(checkValuesAgainstChart(composed, loadChartKeys(version))).toEqual([]);
  });
  it('cilium.yaml leaves the lab-specific values to the lab', () => {
    expect(Object.keys(studyComputed).filter((key) => key in base)).toEqual([]);
  });
  it('cilium.yaml asks for BPF host routing with the real key', () => {
    expect(flattenValues(base)['bpf.hostLegacyRouting']).toBe(false);
  });
  it('cilium.yaml keeps httpV2 with its comma-separated labelsContext as one metric', () => {
    expect(flattenValues(base)['hubble.metrics.enabled']).toContain(
      'httpV2:exemplars=true;labelsContext=source_ip,source_namespace,source_workload,destination_ip,destination_namespace,destination_workload,traffic_direction',
    );
  });
  it('xdp.yaml turns on native XDP acceleration', () => {
    expect(flattenValues(xdp)).toEqual({ 'loadBalancer.acceleration': 'native' });
  });
  const studyOriginal = loadValuesFile(new URL('study-original.yaml', SHIPPED_VALUES_DIR));
  it.each(supportedChartVersions())('study-original.yaml fits the cilium %s chart', (version) => {
    expect(checkValuesAgainstChart(studyOriginal, loadChartKeys(version))).toEqual([]);
  });
  it("study-original.yaml holds exactly the study's native-routing CIDR, the VPC", () => {
    expect(flattenValues(studyOriginal)).toEqual({ ipv4NativeRoutingCIDR: '192.168.0.0/16' });
  });
});

describe('checkValuesAgainstChart', () => {
  it('refuses the study\'s bpf.hostRouting, naming bpf.hostLegacyRouting', () => {
    // given the documented command's key, when checked against 1.16.3, then
    expect(checkValuesAgainstChart({ bpf: { hostRouting: true } }, chart1163)).toEqual([
      expect.stringMatching(/^bpf\.hostRouting is not a key of the cilium 1\.16\.3 chart; did you mean bpf\.hostLegacyRouting\?/),
    ]);
  });
  it('warns that bpf.hostLegacyRouting has the opposite sense of bpf.hostRouting', () => {
    expect(checkValuesAgainstChart({ bpf: { hostRouting: true } }, chart1163)[0]).toContain('bpf.hostLegacyRouting: false');
  });
  it('refuses an unknown nested key with the nearest sibling', () => {
    expect(checkValuesAgainstChart({ hubble: { relay: { enabeld: true } } }, chart1163)).toEqual([
      'hubble.relay.enabeld is not a key of the cilium 1.16.3 chart; did you mean hubble.relay.enabled?',
    ]);
  });
  it('refuses a sub-key under a scalar key, naming the scalar', () => {
    expect(checkValuesAgainstChart({ debug: { enabled: { really: true } } }, chart1163)).toEqual([
      expect.stringContaining('debug.enabled.really is not a key of the cilium 1.16.3 chart: debug.enabled takes boolean'),
    ]);
  });
  it('accepts any key under an open map (podAnnotations, nodeSelector labels)', () => {
    const values = { podAnnotations: { 'prometheus.io/scrape': 'true' }, operator: { nodeSelector: { 'node-role.kubernetes.io/control-plane': '' } } };
    expect(checkValuesAgainstChart(values, chart1163)).toEqual([]);
  });
  it('refuses kubeProxyReplacement "strict" from 1.16 on', () => {
    expect(checkValuesAgainstChart({ kubeProxyReplacement: 'strict' }, chart1163)).toEqual([
      expect.stringMatching(/^kubeProxyReplacement is the string "strict" but from cilium 1\.16 it must be true or false.*set kubeProxyReplacement: true/),
    ]);
  });
  it('refuses kubeProxyReplacement "strict" on a chart whose schema allows strings (1.20.0)', () => {
    expect(checkValuesAgainstChart({ kubeProxyReplacement: 'strict' }, loadChartKeys('1.20.0'))).toHaveLength(1);
  });
  it('tells to unquote kubeProxyReplacement "true"', () => {
    expect(checkValuesAgainstChart({ kubeProxyReplacement: 'true' }, chart1163)[0]).toContain('write kubeProxyReplacement: true without quotes');
  });
  it('refuses a string where the chart takes a boolean, with the fix', () => {
    expect(checkValuesAgainstChart({ bpf: { masquerade: 'true' } }, chart1163)).toEqual([
      'bpf.masquerade is the string "true" but the cilium 1.16.3 chart takes boolean or null there; write bpf.masquerade: true without quotes',
    ]);
  });
  it('accepts a number where the schema takes string or integer (k8sServicePort: 6443)', () => {
    expect(checkValuesAgainstChart({ k8sServicePort: 6443 }, chart1163)).toEqual([]);
  });
  it('accepts null, which Helm reads as "drop the default"', () => {
    expect(checkValuesAgainstChart({ operator: { replicas: null } }, chart1163)).toEqual([]);
  });
  it('applies version-specific keys: nodePort.enabled exists in 1.16.3 but not in 1.19.6', () => {
    const values = { nodePort: { enabled: true } };
    expect([checkValuesAgainstChart(values, chart1163).length, checkValuesAgainstChart(values, loadChartKeys('1.19.6')).length]).toEqual([0, 1]);
  });
});

describe('assertValuesFitChart', () => {
  it('throws every problem under a header naming the source', () => {
    expect(() => assertValuesFitChart({ bpf: { hostRouting: true } }, chart1163, 'my-values.yaml')).toThrow(
      /my-values\.yaml does not fit the cilium 1\.16\.3 chart.*\n  - bpf\.hostRouting is not a key/,
    );
  });
});

describe('labComputedValues', () => {
  it('gives the study addresses for the default config, and the pod CIDR as the native-routing CIDR', () => {
    expect(studyComputed).toEqual({ k8sServiceHost: '192.168.10.10', k8sServicePort: 6443, ipv4NativeRoutingCIDR: '172.16.0.0/16' });
  });
  it('follows the control-plane IP of the config', () => {
    expect(labComputedValues(planOf({ 'controlPlane.ip': '192.168.10.20' })).k8sServiceHost).toBe('192.168.10.20');
  });
  it('follows the pod CIDR of the config, not the VPC (pods keep their IPs among themselves, reach the VPC as their node)', () => {
    const plan = planOf({ 'kubernetes.podCidr': '172.20.0.0/16', 'network.vpcCidr': '10.20.0.0/16', 'network.nodeSubnetCidr': '10.20.10.0/24', 'network.testSubnetCidr': '10.20.20.0/24', 'controlPlane.ip': '10.20.10.10', 'workers.firstIp': '10.20.10.101', 'testpc.ip': '10.20.20.100' });
    expect(labComputedValues(plan).ipv4NativeRoutingCIDR).toBe('172.20.0.0/16');
  });

});

describe('composeCiliumValues', () => {
  const parts = {
    base: { debug: { enabled: true }, hubble: { relay: { enabled: true }, metrics: { enabled: ['dns', 'drop'] } } } as HelmValues,
    computed: studyComputed,
  };
  it('merges mappings key by key', () => {
    const merged = composeCiliumValues({ ...parts, overlays: [{ name: 'ui', values: { hubble: { ui: { enabled: true } } } }] });
    expect(merged['hubble']).toEqual({ relay: { enabled: true }, ui: { enabled: true }, metrics: { enabled: ['dns', 'drop'] } });
  });
  it('replaces lists instead of concatenating them (as Helm does)', () => {
    const merged = composeCiliumValues({ ...parts, userOverrides: { hubble: { metrics: { enabled: ['flow'] } } } });
    expect(flattenValues(merged)['hubble.metrics.enabled']).toEqual(['flow']);
  });
  it('puts the computed values over the files', () => {
    const merged = composeCiliumValues({ ...parts, base: { ...parts.base, k8sServiceHost: '1.2.3.4' } });
    expect(merged['k8sServiceHost']).toBe('192.168.10.10');
  });
  it('lets the user overrides win over everything', () => {
    const merged = composeCiliumValues({ ...parts, overlays: [{ name: 'a', values: { debug: { enabled: false } } }], userOverrides: { debug: { enabled: 'x' } } });
    expect(flattenValues(merged)['debug.enabled']).toBe('x');
  });
  it('does not change its inputs', () => {
    const before = structuredClone(parts.base);
    composeCiliumValues({ ...parts, userOverrides: { debug: { enabled: false } } });
    expect(parts.base).toEqual(before);
  });
  it('refuses an overlay that is not a mapping, naming it', () => {
    expect(() => composeCiliumValues({ ...parts, overlays: [{ name: 'xdp.yaml', values: ['x'] as unknown as HelmValues }] })).toThrow(
      'overlay xdp.yaml: must be a mapping of chart keys (got a list)',
    );
  });
});

describe('renderCiliumValuesYaml', () => {
  it('renders YAML that reads back to the same values', () => {
    const values = composeCiliumValues({ base, overlays: [{ name: 'xdp.yaml', values: xdp }], computed: studyComputed });
    expect(parseValuesText(renderCiliumValuesYaml(values, 'generated by cilium-lab'), 'rendered')).toEqual(values);
  });
  it('starts with the header as comments', () => {
    expect(renderCiliumValuesYaml({ debug: { enabled: true } }, 'generated\nby the lab')).toMatch(/^# generated\n# by the lab\ndebug:/);
  });
});

describe('loaders', () => {
  it('refuse a chart version without a key list, naming the field and the closest one', () => {
    expect(() => loadChartKeys('1.16.4')).toThrow(/cilium\.version "1\.16\.4": the lab has no key list .*set cilium\.version=1\.16\.3.*extract-chart-facts/);
  });
  it('refuse a values file that is not a mapping, naming it', () => {
    expect(() => parseValuesText('- a\n', 'bad.yaml')).toThrow('bad.yaml: must be a mapping of chart keys');
  });
  it('return the key list of the requested version', () => {
    const keys: ChartKeys = loadChartKeys('1.18.12');
    expect(keys.version).toBe('1.18.12');
  });
});
