/**
 * Where a LabConfig comes from, and how it is parsed once:
 *   1. defaults (the study lab),
 *   2. a config file (`-c config=lab.yaml`, YAML or JSON, same shape as LabConfig),
 *   3. cdk context keys named by their dotted path (`-c workers.count=3`), which win.
 * Bad input raises LabConfigError listing every problem with its field and fix.
 */
import { RefusalError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { nearest } from './catalog.js';
import { PROFILES, type LabProfile } from './profiles.js';
import { LabConfigSchema, type ClashParams } from './rules.js';
import { LabConfigFieldsSchema, type LabConfig } from './schema.js';

export class LabConfigError extends RefusalError {
  constructor(readonly problems: readonly string[]) {
    super(`cilium-lab: the lab configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The context key that names a config file. */
export const CONFIG_FILE_KEY = 'config';

interface ZodDefLike {
  readonly type: string;
  readonly shape?: Record<string, { _zod: { def: ZodDefLike } }>;
  readonly innerType?: { _zod: { def: ZodDefLike } };
  readonly in?: { _zod: { def: ZodDefLike } };
  readonly out?: { _zod: { def: ZodDefLike } };
  readonly schema?: { _zod: { def: ZodDefLike } };
}

/** Unwraps default/prefault/optional/pipe wrappers down to the object or leaf schema. */
function unwrap(def: ZodDefLike): ZodDefLike {
  const inner = def.innerType ?? (def.type === 'pipe' ? def.out : undefined);
  return inner ? unwrap(inner._zod.def) : def;
}

/** Every settable dotted path of LabConfig (`workers.count`, `labName`, ...), derived from the schema. */
export function configPaths(): string[] {
  const paths: string[] = [];
  const walk = (def: ZodDefLike, prefix: string): void => {
    const inner = unwrap(def);
    if (inner.type === 'object' && inner.shape) {
      for (const [key, child] of Object.entries(inner.shape)) {
        walk(child._zod.def, prefix ? `${prefix}.${key}` : key);
      }
    } else {
      paths.push(prefix);
    }
  };
  walk(LabConfigSchema._zod.def as unknown as ZodDefLike, '');
  return paths;
}

/**
 * True for context keys that belong to CDK rather than to the lab: feature flags
 * (`@aws-cdk/...`), CLI/toolkit keys (`aws:cdk:...`) and cached lookups (`availability-zones:...`).
 */
function isCdkContextKey(key: string): boolean {
  return key.includes(':') || key.startsWith('@') || key.startsWith('aws-cdk') || key.startsWith('cdk');
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

export interface ConfigSources {
  /** All cdk context (node.getAllContext()) or CLI flags given as dotted paths. */
  readonly context: Readonly<Record<string, unknown>>;
  /** Reads the file named by the `config` context key; injectable for tests. */
  readonly readFile?: (path: string) => string;
}

/** Builds the raw input object (file, then context overrides) without validating it. */
export function rawConfigInput(sources: ConfigSources): Record<string, unknown> {
  const problems: string[] = [];
  let input: Record<string, unknown> = {};
  const file = sources.context[CONFIG_FILE_KEY];
  if (file !== undefined) {
    if (typeof file !== 'string' || file.length === 0) {
      throw new LabConfigError([`${CONFIG_FILE_KEY}: must be the path of a YAML or JSON lab config file`]);
    }
    const read = sources.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
    let text: string;
    try {
      text = read(file);
    } catch (error) {
      throw new LabConfigError([`${CONFIG_FILE_KEY}: cannot read "${file}" (${(error as Error).message}); give a path relative to where cdk runs`]);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new LabConfigError([`${CONFIG_FILE_KEY}: "${file}" is not valid YAML/JSON: ${(error as Error).message}`]);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new LabConfigError([`${CONFIG_FILE_KEY}: "${file}" must hold a mapping of LabConfig fields (e.g. "workers: {count: 3}")`]);
      }
      input = structuredClone(parsed as Record<string, unknown>);
    }
  }
  const known = configPaths();
  for (const [key, value] of Object.entries(sources.context)) {
    if (key === CONFIG_FILE_KEY || isCdkContextKey(key)) {
      continue;
    }
    if (!known.includes(key)) {
      const hint = nearest(key, known);
      problems.push(`${key}: not a lab setting${hint ? `; did you mean "${hint}"?` : ''} (settings: ${known.join(', ')})`);
      continue;
    }
    setPath(input, key, value);
  }
  if (problems.length > 0) {
    throw new LabConfigError(problems);
  }
  return input;
}

/** The value at a dotted path of the raw input (for messages about what the user wrote). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined), input);
}

/** The default of a field, as an example of how to write it. */
function defaultAt(path: string): unknown {
  const parsed = LabConfigFieldsSchema.safeParse({});
  return parsed.success ? valueAt(parsed.data, path.split('.')) : undefined;
}

/** Validates raw input into a LabConfig, or throws LabConfigError naming every bad field. */
export function parseLabConfig(given: unknown): LabConfig {
  // The profile's defaults of other settings, where the user set none (profile=netkit: Ubuntu 24.04).
  const input = withProfileDefaults(given);
  // Fields first. Where one fails on its own, the rules between fields judge the default in its
  // place: a workers.count of 500 is one line, not hundreds of address clashes that follow from
  // it, while a problem elsewhere (a Xen instance type) is still reported in the same run.
  const fields = LabConfigFieldsSchema.safeParse(input);
  const result = fields.success ? LabConfigSchema.safeParse(input) : fields;
  if (result.success) {
    return result.data;
  }
  let issues = result.error.issues;
  if (!fields.success) {
    const repaired = structuredClone(input) as Record<string, unknown>;
    for (const issue of fields.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      for (const path of keys) {
        const parent = valueAt(repaired, path.slice(0, -1));
        if (parent !== null && typeof parent === 'object') delete (parent as Record<PropertyKey, unknown>)[path.at(-1) as PropertyKey];
      }
    }
    const rules = LabConfigSchema.safeParse(repaired);
    if (!rules.success) issues = [...issues, ...rules.error.issues.filter((i) => i.code === 'custom')];
  }
  const known = configPaths();
  // The fields the user set (context or file), to report a clash against the one they changed.
  const userSet = new Set<string>();
  const collect = (node: unknown, prefix: string): void => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      for (const [key, value] of Object.entries(node as Record<string, unknown>)) collect(value, prefix ? `${prefix}.${key}` : key);
    } else if (prefix) {
      userSet.add(prefix);
    }
  };
  collect(input, '');
  const problems = issues.map((issue) => {
    const other = issue.code === 'custom' ? (issue.params as Partial<ClashParams> | undefined)?.other : undefined;
    if (other && !userSet.has(issue.path.join('.')) && userSet.has(other.path.join('.'))) {
      return `${other.path.join('.')}: ${other.message}`;
    }
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => {
          const full = path ? `${path}.${key}` : key;
          // A dotted key in a config file ("workers.count: 3") is a lab setting written flat.
          if (key.includes('.') && known.includes(full)) {
            const [head, ...rest] = full.split('.');
            return `${full}: a dotted key in a config file is not nested; write it as ${head}: {${rest.join('.')}: ...} (or use -c ${full}=... on the command line)`;
          }
          const hint = nearest(full, known);
          return `${full}: not a lab setting${hint ? `; did you mean "${hint}"?` : ''}`;
        })
        .join('\n  - ');
    }
    // YAML reads an unquoted 1.30 or 24.04 as a number (1.3, 24.04): say what to write instead.
    const given = valueAt(input, issue.path);
    if (issue.code === 'invalid_type' && issue.expected === 'string' && typeof given === 'number') {
      const example = defaultAt(path);
      return `${path}: ${given} arrived as a number (YAML reads an unquoted ${String(given).includes('.') ? 'version' : 'value'} as one, and 1.30 becomes 1.3); write it in quotes, e.g. ${path.split('.').at(-1)}: "${typeof example === 'string' ? example : given}"`;
    }
    return `${path || '(config)'}: ${issue.message}`;
  });
  throw new LabConfigError(problems);
}

/** The one entry point: sources in, validated LabConfig out. Called once, in bin/ or the lab CLI. */
export function loadLabConfig(sources: ConfigSources): LabConfig {
  return parseLabConfig(rawConfigInput(sources));
}

/** The input with its profile's configDefaults filled in where the user set nothing. */
function withProfileDefaults(input: unknown): unknown {
  if (input === null || typeof input !== 'object') return input;
  const name = (input as Record<string, unknown>)['profile'];
  const profile = typeof name === 'string' && Object.hasOwn(PROFILES, name) ? (PROFILES as Record<string, LabProfile>)[name] : undefined;
  if (!profile?.configDefaults) return input;
  const out = structuredClone(input) as Record<string, unknown>;
  for (const [path, value] of Object.entries(profile.configDefaults)) {
    if (valueAt(out, path.split('.')) === undefined) setPath(out, path, value);
  }
  return out;
}
