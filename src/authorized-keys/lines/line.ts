import { ByteLines, type RawLine } from '../../common/byte-lines.js';
import { codedError, err, ok, type Result } from '../../common/result.js';
import type { AuthorizedKeysError } from './errors.js';
import { textKeyType } from '../keys/key-types.js';
import { DEFAULT_KEY_OPTIONS, parseOptionsAt, type KeyOptions } from './options.js';
import { readKeyField, readTypedKeyField, type PublicKey } from '../keys/public-key.js';
import { isBlank, skipBlanks, tokenEnd } from '../keys/tokens.js';

/**
 * The longest line psm reads, in characters. sshd has no limit (getline); psm bounds the work a
 * hostile file can cause and reports LINE_TOO_LONG instead (a documented deviation).
 */
export const MAX_LINE_LENGTH = 128 * 1024;

export type AuthorizedKeysEntry =
  | { readonly kind: 'blank' }
  | { readonly kind: 'comment'; readonly text: string }
  | {
      readonly kind: 'key';
      readonly options: KeyOptions;
      readonly key: PublicKey;
      readonly comment: string | null;
    };

/** Characters psm refuses anywhere in a line (stricter than sshd; see docs/authorized-keys.md). */
function checkCharacters(line: string): AuthorizedKeysError | null {
  if (line.length > MAX_LINE_LENGTH)
    return codedError(
      'LINE_TOO_LONG',
      `line is longer than ${MAX_LINE_LENGTH} characters`,
      MAX_LINE_LENGTH + 1,
    );
  const nul = line.indexOf('\0');
  if (nul !== -1) return codedError('NUL_IN_LINE', 'line contains a NUL byte', nul + 1);
  const cr = line.indexOf('\r');
  if (cr !== -1) return codedError('LINE_BREAK_IN_LINE', 'line contains a carriage return', cr + 1);
  const lf = line.indexOf('\n');
  if (lf !== -1) return codedError('LINE_BREAK_IN_LINE', 'line contains a line feed', lf + 1);
  return null;
}

/** sshkey_advance_past_options: the options field ends at the first blank outside double quotes. */
export function optionsFieldEnd(line: string, start: number): number | null {
  let quoted = false;
  let i = start;
  for (; i < line.length && (quoted || !isBlank(line.charCodeAt(i))); i++) {
    const c = line.charCodeAt(i);
    if (c === 92 && line.charCodeAt(i + 1) === 34) i++;
    else if (c === 34) quoted = !quoted;
  }
  return quoted ? null : i;
}

/**
 * An authorized_keys line's key is read for its fingerprint (`psm keys inspect` prints every
 * one), so it is taken while the key's blob is at hand instead of decoding the blob again.
 */
const FINGERPRINT = 'now';

/**
 * One authorized_keys line (without its line break; one trailing CR is tolerated and dropped),
 * read the way sshd's auth_check_authkey_line does: first as "key [comment]", otherwise as
 * "options key [comment]".
 */
export function parseAuthorizedKeysLine(raw: string): Result<AuthorizedKeysEntry, AuthorizedKeysError> {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const refused = checkCharacters(line);
  if (refused !== null) return err(refused);
  const start = skipBlanks(line, 0);
  if (start === line.length) return ok({ kind: 'blank' });
  if (line.charCodeAt(start) === 35) return ok({ kind: 'comment', text: line.slice(start) });

  // A line that starts with a key type name can only be a key without options (sshd tries
  // "key" first, and an options field never parses as a key type): read it as that, or say why.
  const firstEnd = tokenEnd(line, start);
  const firstToken = line.slice(start, firstEnd);
  const plainType = textKeyType(firstToken);
  if (plainType !== undefined) {
    const plain = readTypedKeyField(line, firstToken, plainType, firstEnd, FINGERPRINT);
    if (!plain.ok) return plain;
    return ok(keyEntry(DEFAULT_KEY_OPTIONS, plain.value.key, line, plain.value.end));
  }

  // On a good options field, sshd's option parser stops at the same blank as
  // sshkey_advance_past_options (both read `\"` as an escape and quotes only inside values), so
  // the field is read once. A property test holds the two ends equal.
  const options = parseOptionsAt(line, start);
  if (options.ok) {
    const key = keyAfterOptions(line, options.value.end);
    return key.ok ? ok(keyEntry(options.value.options, key.value.key, line, key.value.end)) : key;
  }
  // A bad options field: sshd reads the key after it first, and a bad key is what it reports.
  const fieldEnd = optionsFieldEnd(line, start);
  if (fieldEnd === null)
    return err(
      codedError('UNTERMINATED_QUOTE', 'the options field has an unterminated double quote', start + 1),
    );
  const key = keyAfterOptions(line, fieldEnd);
  return key.ok ? options : key;
}

