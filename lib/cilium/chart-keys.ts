/**
 * The facts of a Cilium Helm chart that the lab checks values against: every valid dotted key
 * path with the type(s) the chart accepts there, and the "open maps" whose sub-keys are free
 * (annotations, nodeSelector, any map whose default is `{}`).
 *
 * Why: the chart's values.schema.json never sets `additionalProperties: false`, so Helm ignores
 * an unknown key without a word (the study's `bpf.hostRouting=true` did nothing). The lab owns
 * one small fixture per chart version (lib/cilium/chart-keys/<version>.json), produced from the
 * chart's values.yaml + values.schema.json by scripts/extract-chart-facts.ts with the pure
 * functions below. Same input, byte-identical output.
 */
import { isMap, isScalar, LineCounter, parseDocument, parse as parseYaml, type YAMLMap } from 'yaml';
import { z } from 'zod';

export type ChartValueType = 'array' | 'boolean' | 'null' | 'number' | 'object' | 'string';

const VALUE_TYPES: readonly ChartValueType[] = ['array', 'boolean', 'null', 'number', 'object', 'string'];

export interface ChartKeys {
  readonly chart: 'cilium';
  readonly version: string;
  /**
   * Dotted path -> the types the chart accepts there (from values.schema.json; from the default
   * value when the schema says nothing). `["null"]` alone means "unset by default, type not
   * known": such keys are documented in values.yaml as commented-out examples.
   */
  readonly keys: Readonly<Record<string, readonly ChartValueType[]>>;
  /** Paths whose sub-keys are free-form (`podAnnotations.foo` is valid). Sorted. */
  readonly openMaps: readonly string[];
}

/**
 * Map keys rendered straight into a Kubernetes object (`toYaml`) by the chart templates: any
 * Kubernetes field is valid below them, whatever the chart's default holds.
 */
export const KUBERNETES_PASSTHROUGH_KEYS: readonly string[] = [
  'affinity',
  'annotations',
  'labels',
  'nodeSelector',
  'podAnnotations',
  'podLabels',
  'podSecurityContext',
  'resources',
  'securityContext',
  'updateStrategy',
];

/** The type of a parsed YAML/JSON value, in the fixture's vocabulary. */
export function valueTypeOf(value: unknown): ChartValueType {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly properties?: Record<string, SchemaNode>;
  readonly enum?: readonly unknown[];
  readonly oneOf?: readonly SchemaNode[];
  readonly anyOf?: readonly SchemaNode[];
}

function normaliseSchemaType(type: string): ChartValueType | undefined {
  if (type === 'integer') return 'number';
  return (VALUE_TYPES as readonly string[]).includes(type) ? (type as ChartValueType) : undefined;
}

/** The types a JSON-schema node allows, or undefined when it does not say. */
function schemaTypes(node: SchemaNode | undefined): ChartValueType[] | undefined {
  if (!node) return undefined;
  const found = new Set<ChartValueType>();
  if (node.type !== undefined) {
    for (const t of typeof node.type === 'string' ? [node.type] : node.type) {
      const n = normaliseSchemaType(t);
      if (n) found.add(n);
    }
  } else if (node.enum) {
    for (const v of node.enum) found.add(valueTypeOf(v));
  } else {
    const alternatives = node.oneOf ?? node.anyOf;
    if (!alternatives) return undefined;
    for (const alt of alternatives) {
      const types = schemaTypes(alt);
      if (!types) return undefined;
      for (const t of types) found.add(t);
    }
  }
  return found.size > 0 ? sortTypes([...found]) : undefined;
}

function sortTypes(types: Iterable<ChartValueType>): ChartValueType[] {
  return [...new Set(types)].sort(byCodeUnit);
}

/** Locale-independent ordering: the fixture must not depend on the machine that wrote it. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface KeyLine {
  readonly path: string[];
  readonly line: number;
  readonly col: number;
  readonly isMap: boolean;
}

/** Every mapping key of values.yaml with its position (not descending into lists). */
function keyLines(valuesYaml: string): KeyLine[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(valuesYaml, { lineCounter });
  const out: KeyLine[] = [];
  const walk = (map: YAMLMap, prefix: string[]): void => {
    for (const pair of map.items) {
      if (!isScalar(pair.key) || !pair.key.range) continue;
      const path = [...prefix, String(pair.key.value)];
      const pos = lineCounter.linePos(pair.key.range[0]);
      out.push({ path, line: pos.line, col: pos.col - 1, isMap: isMap(pair.value) });
      if (isMap(pair.value)) walk(pair.value, path);
    }
  };
  if (isMap(doc.contents)) walk(doc.contents, []);
  return out.sort((a, b) => a.line - b.line);
}

