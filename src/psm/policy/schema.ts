import type { Node } from 'yaml';
import { MAX_FROM_PATTERNS, MAX_OBJECTS, MAX_PERMITS } from './limits.js';
import {
  KEY_ROLES,
  POLICY_API_VERSION,
  POLICY_KIND,
  type ArgumentShape,
  type Expiry,
  type KeyPolicy,
  type KeyRole,
} from './types.js';
import {
  allowedObject,
  descriptionText,
  expiryDuration,
  fromPattern,
  gatePath,
  ownerText,
  permitListenEntry,
  permitOpenEntry,
  policyName,
  popcobjrunPath,
  type ValueResult,
} from './values.js';
import type { NodeReader } from './yaml-nodes.js';
import { commandPathProblems } from './command-paths.js';
import { checkNoWildcards, checkUnique } from './schema-checks.js';

/** The fields a KeyPolicy may have. Anything else is an error (fail closed). */
const TOP_FIELDS = new Set([
  'apiVersion',
  'kind',
  'name',
  'description',
  'owner',
  'role',
  'command',
  'objects',
  'permitOpen',
  'allowWildcard',
  'permitListen',
  'from',
  'expiry',
]);
const REQUIRED_FIELDS = ['apiVersion', 'kind', 'name', 'description', 'owner', 'role', 'command', 'objects'];
const COMMAND_FIELDS = new Set(['gate', 'popcobjrun', 'arguments']);
const REQUIRED_COMMAND_FIELDS = ['gate', 'popcobjrun'];

/**
 * Names people may try, for things psm never grants. They get their own code so a reviewer sees
 * "never granted" instead of a typo hint.
 */
const NEVER_GRANTED = new Set(
  [
    'environment',
    'env',
    'pty',
    'permitPty',
    'tty',
    'agentForwarding',
    'agent-forwarding',
    'x11Forwarding',
    'x11-forwarding',
    'X11Forwarding',
    'userRc',
    'user-rc',
    'tunnel',
    'permitTunnel',
    'principals',
    'certAuthority',
    'cert-authority',
    'noTouchRequired',
    'no-touch-required',
    'shell',
  ].map((n) => n.toLowerCase()),
);

/** Turns the top mapping of a policy document into a KeyPolicy, recording every error in `reader`. */
export function readPolicy(
  root: Node | null,
  reader: NodeReader,
  file: string,
  gateDir: string,
): KeyPolicy | undefined {
  const fields = reader.entries(root, 'the file');
  if (!fields) return undefined;
  for (const [name, { key }] of fields) {
    if (NEVER_GRANTED.has(name.toLowerCase()))
      reader.fail('POLICY_NEVER_GRANTED', `"${name}" is never granted by a psm policy; remove it`, key);
    else if (!TOP_FIELDS.has(name)) reader.fail('POLICY_UNKNOWN_FIELD', `unknown field "${clip(name)}"`, key);
  }
  for (const name of REQUIRED_FIELDS)
    if (!fields.has(name)) reader.fail('POLICY_MISSING_FIELD', `missing required field "${name}"`, root);
  const get = (name: string): Node | null | undefined => fields.get(name)?.value;
  for (const [name, entry] of fields) reader.remember(name, entry.key);

  const apiVersion =
    get('apiVersion') === undefined ? undefined : reader.string(get('apiVersion'), 'apiVersion');
  if (apiVersion !== undefined && apiVersion !== POLICY_API_VERSION)
    reader.fail('POLICY_BAD_VALUE', `apiVersion must be "${POLICY_API_VERSION}"`, get('apiVersion'));
  const kind = get('kind') === undefined ? undefined : reader.string(get('kind'), 'kind');
  if (kind !== undefined && kind !== POLICY_KIND)
    reader.fail('POLICY_BAD_VALUE', `kind must be "${POLICY_KIND}"`, get('kind'));

  const name = scalar(reader, get('name'), 'name', policyName);
  const description = scalar(reader, get('description'), 'description', descriptionText);
  const owner = scalar(reader, get('owner'), 'owner', ownerText);
  const role = scalar(reader, get('role'), 'role', keyRole);
  const command = readCommand(reader, get('command'));
  const objects = list(reader, get('objects'), 'objects', MAX_OBJECTS, allowedObject);
  const allowWildcard =
    get('allowWildcard') === undefined ? false : reader.boolean(get('allowWildcard'), 'allowWildcard');
  const permitOpen = optionalList(reader, get('permitOpen'), 'permitOpen', MAX_PERMITS, permitOpenEntry);
  const permitListen = optionalList(
    reader,
    get('permitListen'),
    'permitListen',
    MAX_PERMITS,
    permitListenEntry,
  );
  const from = optionalList(reader, get('from'), 'from', MAX_FROM_PATTERNS, fromPattern);
  const expiry: Expiry | null | undefined =
    get('expiry') === undefined ? null : scalar(reader, get('expiry'), 'expiry', expiryDuration);

  if (allowWildcard === false) {
    checkNoWildcards(reader, get('permitOpen'), permitOpen, 'permitOpen');
    checkNoWildcards(reader, get('permitListen'), permitListen, 'permitListen');
  }
  if (permitListen && permitListen.length > 0 && permitOpen && permitOpen.length === 0)
    reader.fail(
      'POLICY_LISTEN_WITHOUT_OPEN',
      'permitListen needs a non-empty permitOpen: an authorized_keys line cannot allow remote forwarding ' +
        'without also allowing local forwarding, and psm only re-enables forwarding for listed destinations',
      get('permitListen'),
    );
  if (from && from.length > 0 && from.every((p) => p.startsWith('!')))
    reader.fail(
      'POLICY_BAD_VALUE',
      'from has only negated patterns, so no address could ever log in',
      get('from'),
    );
  checkUnique(
    reader,
    get('objects'),
    objects?.map((o) => o.path),
    'objects',
  );
  checkUnique(
    reader,
    get('permitOpen'),
    permitOpen?.map((p) => `${p.host}:${p.port}`),
    'permitOpen',
  );
  checkUnique(
    reader,
    get('permitListen'),
    permitListen?.map((p) => `${p.host}:${p.port}`),
    'permitListen',
  );
  checkUnique(reader, get('from'), from, 'from');
  if (name !== undefined && command !== undefined)
    for (const problem of commandPathProblems(name, command.gate, command.popcobjrun, gateDir))
      reader.fail(
        problem.code,
        problem.message,
        problem.field === 'command.gate' ? command.gateNode : command.runNode,
      );

  if (
    reader.errors.length > 0 ||
    name === undefined ||
    description === undefined ||
    owner === undefined ||
    role === undefined ||
    command === undefined ||
    objects === undefined ||
    allowWildcard === undefined ||
    permitOpen === undefined ||
    permitListen === undefined ||
    from === undefined ||
    expiry === undefined
  )
    return undefined;
  return {
    name,
    description,
    owner,
    role,
    gatePath: command.gate,
    popcobjrunPath: command.popcobjrun,
    popcobjrunArguments: command.args,
    objects,
    permitOpen,
    allowWildcard,
    permitListen,
    from,
    expiry,
    file,
    positions: reader.positions,
  };
}

