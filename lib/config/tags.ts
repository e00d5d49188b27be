/**
 * The tag contract between the stack and the lifecycle commands (down, sweep): every resource
 * of a lab carries these keys, so what a lab left behind can be found by tag.
 */
export const LAB_TAGS = {
  lab: 'cilium-lab:lab',
  owner: 'cilium-lab:owner',
  expiresAt: 'cilium-lab:expires-at',
  managedBy: 'cilium-lab:managed-by',
  /** What a cilium-lab stack is: a lab (swept, deleted by the CI role) or the CI access stack (never). */
  kind: 'cilium-lab:kind',
} as const;

/** The values of the `cilium-lab:kind` tag. */
export const STACK_KINDS = { lab: 'lab', ciAccess: 'ci-access' } as const;

/** The expiry tag value of a lab without a fixed expiry time (ttl=none, or deployed before the expiry clock). */
export const NO_EXPIRY = 'unset';

/**
 * The expiry tag: the time when the template holds one (expiresAt), `ttl:<ttl>` when the expiry
 * clock sets it at deploy (a tag cannot hold a deploy-time value; the schedule has the time),
 * NO_EXPIRY for ttl=none.
 */
export function expiryTag(config: { readonly expiresAt?: string | undefined; readonly ttl?: string | undefined }): string {
  if (config.expiresAt !== undefined) return config.expiresAt;
  return config.ttl !== undefined && config.ttl !== 'none' ? `ttl:${config.ttl}` : NO_EXPIRY;
}

/** The lab tags of a lab, key -> value. */
export function labTags(config: { readonly labName: string; readonly owner: string; readonly expiresAt?: string | undefined; readonly ttl?: string | undefined }): Record<string, string> {
  return {
    [LAB_TAGS.lab]: config.labName,
    [LAB_TAGS.owner]: config.owner,
    [LAB_TAGS.expiresAt]: expiryTag(config),
    [LAB_TAGS.managedBy]: 'cilium-lab',
    [LAB_TAGS.kind]: STACK_KINDS.lab,
  };
}
