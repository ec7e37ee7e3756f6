/**
 * `psm keys inspect --json` for authorized_keys: the JSON Lines schema. Loaded lazily by
 * src/cli/keys.ts.
 */
import type { AuthorizedKeysEntry, KeyOptions, ParsedLine } from '../authorized-keys/index.js';
import { DEFAULT_KEY_OPTIONS } from '../authorized-keys/lines/key-options.js';
import type { ChunkedWriter } from './chunked-output.js';
import { errorJson, type ErrorJson } from './line-report.js';

export interface AuthorizedKeysLineJson {
  line: number;
  kind: 'key' | 'comment' | 'blank' | 'invalid';
  error: ErrorJson | null;
  options: KeyOptions | null;
  key: { type: string; bits: number; fingerprint: string } | null;
  comment: string | null;
}

/** A line's JSON object: the documented schema, its property order included. */
export function authorizedKeysJson(row: ParsedLine): AuthorizedKeysLineJson {
  // Property order is the documented schema order: line, kind, error, options, key, comment.
  if (!row.result.ok)
    return {
      line: row.line,
      kind: 'invalid',
      error: errorJson(row.result.error),
      options: null,
      key: null,
      comment: null,
    };
  const entry: AuthorizedKeysEntry = row.result.value;
  if (entry.kind !== 'key')
    return { line: row.line, kind: entry.kind, error: null, options: null, key: null, comment: null };
  return {
    line: row.line,
    kind: 'key',
    error: null,
    options: entry.options,
    key: { type: entry.key.type, bits: entry.key.bits, fingerprint: entry.key.fingerprint },
    comment: entry.comment,
  };
}

const stringOrNull = (text: string | null): string => (text === null ? 'null' : JSON.stringify(text));
// Most lists are empty and most values null: their JSON is known without asking JSON.stringify.
const list = (items: readonly string[]): string => (items.length === 0 ? '[]' : JSON.stringify(items));
const tunnel = (value: KeyOptions['tunnel']): string => (value === null ? 'null' : JSON.stringify(value));

/** JSON.stringify(options): the fields of KeyOptions in their declared order. */
function optionsJson(options: KeyOptions): string {
  const { permit } = options;
  return (
    `{"restrict":${options.restrict},"permit":{"portForwarding":${permit.portForwarding},` +
    `"agentForwarding":${permit.agentForwarding},"x11Forwarding":${permit.x11Forwarding},` +
    `"pty":${permit.pty},"userRc":${permit.userRc}},"certAuthority":${options.certAuthority},` +
    `"noTouchRequired":${options.noTouchRequired},"verifyRequired":${options.verifyRequired},` +
    `"command":${stringOrNull(options.command)},"principals":${stringOrNull(options.principals)},` +
    `"from":${stringOrNull(options.from)},"environment":${list(options.environment)},` +
    `"permitOpen":${list(options.permitOpen)},"permitListen":${list(options.permitListen)},` +
    `"expiryTime":${list(options.expiryTime)},"tunnel":${tunnel(options.tunnel)}}`
  );
}

const encoded = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const LINE = encoded('{"line":');
const KIND_KEY = encoded(',"kind":"key","error":null,"options":');
const DEFAULT_OPTIONS_AND_TYPE = encoded(`${JSON.stringify(DEFAULT_KEY_OPTIONS)},"key":{"type":"`);
const TYPE = encoded(',"key":{"type":"');
const BITS = encoded('","bits":');
const FINGERPRINT = encoded(',"fingerprint":"');
const COMMENT = encoded('"},"comment":');
const END = encoded('}');
const NOT_A_KEY = {
  blank: encoded(',"kind":"blank","error":null,"options":null,"key":null,"comment":null}'),
  comment: encoded(',"kind":"comment","error":null,"options":null,"key":null,"comment":null}'),
};
/** Bytes of a key line besides its strings: the constant parts and the digits of two numbers. */
const KEY_LINE_FIXED_BYTES =
  2 * 16 +
  [LINE, KIND_KEY, DEFAULT_OPTIONS_AND_TYPE, TYPE, BITS, FINGERPRINT, COMMENT, END].reduce(
    (sum, part) => sum + part.length,
    1,
  );
const MAX_UTF8_PER_UNIT = 3;

/**
 * JSON.stringify(authorizedKeysJson(row)) and a line feed, written into the output in pieces: no
 * object and no string of the whole line per input line (a unit test holds the bytes to
 * JSON.stringify for every kind of line). Key type names and fingerprints are ASCII without
 * quotes or backslashes, so they are written as they are; text from the file (options, comment)
 * goes through JSON.stringify. Invalid lines, and lines too long for a chunk, are written from
 * the object itself.
 */
export function writeAuthorizedKeysJson(row: ParsedLine, out: ChunkedWriter): void {
  const entry = row.result.ok ? row.result.value : null;
  if (entry === null || !out.room(KEY_LINE_FIXED_BYTES)) {
    out.line(JSON.stringify(authorizedKeysJson(row)));
    return;
  }
  if (entry.kind !== 'key') {
    out.bytes(LINE);
    out.digits(row.line);
    out.bytes(NOT_A_KEY[entry.kind]);
    out.newline();
    return;
  }
  const { key } = entry;
  const options = entry.options === DEFAULT_KEY_OPTIONS ? null : optionsJson(entry.options);
  const comment = stringOrNull(entry.comment);
  const fingerprint = key.fingerprint;
  const bound =
    KEY_LINE_FIXED_BYTES +
    key.type.length +
    fingerprint.length +
    MAX_UTF8_PER_UNIT * (comment.length + (options === null ? 0 : options.length));
  if (!out.room(bound)) {
    out.line(JSON.stringify(authorizedKeysJson(row)));
    return;
  }
  out.bytes(LINE);
  out.digits(row.line);
  out.bytes(KIND_KEY);
  if (options === null) out.bytes(DEFAULT_OPTIONS_AND_TYPE);
  else {
    out.utf8(options);
    out.bytes(TYPE);
  }
  out.latin1(key.type);
  out.bytes(BITS);
  out.digits(key.bits);
  out.bytes(FINGERPRINT);
  out.latin1(fingerprint);
  out.bytes(COMMENT);
  out.utf8(comment);
  out.bytes(END);
  out.newline();
}
