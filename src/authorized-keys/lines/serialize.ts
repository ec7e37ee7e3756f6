import { isDeepStrictEqual } from 'node:util';
import { codedError, err, ok, type Result } from '../../common/result.js';
import type { AuthorizedKeysError } from './errors.js';
import { parseAuthorizedKeysLine, type AuthorizedKeysEntry } from './line.js';
import { parseKeyOptions, VALUED_OPTION_NAMES, type KeyOptions } from './options.js';

export interface OptionItem {
  readonly name: string;
  /** Present for valued options: written as name="value". */
  readonly value?: string;
}

const FLAG_NAMES = new Set([
  'restrict',
  'cert-authority',
  ...[
    'port-forwarding',
    'agent-forwarding',
    'x11-forwarding',
    'touch-required',
    'verify-required',
    'pty',
    'user-rc',
  ].flatMap((name) => [name, `no-${name}`]),
]);
const VALUED_NAMES = new Set<string>(VALUED_OPTION_NAMES);

/** A value psm can write so that sshd's opt_dequote gives back exactly the same string. */
function quoteValue(value: string): Result<string, AuthorizedKeysError> {
  if (/[\r\n\0]/.test(value))
    return err(codedError('UNREPRESENTABLE_VALUE', 'option values cannot hold CR, LF or NUL'));
  if (value.endsWith('\\'))
    return err(
      codedError(
        'UNREPRESENTABLE_VALUE',
        'an option value ending in a backslash would escape its closing quote',
      ),
    );
  return ok(`"${value.replaceAll('"', '\\"')}"`);
}

/** Writes an options field in the given order; refuses (coded error) anything it cannot represent exactly. */
export function serializeOptions(items: readonly OptionItem[]): Result<string, AuthorizedKeysError> {
  const parts: string[] = [];
  for (const item of items) {
    if (FLAG_NAMES.has(item.name)) {
      if (item.value !== undefined)
        return err(codedError('OPTION_VALUE_MISMATCH', `"${item.name}" is a flag and takes no value`));
      parts.push(item.name);
    } else if (VALUED_NAMES.has(item.name)) {
      if (item.value === undefined)
        return err(codedError('OPTION_VALUE_MISMATCH', `"${item.name}" needs a value`));
      const quoted = quoteValue(item.value);
      if (!quoted.ok) return quoted;
      parts.push(`${item.name}=${quoted.value}`);
    } else {
      return err(
        codedError('UNKNOWN_OPTION_NAME', `unknown option ${JSON.stringify(item.name.slice(0, 64))}`),
      );
    }
  }
  const field = parts.join(',');
  // Fail closed: never emit an options field sshd would refuse.
  const check = parseKeyOptions(field);
  if (!check.ok) return check;
  return ok(field);
}

/** The five permits as (allowed, option name) pairs, in sshd's order. */
export function permitFlags(options: KeyOptions): Array<[allowed: boolean, name: string]> {
  return [
    [options.permit.portForwarding, 'port-forwarding'],
    [options.permit.agentForwarding, 'agent-forwarding'],
    [options.permit.x11Forwarding, 'x11-forwarding'],
    [options.permit.pty, 'pty'],
    [options.permit.userRc, 'user-rc'],
  ];
}

/** The canonical items for a set of options: restrict first, then what differs from its base. */
export function optionItems(options: KeyOptions): OptionItem[] {
  const items: OptionItem[] = [];
  const permits = permitFlags(options);
  if (options.restrict) {
    items.push({ name: 'restrict' });
    for (const [allowed, name] of permits) if (allowed) items.push({ name });
  } else {
    for (const [allowed, name] of permits) if (!allowed) items.push({ name: `no-${name}` });
  }
  if (options.certAuthority) items.push({ name: 'cert-authority' });
  if (options.noTouchRequired) items.push({ name: 'no-touch-required' });
  if (options.verifyRequired) items.push({ name: 'verify-required' });
  if (options.command !== null) items.push({ name: 'command', value: options.command });
  if (options.principals !== null) items.push({ name: 'principals', value: options.principals });
  if (options.from !== null) items.push({ name: 'from', value: options.from });
  for (const value of options.environment) items.push({ name: 'environment', value });
  for (const value of options.permitOpen) items.push({ name: 'permitopen', value });
  for (const value of options.permitListen) items.push({ name: 'permitlisten', value });
  for (const value of options.expiryTime) items.push({ name: 'expiry-time', value });
  if (options.tunnel !== null) items.push({ name: 'tunnel', value: String(options.tunnel) });
  return items;
}

function refuse(message: string): Result<string, AuthorizedKeysError> {
  return err(codedError('UNREPRESENTABLE_COMMENT', message));
}

/** One canonical line (no line break). Refuses any entry that would not read back identically. */
export function serializeAuthorizedKeysLine(entry: AuthorizedKeysEntry): Result<string, AuthorizedKeysError> {
  let line: string;
  switch (entry.kind) {
    case 'blank':
      return ok('');
    case 'comment':
      if (!entry.text.startsWith('#')) return refuse('a comment line must start with #');
      line = entry.text;
      break;
    case 'key': {
      if (entry.comment !== null && (entry.comment === '' || /^[ \t]/.test(entry.comment)))
        return refuse('a key comment cannot be empty or start with a blank');
      const field = serializeOptions(optionItems(entry.options));
      if (!field.ok) return field;
      const prefix = field.value === '' ? '' : `${field.value} `;
      const suffix = entry.comment === null ? '' : ` ${entry.comment}`;
      line = `${prefix}${entry.key.type} ${entry.key.base64}${suffix}`;
      break;
    }
  }
  const reread = parseAuthorizedKeysLine(line);
  if (!reread.ok) return reread;
  if (!sameEntry(reread.value, entry))
    return err(
      codedError(
        'UNREPRESENTABLE_OPTIONS',
        'the entry would not read back identically (e.g. duplicate environment names)',
      ),
    );
  return ok(line);
}

function sameEntry(a: AuthorizedKeysEntry, b: AuthorizedKeysEntry): boolean {
  if (a.kind !== 'key' || b.kind !== 'key') return isDeepStrictEqual(a, b);
  return (
    a.comment === b.comment &&
    a.key.type === b.key.type &&
    a.key.base64 === b.key.base64 &&
    isDeepStrictEqual(a.options, b.options)
  );
}
