/**
 * The shapes `psm keys inspect` prints: the issue's JSON Lines schema and a readable table.
 * Loaded lazily by src/cli/keys.ts (it pulls in the parsers' types only).
 */
import type {
  AuthorizedKeysEntry,
  AuthorizedKeysError,
  KeyOptions,
  ParsedLine,
} from '../authorized-keys/index.js';
import { DEFAULT_KEY_OPTIONS } from '../authorized-keys/lines/key-options.js';
import type { KnownHostsFileLine } from '../authorized-keys/known-hosts/index.js';
import { serializeHostField } from '../authorized-keys/known-hosts/line.js';
import { permitFlags } from '../authorized-keys/lines/serialize.js';

interface ErrorJson {
  code: string;
  message: string;
  column: number | null;
}

export interface AuthorizedKeysLineJson {
  line: number;
  kind: 'key' | 'comment' | 'blank' | 'invalid';
  error: ErrorJson | null;
  options: KeyOptions | null;
  key: { type: string; bits: number; fingerprint: string } | null;
  comment: string | null;
}

function errorJson(error: { code: string; message: string; column?: number }): ErrorJson {
  return { code: error.code, message: error.message, column: error.column ?? null };
}

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

const DEFAULT_OPTIONS_JSON = JSON.stringify(DEFAULT_KEY_OPTIONS);

/**
 * JSON.stringify(authorizedKeysJson(row)). A line without options holds the one shared
 * DEFAULT_KEY_OPTIONS, whose JSON (most of the line) is written once here instead of once per
 * line; a unit test holds this to JSON.stringify for every kind of line.
 */
export function authorizedKeysJsonLine(row: ParsedLine): string {
  const value = authorizedKeysJson(row);
  if (value.options !== DEFAULT_KEY_OPTIONS) return JSON.stringify(value);
  const rest = JSON.stringify({ key: value.key, comment: value.comment }).slice(1);
  return `{"line":${JSON.stringify(value.line)},"kind":"key","error":null,"options":${DEFAULT_OPTIONS_JSON},${rest}`;
}

/** A short, human summary of the options that differ from sshd's defaults. */
export function describeOptions(options: KeyOptions): string {
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

function describeError(
  error: AuthorizedKeysError | { code: string; message: string; column?: number },
): string {
  const where = error.column === undefined ? '' : ` (column ${error.column})`;
  return `${error.code}: ${error.message}${where}`;
}

/**
 * The LINE column. The digits come from JSON.stringify, not String(): V8 keeps each String(n)
 * result in its number-to-string cache, so a table of a million distinct line numbers kept
 * every recent one alive through young collections and the heap grew with the file.
 */
function lineColumn(line: number): string {
  return JSON.stringify(line).padEnd(5);
}

/**
 * How inspect reports one file format, a line at a time: the JSON object of a line, or the table
 * (a header, each line's rows, a summary that counts the lines holding a key).
 */
export interface LineReport<Row extends { readonly result: { readonly ok: boolean } }> {
  readonly tableHeader: string;
  /** The line's JSON object, as one line of text. */
  jsonLine(row: Row): string;
  tableRows(row: Row): string[];
  holdsKey(row: Row): boolean;
  tableSummary(lines: number, withKey: number, invalid: number): string;
}

export const AUTHORIZED_KEYS_REPORT: LineReport<ParsedLine> = {
  tableHeader: 'LINE  KIND     TYPE                                  BITS  FINGERPRINT / ERROR',
  jsonLine: authorizedKeysJsonLine,
  tableRows: authorizedKeysTableRows,
  holdsKey: (row) => row.result.ok && row.result.value.kind === 'key',
  tableSummary: (lines, keys, invalid) => `${lines} lines: ${keys} keys, ${invalid} invalid`,
};

/** The table's lines for one parsed line: two for a key, one for an invalid line, none otherwise. */
function authorizedKeysTableRows(row: ParsedLine): string[] {
  const number = lineColumn(row.line);
  if (!row.result.ok) return [`${number} invalid  ${describeError(row.result.error)}`];
  const entry = row.result.value;
  if (entry.kind !== 'key') return [];
  return [
    `${number} key      ${entry.key.type.padEnd(37)} ${String(entry.key.bits).padEnd(5)} ${entry.key.fingerprint}`,
    `                 options: ${describeOptions(entry.options)}${entry.comment === null ? '' : `  comment: ${entry.comment}`}`,
  ];
}

export function knownHostsJson(row: KnownHostsFileLine): Record<string, unknown> {
  const empty = { marker: null, hosts: null, key: null, comment: null };
  if (!row.result.ok)
    return { line: row.line, kind: 'invalid', error: errorJson(row.result.error), ...empty };
  const value = row.result.value;
  if (value.kind !== 'entry') return { line: row.line, kind: value.kind, error: null, ...empty };
  return {
    line: row.line,
    kind: 'entry',
    error: null,
    marker: value.marker,
    hosts: serializeHostField(value.hosts),
    key: { type: value.key.type, bits: value.key.bits, fingerprint: value.key.fingerprint },
    comment: value.comment,
  };
}

/** The table's lines for one parsed line: two for an entry, one for an invalid line, none otherwise. */
function knownHostsTableRows(row: KnownHostsFileLine): string[] {
  const number = lineColumn(row.line);
  if (!row.result.ok) return [`${number} invalid  ${describeError(row.result.error)}`];
  const value = row.result.value;
  if (value.kind !== 'entry') return [];
  const marker = value.marker === null ? '' : `@${value.marker} `;
  return [
    `${number} entry    ${marker}${serializeHostField(value.hosts)}`,
    `                 ${value.key.type} ${value.key.bits} ${value.key.fingerprint}`,
  ];
}

export const KNOWN_HOSTS_REPORT: LineReport<KnownHostsFileLine> = {
  tableHeader: 'LINE  KIND     HOSTS / ERROR',
  jsonLine: (row) => JSON.stringify(knownHostsJson(row)),
  tableRows: knownHostsTableRows,
  holdsKey: (row) => row.result.ok && row.result.value.kind === 'entry',
  tableSummary: (lines, entries, invalid) => `${lines} lines: ${entries} entries, ${invalid} invalid`,
};
