/**
 * Validates an object against a CustomResourceDefinition's structural schema as the API server
 * does on create/apply with strict field validation (kubectl's default --validate=strict): the
 * apiVersion must be a served version; unknown fields, wrong types, missing required fields, values
 * outside enum/minimum/maximum/pattern are errors. CEL rules (x-kubernetes-validations) are not
 * evaluated here: resources.test.ts asserts the ones that matter by hand.
 */
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface CrdDoc {
  readonly spec: { readonly group: string; readonly names: { readonly kind: string }; readonly versions: readonly { readonly name: string; readonly served: boolean; readonly schema: { readonly openAPIV3Schema: Json } }[] };
}

export function servedVersions(crd: CrdDoc): string[] {
  return crd.spec.versions.filter((v) => v.served).map((v) => v.name);
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function check(value: unknown, schema: Json, path: string, errors: string[]): void {
  const type = schema['type'] as string | undefined;
  const actual = typeOf(value);
  if (type && !(type === actual || (type === 'number' && actual === 'integer'))) {
    errors.push(`${path}: ${actual}, the schema takes ${type}`);
    return;
  }
  if (Array.isArray(schema['enum']) && !(schema['enum'] as unknown[]).includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema['enum'])}`);
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) errors.push(`${path}: ${value} is below the minimum ${schema['minimum']}`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) errors.push(`${path}: ${value} is above the maximum ${schema['maximum']}`);
  }
  if (typeof value === 'string' && typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value)) errors.push(`${path}: ${JSON.stringify(value)} does not match ${schema['pattern']}`);
  if (Array.isArray(value) && isObject(schema['items'])) value.forEach((item, i) => check(item, schema['items'] as Json, `${path}[${i}]`, errors));
  if (isObject(value)) {
    for (const required of (schema['required'] as string[] | undefined) ?? []) if (!(required in value)) errors.push(`${path}.${required}: required`);
    const properties = isObject(schema['properties']) ? schema['properties'] : undefined;
    const additional = schema['additionalProperties'];
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    for (const [key, child] of Object.entries(value)) {
      const sub = properties?.[key];
      if (isObject(sub)) check(child, sub, `${path}.${key}`, errors);
      else if (isObject(additional)) check(child, additional, `${path}.${key}`, errors);
      else if (!preserve && additional !== true) errors.push(`${path}.${key}: unknown field`);
    }
  }
}

/** Every problem the API server would refuse the object for; empty when it fits. */
export function validateAgainstCrd(object: Json, crd: CrdDoc): string[] {
  const [group, version] = String(object['apiVersion']).split('/') as [string, string];
  if (group !== crd.spec.group) return [`apiVersion ${String(object['apiVersion'])}: not group ${crd.spec.group}`];
  if (object['kind'] !== crd.spec.names.kind) return [`kind ${String(object['kind'])}: the definition is for ${crd.spec.names.kind}`];
  const served = crd.spec.versions.find((v) => v.name === version && v.served);
  if (!served) return [`no matches for kind "${crd.spec.names.kind}" in version "${String(object['apiVersion'])}" (served: ${servedVersions(crd).join(', ')})`];
  const schema = served.schema.openAPIV3Schema;
  // metadata is the API server's ObjectMeta, not the CRD's to validate (only that it is a mapping).
  const errors: string[] = [];
  check(object, { ...schema, properties: { ...((schema['properties'] as Json | undefined) ?? {}), metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }, String(object['kind']), errors);
  return errors;
}