/** Comment words that look like `key: value` but are annotations, not chart keys. */
const NOT_KEYS = new Set(['ref', 'type', 'minimum', 'maximum', 'default', 'see', 'note', 'example']);

/**
 * Keys the chart documents but leaves commented out (helm-docs convention): a `# -- text`
 * description block that ends with `# key: value`, e.g. in 1.16.3
 *   # -- Configure the kube-proxy replacement in Cilium BPF datapath
 *   #kubeProxyReplacement: "false"
 * The templates read them (`.Values.kubeProxyReplacement`), so they are valid keys whose
 * default is unset. Found by position: the comment's indentation must be that of its parent
 * map's children, its value a single YAML token (not prose), and it must end its comment block
 * (or be followed by the next key's `# --` description).
 */
export function commentedOutKeys(valuesYaml: string): string[][] {
  const lines = valuesYaml.split(/\r?\n/);
  const keys = keyLines(valuesYaml);
  const found: string[][] = [];
  const isComment = (text: string | undefined): boolean => text !== undefined && /^\s*#/.test(text);
  let inSchemaBlock = false;
  let sawDescription = false;
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index] as string;
    if (!isComment(text)) {
      sawDescription = false;
      inSchemaBlock = false;
      continue;
    }
    if (/^\s*#\s*@schema\b/.test(text)) {
      inSchemaBlock = !inSchemaBlock;
      continue;
    }
    if (/^\s*#\s?--\s/.test(text)) {
      sawDescription = true;
      continue;
    }
    const match = /^(\s*)#\s?([a-z][A-Za-z0-9]*):\s+(\S.*?)\s*$/.exec(text);
    const next = lines[index + 1];
    const endsBlock = !isComment(next) || /^\s*#\s?--\s/.test(next ?? '') || /^\s*#\s*@schema\b/.test(next ?? '');
    if (!match || inSchemaBlock || !sawDescription || !endsBlock) continue;
    const indent = (match[1] as string).length;
    const key = match[2] as string;
    const literal = match[3] as string;
    if (NOT_KEYS.has(key.toLowerCase())) continue;
    if (!/^("[^"]*"|'[^']*'|[^\s"']+)$/.test(literal)) continue;
    const line = index + 1;
    let parent: KeyLine | undefined;
    for (let k = keys.length - 1; k >= 0; k--) {
      const candidate = keys[k] as KeyLine;
      if (candidate.line < line && candidate.col < indent) {
        parent = candidate;
        break;
      }
    }
    const parentPath = parent ? parent.path : [];
    if (parent && !parent.isMap) continue;
    const firstChild = keys.find((k) => k.path.length === parentPath.length + 1 && k.line > (parent?.line ?? 0) && k.path.slice(0, -1).join('\u0000') === parentPath.join('\u0000'));
    const childCol = firstChild ? firstChild.col : parent ? -1 : 0;
    if (childCol !== indent) continue;
    found.push([...parentPath, key]);
  }
  return found;
}

export interface ChartSources {
  readonly version: string;
  /** Text of the chart's values.yaml. */
  readonly valuesYaml: string;
  /** Text of the chart's values.schema.json, when the chart ships one. */
  readonly schemaJson?: string;
}

/**
 * Extracts the key facts of one chart version. Pure: text in, facts out. A map is "open" when
 * its default is `{}`, when its key is a Kubernetes pass-through (KUBERNETES_PASSTHROUGH_KEYS),
 * when one of its keys holds a dot (label-like: `kubernetes.io/os`), or when the schema declares
 * an object the defaults do not fill (Helm's `global`). Lists are leaves.
 */
