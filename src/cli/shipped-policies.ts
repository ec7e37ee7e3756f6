import { fileURLToPath } from 'node:url';
import type { ShippedPolicySource } from '../psm/policy/index.js';

/** The policies shipped with psm (the package's policies/ directory). */
export function shippedPoliciesDirectory(): string {
  return fileURLToPath(new URL('../../policies', import.meta.url));
}

/**
 * The sets `psm init --policy-set` installs: `default` (policies/: objects through the worker
 * image's own popcobjrun, as psm's tests and demo use them) and `popc` (the same, with the main-node
 * policy of a grid that runs POP-C++ 2.5 itself: policies/popc/, docs/popc.md).
 */
export const POLICY_SETS = ['default', 'popc'] as const;
export type PolicySet = (typeof POLICY_SETS)[number];

export function shippedPolicySource(set: PolicySet): ShippedPolicySource {
  const base = shippedPoliciesDirectory();
  return set === 'popc'
    ? { base, overlay: fileURLToPath(new URL('../../policies/popc', import.meta.url)) }
    : { base };
}
