/**
 * How `psm keys inspect` prints an authorized_keys line: as JSON (keys-json.ts) or as rows of a
 * readable table. Loaded lazily by src/cli/keys.ts.
 */
import type { KeyOptions, ParsedLine } from '../authorized-keys/index.js';
import { DEFAULT_KEY_OPTIONS } from '../authorized-keys/lines/key-options.js';
import { permitFlags } from '../authorized-keys/lines/serialize.js';
import { escapeLine } from '../common/terminal-text.js';
import { writeAuthorizedKeysJson } from './keys-json.js';
import type { ChunkedWriter } from './chunked-output.js';
import { describeError, lineColumn, type LineReport } from './line-report.js';

/** A short, human summary of the options that differ from sshd's defaults. */
export function describeOptions(options: KeyOptions): string {
  if (options === DEFAULT_KEY_OPTIONS) return '-';
  const parts: string[] = [];
  if (options.restrict) parts.push('restrict');
  for (const [allowed, name] of permitFlags(options))
    if (allowed === options.restrict) parts.push(allowed ? `+${name}` : `no-${name}`);
  if (options.certAuthority) parts.push('cert-authority');
  if (options.noTouchRequired) parts.push('no-touch-required');
  if (options.verifyRequired) parts.push('verify-required');
  if (options.command !== null) parts.push(`command=${JSON.stringify(options.command)}`);
  if (options.principals !== null) parts.push(`principals=${JSON.stringify(options.principals)}`);
  if (options.from !== null) parts.push(`from=${JSON.stringify(options.from)}`);
  for (const env of options.environment) parts.push(`environment=${JSON.stringify(env)}`);
  for (const open of options.permitOpen) parts.push(`permitopen=${open}`);
  for (const listen of options.permitListen) parts.push(`permitlisten=${listen}`);
  for (const expiry of options.expiryTime) parts.push(`expiry-time=${expiry}`);
  if (options.tunnel !== null) parts.push(`tunnel=${options.tunnel}`);
  return parts.length === 0 ? '-' : parts.join(',');
}

const encoded = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const KIND_KEY = encoded(' key      ');
const OPTIONS_LABEL = encoded('\n                 options: ');
const COMMENT_LABEL = encoded('  comment: ');
const LINE_WIDTH = 5;
const TYPE_WIDTH = 37;
const BITS_WIDTH = 5;
/** Bytes of a key's two rows besides the type, fingerprint, options and comment. */
const KEY_ROWS_FIXED_BYTES =
  2 * 16 + TYPE_WIDTH + BITS_WIDTH + 3 + 2 + KIND_KEY.length + OPTIONS_LABEL.length + COMMENT_LABEL.length;
const MAX_UTF8_PER_UNIT = 3;

/**
 * Two rows for a key, one for an invalid line, none otherwise. Options, comments and error
 * messages (which quote the file) are escaped; the key row is psm's own ASCII (line number, type
 * name, bits, fingerprint), which escaping would give back unchanged. A key's rows are written
 * into the output in pieces (a unit test holds them to the rows as strings), or as strings when
 * they are too long for a chunk.
 */
function authorizedKeysTableRows(row: ParsedLine, out: ChunkedWriter): void {
  if (!row.result.ok) {
    out.line(escapeLine(`${lineColumn(row.line)} invalid  ${describeError(row.result.error)}`));
    return;
  }
  const entry = row.result.value;
  if (entry.kind !== 'key') return;
  const { key } = entry;
  const fingerprint = key.fingerprint;
  // Each piece escaped on its own escapes as the whole row would: none splits a surrogate pair.
  const options = escapeLine(describeOptions(entry.options));
  const comment = entry.comment === null ? null : escapeLine(entry.comment);
  const bound =
    KEY_ROWS_FIXED_BYTES +
    key.type.length +
    fingerprint.length +
    MAX_UTF8_PER_UNIT * (options.length + (comment === null ? 0 : comment.length));
  if (!out.room(bound)) {
    out.line(
      `${lineColumn(row.line)} key      ${key.type.padEnd(TYPE_WIDTH)} ${String(key.bits).padEnd(BITS_WIDTH)} ${fingerprint}`,
    );
    out.line(`                 options: ${options}${comment === null ? '' : `  comment: ${comment}`}`);
    return;
  }
  out.spaces(LINE_WIDTH - out.digits(row.line));
  out.bytes(KIND_KEY);
  out.latin1(key.type);
  // padEnd and then the column's blank: a longer name or number still gets one blank.
  out.spaces(Math.max(TYPE_WIDTH - key.type.length, 0) + 1);
  out.spaces(Math.max(BITS_WIDTH - out.digits(key.bits), 0) + 1);
  out.latin1(fingerprint);
  out.bytes(OPTIONS_LABEL);
  out.utf8(options);
  if (comment !== null) {
    out.bytes(COMMENT_LABEL);
    out.utf8(comment);
  }
  out.newline();
}

export const AUTHORIZED_KEYS_REPORT: LineReport<ParsedLine> = {
  tableHeader: 'LINE  KIND     TYPE                                  BITS  FINGERPRINT / ERROR',
  writeJson: writeAuthorizedKeysJson,
  tableRows: authorizedKeysTableRows,
  holdsKey: (row) => row.result.ok && row.result.value.kind === 'key',
  tableSummary: (lines, keys, invalid) => `${lines} lines: ${keys} keys, ${invalid} invalid`,
};
