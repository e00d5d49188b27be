/**
 * The tag contract between the stack and the lifecycle commands (down, sweep): every resource
 * of a lab carries these keys, so what a lab left behind can be found by tag.
 */
export const LAB_TAGS = {
  lab: 'cilium-lab:lab',
  owner: 'cilium-lab:owner',
  expiresAt: 'cilium-lab:expires-at',
  managedBy: 'cilium-lab:managed-by',
} as const;

/** The expiry tag value of a lab configured without one. */
export const NO_EXPIRY = 'unset';