export function extractChartKeys(sources: ChartSources): ChartKeys {
  const values: unknown = parseYaml(sources.valuesYaml);
  if (!isPlainObject(values)) {
    throw new Error(`cilium chart ${sources.version}: values.yaml must be a mapping of chart values`);
  }
  const schema: SchemaNode | undefined = sources.schemaJson ? (JSON.parse(sources.schemaJson) as SchemaNode) : undefined;
  const keys = new Map<string, ChartValueType[]>();
  const openMaps = new Set<string>();

  const isOpen = (segments: readonly string[], value: unknown, node: SchemaNode | undefined): boolean => {
    const name = segments[segments.length - 1] as string;
    if (KUBERNETES_PASSTHROUGH_KEYS.includes(name)) return true;
    if (isPlainObject(value)) {
      return Object.keys(value).length === 0 || Object.keys(value).some((k) => k.includes('.'));
    }
    return value === undefined && schemaTypes(node)?.includes('object') === true && !node?.properties;
  };

  const walk = (segments: string[], value: unknown, node: SchemaNode | undefined): void => {
    const path = segments.join('.');
    const types = schemaTypes(node) ?? [valueTypeOf(value)];
    keys.set(path, sortTypes(types));
    if (isOpen(segments, value, node)) {
      openMaps.add(path);
      return;
    }
    const children = new Set<string>([
      ...(isPlainObject(value) ? Object.keys(value) : []),
      ...Object.keys(node?.properties ?? {}),
    ]);
    for (const child of children) {
      walk([...segments, child], isPlainObject(value) ? value[child] : undefined, node?.properties?.[child]);
    }
  };
  const topLevel = new Set<string>([...Object.keys(values), ...Object.keys(schema?.properties ?? {})]);
  for (const key of topLevel) {
    walk([key], values[key], schema?.properties?.[key]);
  }

  for (const segments of commentedOutKeys(sources.valuesYaml)) {
    const path = segments.join('.');
    const insideOpenMap = segments.some((_, i) => openMaps.has(segments.slice(0, i).join('.')));
    if (!keys.has(path) && !insideOpenMap) keys.set(path, ['null']);
  }

  const sortedKeys: Record<string, ChartValueType[]> = {};
  for (const path of [...keys.keys()].sort(byCodeUnit)) {
    sortedKeys[path] = keys.get(path) as ChartValueType[];
  }
  return { chart: 'cilium', version: sources.version, keys: sortedKeys, openMaps: [...openMaps].sort(byCodeUnit) };
}

/**
 * The fixture text: one line per key (`"path": "type|type"`), so a chart upgrade reads as a
 * line diff. Deterministic; ends with a newline.
 */
export function serializeChartKeys(facts: ChartKeys): string {
  const lines: string[] = [];
  lines.push('{');
  lines.push(`  "chart": ${JSON.stringify(facts.chart)},`);
  lines.push(`  "version": ${JSON.stringify(facts.version)},`);
  lines.push(`  "generatedBy": "scripts/extract-chart-facts.ts from the chart's values.yaml and values.schema.json",`);
  lines.push(`  "openMaps": [`);
  facts.openMaps.forEach((path, i) => lines.push(`    ${JSON.stringify(path)}${i < facts.openMaps.length - 1 ? ',' : ''}`));
  lines.push('  ],');
  lines.push('  "keys": {');
  const paths = Object.keys(facts.keys).sort(byCodeUnit);
  paths.forEach((path, i) => {
    const types = (facts.keys[path] as readonly ChartValueType[]).join('|');
    lines.push(`    ${JSON.stringify(path)}: ${JSON.stringify(types)}${i < paths.length - 1 ? ',' : ''}`);
  });
  lines.push('  }');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const TypeList = z
  .string()
  .transform((text) => text.split('|'))
  .pipe(z.array(z.enum(VALUE_TYPES as [ChartValueType, ...ChartValueType[]])).min(1));

const FixtureSchema = z.object({
  chart: z.literal('cilium'),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  generatedBy: z.string().optional(),
  openMaps: z.array(z.string()),
  keys: z.record(z.string(), TypeList),
});

/** Reads fixture text back into ChartKeys; `source` names the file in errors. */
export function parseChartKeys(text: string, source: string): ChartKeys {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message}); regenerate it with scripts/extract-chart-facts.ts`);
  }
  const result = FixtureSchema.safeParse(raw);
  if (!result.success) {
    const where = result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new Error(`${source}: not a chart-keys fixture (${where}); regenerate it with scripts/extract-chart-facts.ts`);
  }
  return { chart: 'cilium', version: result.data.version, keys: result.data.keys, openMaps: result.data.openMaps };
}
