import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { Deadline } from '../wire/deadline.js';
import { el, type MoRef } from './envelope.js';
import { moRefOf, type SoapClient } from './soap-client.js';
import { child, childrenOf, textOf, type XmlNode } from './xml.js';

/** Finding things by name: SearchIndex for inventory paths and folder children, snapshot trees. */

export async function findByPath(
  client: SoapClient,
  inventoryPath: string,
  deadline: Deadline,
): Promise<Result<MoRef | undefined, GuestOpsError>> {
  const content = await client.connect(deadline);
  if (!content.ok) return content;
  const found = await client.call(
    'FindByInventoryPath',
    content.value.searchIndex,
    [el('inventoryPath', inventoryPath)],
    deadline,
  );
  if (!found.ok) return found;
  return ok(moRefOf(child(found.value, 'returnval')));
}

export async function findChild(
  client: SoapClient,
  folder: MoRef,
  name: string,
  deadline: Deadline,
): Promise<Result<MoRef | undefined, GuestOpsError>> {
  const content = await client.connect(deadline);
  if (!content.ok) return content;
  const found = await client.call(
    'FindChild',
    content.value.searchIndex,
    [el('entity', folder), el('name', name)],
    deadline,
  );
  if (!found.ok) return found;
  return ok(moRefOf(child(found.value, 'returnval')));
}

export interface SnapshotEntry {
  readonly name: string;
  readonly ref: MoRef;
}

/** Snapshot trees are shallow in practice; a deeper one is refused rather than walked. */
const MAX_SNAPSHOT_DEPTH = 32;

/** Every snapshot in `snapshot.rootSnapshotList`, depth first. */
export function flattenSnapshots(rootList: XmlNode | undefined): Result<SnapshotEntry[], GuestOpsError> {
  const out: SnapshotEntry[] = [];
  const walk = (nodes: readonly XmlNode[], depth: number): boolean => {
    if (depth > MAX_SNAPSHOT_DEPTH) return false;
    for (const node of nodes) {
      const name = textOf(node, 'name');
      const ref = moRefOf(child(node, 'snapshot'));
      if (name === undefined || ref === undefined) return false;
      out.push({ name, ref });
      if (!walk(childrenOf(node, 'childSnapshotList'), depth + 1)) return false;
    }
    return true;
  };
  const roots = rootList === undefined ? [] : childrenOf(rootList, 'VirtualMachineSnapshotTree');
  if (!walk(roots, 0))
    return err(guestOpsError('HYPERVISOR_PROTOCOL', 'the snapshot tree is malformed or too deep'));
  return ok(out);
}

/** The value of one extraConfig key (`config.extraConfig` is an ArrayOfOptionValue). */
export function extraConfigValue(extraConfig: XmlNode | undefined, key: string): string | undefined {
  for (const option of childrenOf(extraConfig, 'OptionValue'))
    if (textOf(option, 'key') === key) return textOf(option, 'value');
  return undefined;
}
