import { fileURLToPath } from 'node:url';

/** The policies shipped with psm (the package's policies/ directory). */
export function shippedPoliciesDirectory(): string {
  return fileURLToPath(new URL('../../policies', import.meta.url));
}
