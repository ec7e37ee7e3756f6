import { codedError, err, ok, type Result } from '../../common/result.js';
import type { AuthorizedKeysError, AuthorizedKeysErrorCode } from './errors.js';
import { checkPermit, isValidEnvName, isValidExpiryTime, parseTunnel } from './option-values.js';
import { isBlank } from '../keys/tokens.js';
import { appended, defaultOptionsBuilder, type KeyOptions, type OptionsBuilder } from './key-options.js';

export {
  DEFAULT_KEY_OPTIONS,
  defaultKeyOptions,
  type KeyOptions,
  type KeyPermissions,
} from './key-options.js';

/** sshd's limits in sshauthopt_parse / handle_permit ("> 1024" / "> 4096" before adding one more). */
export const MAX_ENVIRONMENT_ENTRIES = 1024;
export const MAX_PERMIT_ENTRIES = 4096;

type Flag = 'restrict' | 'cert-authority' | Negatable;
type Negatable =
  | 'port-forwarding'
  | 'agent-forwarding'
  | 'x11-forwarding'
  | 'touch-required'
  | 'verify-required'
  | 'pty'
  | 'user-rc';

/** In sshd's order: matching is by case-insensitive prefix, so the order decides ties. */
const FLAGS: readonly { name: Flag; negatable: boolean }[] = [
  { name: 'restrict', negatable: false },
  { name: 'cert-authority', negatable: false },
  { name: 'port-forwarding', negatable: true },
  { name: 'agent-forwarding', negatable: true },
  { name: 'x11-forwarding', negatable: true },
  { name: 'touch-required', negatable: true },
  { name: 'verify-required', negatable: true },
  { name: 'pty', negatable: true },
  { name: 'user-rc', negatable: true },
];

export const VALUED_OPTION_NAMES = [
  'command',
  'principals',
  'from',
  'expiry-time',
  'environment',
  'permitopen',
  'permitlisten',
  'tunnel',
] as const;
export type ValuedOptionName = (typeof VALUED_OPTION_NAMES)[number];

type Candidate = { kind: 'flag'; name: Flag } | { kind: 'valued'; name: ValuedOptionName };

/** sshauthopt_parse tries every flag, then every valued option, in this order (opt_flag, opt_match). */
const CANDIDATES: readonly Candidate[] = [
  ...FLAGS.map((flag): Candidate => ({ kind: 'flag', name: flag.name })),
  ...VALUED_OPTION_NAMES.map((name): Candidate => ({ kind: 'valued', name })),
];
/** After "no-" only the negatable flags can match (no other option name starts with "no-"). */
const NEGATED_CANDIDATES: readonly Candidate[] = FLAGS.filter((flag) => flag.negatable).map(
  (flag): Candidate => ({ kind: 'flag', name: flag.name }),
);

