import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { Deadline } from '../wire/deadline.js';
import { el, type MoRef, type XmlElement } from './envelope.js';
import { moRefOf, type SoapClient } from './soap-client.js';
import { child, childrenOf, textOf, type XmlNode } from './xml.js';

/** The PropertyCollector, used one-shot (RetrievePropertiesEx): psm polls, it never waits on updates. */
export interface ObjectProperties {
  readonly obj: MoRef;
  readonly props: ReadonlyMap<string, XmlNode>;
}

/** Most objects one listing returns; more are refused rather than paged (psm lists one folder). */
export const MAX_LISTED_OBJECTS = 10_000;

function readObjects(node: XmlNode): Result<ObjectProperties[], GuestOpsError> {
  const objects = childrenOf(child(node, 'returnval'), 'objects');
  if (objects.length > MAX_LISTED_OBJECTS)
    return err(
      guestOpsError('HYPERVISOR_PROTOCOL', `more than ${MAX_LISTED_OBJECTS} objects in one listing`),
    );
  if (textOf(child(node, 'returnval'), 'token') !== undefined)
    return err(guestOpsError('HYPERVISOR_PROTOCOL', 'the listing is paged; psm reads one page only'));
  const out: ObjectProperties[] = [];
  for (const object of objects) {
    const obj = moRefOf(child(object, 'obj'));
    if (obj === undefined)
      return err(guestOpsError('HYPERVISOR_PROTOCOL', 'a property listing names no object'));
    const props = new Map<string, XmlNode>();
    for (const prop of childrenOf(object, 'propSet')) {
      const name = textOf(prop, 'name');
      const val = child(prop, 'val');
      if (name !== undefined && val !== undefined) props.set(name, val);
    }
    out.push({ obj, props });
  }
  return ok(out);
}

function propSet(type: string, paths: readonly string[]): XmlElement {
  return el('propSet', [el('type', type), ...paths.map((p) => el('pathSet', p))]);
}

/** Properties of one object. */
export async function retrieve(
  client: SoapClient,
  obj: MoRef,
  paths: readonly string[],
  deadline: Deadline,
): Promise<Result<ReadonlyMap<string, XmlNode>, GuestOpsError>> {
  const content = await client.connect(deadline);
  if (!content.ok) return content;
  const reply = await client.call(
    'RetrievePropertiesEx',
    content.value.propertyCollector,
    [el('specSet', [propSet(obj.type, paths), el('objectSet', [el('obj', obj)])]), el('options', [])],
    deadline,
  );
  if (!reply.ok) return reply;
  const objects = readObjects(reply.value);
  if (!objects.ok) return objects;
  return ok(objects.value[0]?.props ?? new Map());
}

/** Properties of every object of `type` directly in `folder` (one TraversalSpec over childEntity). */
export async function retrieveChildren(
  client: SoapClient,
  folder: MoRef,
  type: string,
  paths: readonly string[],
  deadline: Deadline,
): Promise<Result<ObjectProperties[], GuestOpsError>> {
  const content = await client.connect(deadline);
  if (!content.ok) return content;
  const traversal = el(
    'selectSet',
    [el('name', 'psmFolderChildren'), el('type', 'Folder'), el('path', 'childEntity'), el('skip', false)],
    'TraversalSpec',
  );
  const reply = await client.call(
    'RetrievePropertiesEx',
    content.value.propertyCollector,
    [
      el('specSet', [
        propSet(type, paths),
        el('objectSet', [el('obj', folder), el('skip', true), traversal]),
      ]),
      el('options', []),
    ],
    deadline,
  );
  if (!reply.ok) return reply;
  const objects = readObjects(reply.value);
  if (!objects.ok) return objects;
  return ok(objects.value.filter((o) => o.obj.type === type));
}