function keyAfterOptions(
  line: string,
  fieldEnd: number,
): Result<{ key: PublicKey; end: number }, AuthorizedKeysError> {
  const keyStart = skipBlanks(line, fieldEnd);
  if (keyStart === line.length)
    return err(codedError('MISSING_KEY', 'no key after the options field', fieldEnd + 1));
  return readKeyField(line, keyStart, FINGERPRINT);
}

function keyEntry(
  options: KeyOptions,
  key: PublicKey,
  line: string,
  commentStart: number,
): AuthorizedKeysEntry {
  const comment = commentStart < line.length ? line.slice(commentStart) : null;
  return { kind: 'key', options, key, comment };
}

// ignoreBOM keeps a byte-order mark in the first line, where sshd sees it too (and refuses the line).

export interface ParsedLine {
  line: number;
  result: Result<AuthorizedKeysEntry, AuthorizedKeysError>;
}

/** Every line of a file, each with its own verdict; a bad line never affects another. */
export function parseAuthorizedKeysFile(data: Uint8Array | string): ParsedLine[] {
  return Array.from(authorizedKeysFileLines(data));
}

/**
 * The lines of parseAuthorizedKeysFile, parsed one at a time as they are asked for: a caller that
 * handles each line and lets it go (psm keys inspect) holds one line's objects at a time instead
 * of the whole file's. A final line break does not start another line.
 */
export function* authorizedKeysFileLines(data: Uint8Array | string): Generator<ParsedLine, void, undefined> {
  if (typeof data !== 'string') {
    const reader = new AuthorizedKeysReader();
    yield* reader.push(data);
    yield* reader.end();
    return;
  }
  for (let start = 0, line = 1; start < data.length; line++) {
    let end = data.indexOf('\n', start);
    if (end === -1) end = data.length;
    yield row(data.slice(start, end), line);
    start = end + 1;
  }
}

/**
 * An authorized_keys file read as its bytes arrive (psm keys inspect streams a file of any size):
 * push() each chunk, then end(); each gives the lines it completes, numbered from 1.
 */
export class AuthorizedKeysReader {
  // A line of MAX_LINE_LENGTH characters has at most four bytes per character.
  readonly #lines = new ByteLines(MAX_LINE_LENGTH * 4);
  #number = 0;

  *push(chunk: Uint8Array): Generator<ParsedLine, void, undefined> {
    for (const raw of this.#lines.push(chunk)) yield this.#row(raw);
  }

  *end(): Generator<ParsedLine, void, undefined> {
    for (const raw of this.#lines.end()) yield this.#row(raw);
  }

  #row(raw: RawLine): ParsedLine {
    this.#number += 1;
    if (typeof raw === 'string') return row(raw, this.#number);
    const error =
      raw.kind === 'too-long'
        ? codedError(
            'LINE_TOO_LONG',
            `line is longer than ${MAX_LINE_LENGTH} characters`,
            MAX_LINE_LENGTH + 1,
          )
        : codedError('INVALID_UTF8', 'line is not valid UTF-8', firstInvalidUtf8(raw.bytes) + 1);
    return row(error, this.#number);
  }
}

function row(entry: string | AuthorizedKeysError, line: number): ParsedLine {
  return {
    line,
    result:
      typeof entry === 'string' ? withLine(parseAuthorizedKeysLine(entry), line) : err({ ...entry, line }),
  };
}

function withLine(
  result: Result<AuthorizedKeysEntry, AuthorizedKeysError>,
  line: number,
): Result<AuthorizedKeysEntry, AuthorizedKeysError> {
  return result.ok ? result : err({ ...result.error, line });
}

/** Index of the first byte that is not part of well-formed UTF-8 (RFC 3629), or -1. Linear. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let code = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}