function keyRole(value: string): ValueResult<KeyRole> {
  const role = KEY_ROLES.find((r) => r === value);
  return role ? { ok: true, value: role } : { ok: false, error: `must be one of ${KEY_ROLES.join(', ')}` };
}

function scalar<T>(
  reader: NodeReader,
  node: Node | null | undefined,
  label: string,
  check: (value: string) => ValueResult<T>,
): T | undefined {
  if (node === undefined) return undefined;
  const text = reader.string(node, label);
  if (text === undefined) return undefined;
  const result = check(text);
  if (result.ok) return result.value;
  reader.fail('POLICY_BAD_VALUE', `${label} ${result.error}`, node);
  return undefined;
}

function list<T>(
  reader: NodeReader,
  node: Node | null | undefined,
  label: string,
  max: number,
  check: (value: string) => ValueResult<T>,
): T[] | undefined {
  if (node === undefined) return undefined;
  const items = reader.stringList(node, label, max);
  if (!items) return undefined;
  const out: T[] = [];
  items.forEach((item, index) => {
    const result = check(item.value);
    if (result.ok) out.push(result.value);
    else reader.fail('POLICY_BAD_VALUE', `${label}[${index}] ${result.error}`, item.node);
    reader.remember(`${label}.${index}`, item.node);
  });
  return out;
}

function optionalList<T>(
  reader: NodeReader,
  node: Node | null | undefined,
  label: string,
  max: number,
  check: (value: string) => ValueResult<T>,
): T[] | undefined {
  return node === undefined ? [] : list(reader, node, label, max, check);
}

interface CommandFields {
  gate: string;
  popcobjrun: string;
  args: ArgumentShape;
  gateNode: Node | null;
  runNode: Node | null;
}

function argumentShape(value: string): ValueResult<ArgumentShape> {
  return value === 'any' || value === 'popc'
    ? { ok: true, value }
    : { ok: false, error: 'must be "popc" (POP-C++\'s object start-up options only) or "any"' };
}

function readCommand(reader: NodeReader, node: Node | null | undefined): CommandFields | undefined {
  if (node === undefined) return undefined;
  const fields = reader.entries(node, 'command');
  if (!fields) return undefined;
  for (const [name, { key }] of fields)
    if (!COMMAND_FIELDS.has(name))
      reader.fail('POLICY_UNKNOWN_FIELD', `unknown field "command.${clip(name)}"`, key);
  for (const name of REQUIRED_COMMAND_FIELDS)
    if (!fields.has(name))
      reader.fail('POLICY_MISSING_FIELD', `missing required field "command.${name}"`, node);
  const gateNode = fields.get('gate');
  const runNode = fields.get('popcobjrun');
  if (gateNode) reader.remember('command.gate', gateNode.key);
  if (runNode) reader.remember('command.popcobjrun', runNode.key);
  const gate = gateNode ? scalar(reader, gateNode.value, 'command.gate', gatePath) : undefined;
  const popcobjrun = runNode
    ? scalar(reader, runNode.value, 'command.popcobjrun', popcobjrunPath)
    : undefined;
  const argsNode = fields.get('arguments');
  const args = argsNode ? scalar(reader, argsNode.value, 'command.arguments', argumentShape) : 'any';
  return gate !== undefined && popcobjrun !== undefined && args !== undefined && gateNode && runNode
    ? { gate, popcobjrun, args, gateNode: gateNode.value, runNode: runNode.value }
    : undefined;
}

/** Field names in messages are cut short: they come from the file and may be hostile. */
function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}...` : printable;
}