/** ASCII-only case-insensitive "starts with", like strncasecmp in the C locale. */
function startsWithFolded(text: string, at: number, word: string): boolean {
  if (text.length - at < word.length) return false;
  for (let i = 0; i < word.length; i++) {
    let c = text.charCodeAt(at + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

function applyFlag(options: OptionsBuilder, flag: Flag, value: boolean): void {
  switch (flag) {
    case 'restrict':
      options.restrict = true;
      options.permit = {
        portForwarding: false,
        agentForwarding: false,
        x11Forwarding: false,
        pty: false,
        userRc: false,
      };
      return;
    case 'cert-authority':
      options.certAuthority = true;
      return;
    case 'port-forwarding':
      options.permit.portForwarding = value;
      return;
    case 'agent-forwarding':
      options.permit.agentForwarding = value;
      return;
    case 'x11-forwarding':
      options.permit.x11Forwarding = value;
      return;
    case 'touch-required':
      options.noTouchRequired = !value;
      return;
    case 'verify-required':
      options.verifyRequired = value;
      return;
    case 'pty':
      options.permit.pty = value;
      return;
    case 'user-rc':
      options.permit.userRc = value;
      return;
  }
}

/**
 * opt_dequote: a double-quoted value where only \" is an escape. A backslash before a quote always
 * escapes it (a backslash is never escaped itself), so each quote found needs one look back.
 */
function dequote(text: string, at: number): Result<{ value: string; end: number }, AuthorizedKeysError> {
  if (text.charCodeAt(at) !== 34)
    return err(codedError('MISSING_START_QUOTE', 'option value must start with "', at + 1));
  let value = '';
  let runStart = at + 1;
  for (let quote = text.indexOf('"', runStart); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    if (quote > at + 1 && text.charCodeAt(quote - 1) === 92) {
      value += text.slice(runStart, quote - 1); // drop the backslash, keep the quote
      runStart = quote;
      continue;
    }
    return ok({ value: value + text.slice(runStart, quote), end: quote + 1 });
  }
  return err(codedError('MISSING_END_QUOTE', 'option value has no closing "', at + 1));
}

type Failure = { code: AuthorizedKeysErrorCode; message: string };

/** The checks sshd makes before it reads the quoted value (so they win over a quoting error). */
function precheck(options: OptionsBuilder, name: ValuedOptionName): Failure | null {
  switch (name) {
    case 'command':
    case 'principals':
    case 'from': {
      const current =
        name === 'command' ? options.command : name === 'principals' ? options.principals : options.from;
      return current === null ? null : { code: 'DUPLICATE_OPTION', message: `multiple "${name}" clauses` };
    }
    case 'environment':
      return options.environment.length > MAX_ENVIRONMENT_ENTRIES
        ? { code: 'TOO_MANY_ENVIRONMENT', message: 'too many environment strings' }
        : null;
    case 'permitopen':
    case 'permitlisten':
      return (name === 'permitopen' ? options.permitOpen : options.permitListen).length > MAX_PERMIT_ENTRIES
        ? { code: 'TOO_MANY_PERMITS', message: 'too many permission directives' }
        : null;
    case 'expiry-time':
    case 'tunnel':
      return null;
  }
}

function applyValued(options: OptionsBuilder, name: ValuedOptionName, value: string): Failure | null {
  switch (name) {
    case 'command':
      options.command = value;
      return null;
    case 'principals':
      options.principals = value;
      return null;
    case 'from':
      options.from = value;
      return null;
    case 'expiry-time':
      if (!isValidExpiryTime(value)) return { code: 'INVALID_EXPIRY_TIME', message: 'invalid expires time' };
      options.expiryTime = appended(options.expiryTime, value);
      return null;
    case 'environment': {
      const equals = value.indexOf('=');
      if (equals === -1 || !isValidEnvName(value.slice(0, equals)))
        return { code: 'INVALID_ENVIRONMENT', message: 'invalid environment string' };
      // sshd keeps the first setting of a name and silently drops later ones.
      const prefix = value.slice(0, equals + 1);
      if (!options.environment.some((entry) => entry.startsWith(prefix)))
        options.environment = appended(options.environment, value);
      return null;
    }
    case 'permitopen':
    case 'permitlisten': {
      const spec = name === 'permitlisten' && !value.includes(':') ? `*:${value}` : value;
      const verdict = checkPermit(spec);
      if (verdict === 'host') return { code: 'INVALID_PERMIT_HOST', message: 'invalid permission hostname' };
      if (verdict === 'port') return { code: 'INVALID_PERMIT_PORT', message: 'invalid permission port' };
      if (name === 'permitopen') options.permitOpen = appended(options.permitOpen, spec);
      else options.permitListen = appended(options.permitListen, spec);
      return null;
    }
    case 'tunnel': {
      const tunnel = parseTunnel(value);
      if (tunnel === null) return { code: 'INVALID_TUNNEL', message: 'invalid tun device' };
      options.tunnel = tunnel;
      return null;
    }
  }
}

/**
 * sshauthopt_parse over `text` from `start`: returns the options and the index where parsing
 * stopped (end of text or a blank). `text` may continue past the options field (a whole line).
 */
export function parseOptionsAt(
  text: string,
  start: number,
): Result<{ options: KeyOptions; end: number }, AuthorizedKeysError> {
  const options = defaultOptionsBuilder();
  let i = start;
  while (i < text.length && !isBlank(text.charCodeAt(i))) {
    const itemStart = i;
    const negated = startsWithFolded(text, i, 'no-');
    const nameStart = negated ? i + 3 : i;
    for (const candidate of negated ? NEGATED_CANDIDATES : CANDIDATES) {
      const { name } = candidate;
      if (!startsWithFolded(text, nameStart, name)) continue;
      if (candidate.kind === 'flag') {
        applyFlag(options, candidate.name, !negated);
        i = nameStart + name.length;
        break;
      }
      if (text.charCodeAt(nameStart + name.length) !== 61) continue; // "=" must follow at once
      const refused = precheck(options, candidate.name);
      if (refused !== null) return err(codedError(refused.code, refused.message, itemStart + 1));
      const quoted = dequote(text, nameStart + name.length + 1);
      if (!quoted.ok) return quoted;
      const failure = applyValued(options, candidate.name, quoted.value.value);
      if (failure !== null) return err(codedError(failure.code, failure.message, itemStart + 1));
      i = quoted.value.end;
      break;
    }
    if (i >= text.length || isBlank(text.charCodeAt(i))) break;
    if (text.charCodeAt(i) !== 44)
      return err(codedError('UNKNOWN_OPTION', 'unknown key option', itemStart + 1));
    i++;
    if (i >= text.length) return err(codedError('UNEXPECTED_END_OF_OPTIONS', 'unexpected end-of-options', i));
  }
  return ok({ options, end: i });
}

/** Parses an options field on its own (no key after it); it must be consumed entirely. */
export function parseKeyOptions(text: string): Result<KeyOptions, AuthorizedKeysError> {
  const parsed = parseOptionsAt(text, 0);
  if (!parsed.ok) return parsed;
  if (parsed.value.end !== text.length)
    return err(codedError('TRAILING_TEXT', 'a blank ends the options field early', parsed.value.end + 1));
  return ok(parsed.value.options);
}
