import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CILIUM_MINORS, minorOf } from '../../lib/config/catalog.js';
import { commentedOutKeys, extractChartKeys, parseChartKeys, serializeChartKeys } from '../../lib/cilium/chart-keys.js';
import { supportedChartVersions } from '../../lib/cilium/values.js';
import { chartVersionsIn, FIXTURE_DIR, fixtureTextFor } from '../../scripts/extract-chart-facts.js';

/** A tiny chart in the style of cilium's values.yaml (helm-docs comments, @schema blocks). */
const VALUES_YAML = `# -- Enable debug
debug:
  enabled: false
k8sServicePort: ""
# -- Annotations for the agent pods
podAnnotations: {}
nodeSelector:
  kubernetes.io/os: linux
hubble:
  metrics:
    # -- Metrics to collect
    enabled: ~
# -- Configure the kube-proxy replacement
# Valid options are "true" or "false".
#kubeProxyReplacement: "false"

l2announcements:
  enabled: false
  # -- Lease duration
  # leaseDuration: 15s
  # -- Renew deadline
  # leaseRenewDeadline: 5s
ciliumEndpointSlice:
  # -- List of rate limits. Each object has:
  # nodes: Count of nodes at which to apply the rate limit.
  rateLimits: []
bpf:
  # -- Limit the maximum number of entries
  # @schema
  # type: [null, integer]
  # @schema
  mapMax: ~
`;

const SCHEMA_JSON = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    k8sServicePort: { type: ['string', 'integer'] },
    hubble: { type: 'object', properties: { metrics: { type: 'object', properties: { enabled: { type: ['null', 'array'] } } } } },
    bpf: { type: 'object', properties: { mapMax: { type: ['null', 'integer'] } } },
    global: { type: 'object' },
  },
});

const facts = extractChartKeys({ version: '1.16.3', valuesYaml: VALUES_YAML, schemaJson: SCHEMA_JSON });

describe('extractChartKeys', () => {
  it('records a leaf of the defaults with the type of its default', () => {
    // given the tiny chart, when extracted, then
    expect(facts.keys['debug.enabled']).toEqual(['boolean']);
  });
  it('records the mappings on the way to a leaf as objects', () => {
    expect(facts.keys['debug']).toEqual(['object']);
  });
  it('takes the types from values.schema.json when it has them (integer -> number)', () => {
    expect(facts.keys['k8sServicePort']).toEqual(['number', 'string']);
  });
  it('records a leaf whose default is null with the schema types (null or array)', () => {
    expect(facts.keys['hubble.metrics.enabled']).toEqual(['array', 'null']);
  });
  it('marks a map whose default is {} as an open map', () => {
    expect(facts.openMaps).toContain('podAnnotations');
  });
  it('marks a Kubernetes pass-through map (nodeSelector) as open, not listing its label keys', () => {
    expect([facts.openMaps.includes('nodeSelector'), Object.keys(facts.keys).some((k) => k.startsWith('nodeSelector.'))]).toEqual([true, false]);
  });
  it('marks a schema-only object without properties (Helm global) as open', () => {
    expect(facts.openMaps).toContain('global');
  });
  it('records a documented commented-out key (#kubeProxyReplacement) as valid with unknown type', () => {
    expect(facts.keys['kubeProxyReplacement']).toEqual(['null']);
  });
  it('places nested commented-out keys under their parent map', () => {
    expect(commentedOutKeys(VALUES_YAML).map((s) => s.join('.'))).toEqual(['kubeProxyReplacement', 'l2announcements.leaseDuration', 'l2announcements.leaseRenewDeadline']);
  });
  it('does not take prose ("nodes: Count of nodes") or @schema lines for keys', () => {
    expect(Object.keys(facts.keys).filter((k) => /\.(nodes|type)$/.test(k))).toEqual([]);
  });
  it('refuses a values.yaml that is not a mapping, naming the version', () => {
    expect(() => extractChartKeys({ version: '9.9.9', valuesYaml: '- a\n' })).toThrow('cilium chart 9.9.9: values.yaml must be a mapping');
  });
});

describe('fixture text', () => {
  it('is byte-identical for the same input extracted twice', () => {
    const again = extractChartKeys({ version: '1.16.3', valuesYaml: VALUES_YAML, schemaJson: SCHEMA_JSON });
    expect(serializeChartKeys(again)).toBe(serializeChartKeys(facts));
  });
  it('does not depend on the order of keys in values.yaml', () => {
    const reordered = VALUES_YAML.replace('debug:\n  enabled: false\n', '') + 'debug:\n  enabled: false\n';
    const other = extractChartKeys({ version: '1.16.3', valuesYaml: reordered, schemaJson: SCHEMA_JSON });
    expect(serializeChartKeys(other)).toBe(serializeChartKeys(facts));
  });
  it('reads back to the same facts', () => {
    expect(parseChartKeys(serializeChartKeys(facts), 'test.json')).toEqual(facts);
  });
  it('refuses a file that is not a fixture, naming the file and the fix', () => {
    expect(() => parseChartKeys('{"chart":"cilium","version":"1.16.3","openMaps":[],"keys":{"a":"strng"}}', 'x.json')).toThrow(
      /x\.json: not a chart-keys fixture .*keys\.a.*regenerate it with scripts\/extract-chart-facts\.ts/,
    );
  });
});

describe('shipped fixtures (lib/cilium/chart-keys/)', () => {
  it('cover every Cilium minor the lab accepts (lib/config/catalog.ts CILIUM_MINORS)', () => {
    const supported = supportedChartVersions();
    expect(Object.keys(CILIUM_MINORS).filter((minor) => !supported.some((v) => minorOf(v) === minor))).toEqual([]);
  });

  // The upstream chart files are not part of the project; the CI machine has them.
  const CHART_DIR = process.env['CILIUM_CHART_DIR'] ?? fileURLToPath(new URL('../../../shared/upstream/cilium-chart/', import.meta.url));
  const present = existsSync(CHART_DIR);
  const maybe = present ? it : it.skip;
  const because = present ? '' : ` [skipped: ${CHART_DIR} is absent]`;

  maybe(`hold the same versions as the upstream chart folder${because}`, () => {
    expect(supportedChartVersions()).toEqual(chartVersionsIn(CHART_DIR));
  });
  maybe(`equal what the extractor produces from the upstream charts${because}`, () => {
    const stale = chartVersionsIn(CHART_DIR).filter((v) => readFileSync(`${FIXTURE_DIR}${v}.json`, 'utf8') !== fixtureTextFor(CHART_DIR, v));
    expect(stale).toEqual([]);
  });
  maybe(`are extracted deterministically from the real chart${because}`, () => {
    expect(fixtureTextFor(CHART_DIR, '1.16.3')).toBe(fixtureTextFor(CHART_DIR, '1.16.3'));
  });
});
