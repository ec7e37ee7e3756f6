import type { Node } from 'yaml';
import type { HostPort } from './types.js';
import { isWildcard } from './values.js';
import type { NodeReader } from './yaml-nodes.js';

/** Checks across the entries of one list field, after each entry was read on its own. */

export function checkNoWildcards(
  reader: NodeReader,
  node: Node | null | undefined,
  entries: readonly HostPort[] | undefined,
  label: string,
): void {
  if (entries?.some(isWildcard))
    reader.fail(
      'POLICY_WILDCARD_NOT_ALLOWED',
      `${label} has a "*" wildcard; set "allowWildcard: true" if that is really meant`,
      node,
    );
}

export function checkUnique(
  reader: NodeReader,
  node: Node | null | undefined,
  values: readonly string[] | undefined,
  label: string,
): void {
  if (values && new Set(values).size !== values.length)
    reader.fail('POLICY_DUPLICATE', `${label} lists the same entry twice`, node);
}
