/**
 * How `psm keys inspect` prints an authorized_keys line: the JSON Lines schema or rows of
 * a readable table. Loaded lazily by src/cli/keys.ts.
 */
import type { AuthorizedKeysEntry, KeyOptions, ParsedLine } from '../authorized-keys/index.js';
import { DEFAULT_KEY_OPTIONS } from '../authorized-keys/lines/key-options.js';
import { permitFlags } from '../authorized-keys/lines/serialize.js';
import { escapeLine } from '../common/terminal-text.js';
import {
  describeError,
  errorJson,
  lineColumn,
  type ErrorJson,
  type LineReport,
  type LineSink,
} from './line-report.js';

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

const DEFAULT_OPTIONS_JSON = JSON.stringify(DEFAULT_KEY_OPTIONS);

const stringOrNull = (text: string | null): string => (text === null ? 'null' : JSON.stringify(text));

/** JSON.stringify(options): the fields of KeyOptions in their declared order. */
function optionsJson(options: KeyOptions): string {
  if (options === DEFAULT_KEY_OPTIONS) return DEFAULT_OPTIONS_JSON;
  const { permit } = options;
  return (
    `{"restrict":${options.restrict},"permit":{"portForwarding":${permit.portForwarding},` +
    `"agentForwarding":${permit.agentForwarding},"x11Forwarding":${permit.x11Forwarding},` +
    `"pty":${permit.pty},"userRc":${permit.userRc}},"certAuthority":${options.certAuthority},` +
    `"noTouchRequired":${options.noTouchRequired},"verifyRequired":${options.verifyRequired},` +
    `"command":${stringOrNull(options.command)},"principals":${stringOrNull(options.principals)},` +
    `"from":${stringOrNull(options.from)},"environment":${JSON.stringify(options.environment)},` +
    `"permitOpen":${JSON.stringify(options.permitOpen)},` +
    `"permitListen":${JSON.stringify(options.permitListen)},` +
    `"expiryTime":${JSON.stringify(options.expiryTime)},"tunnel":${JSON.stringify(options.tunnel)}}`
  );
}

/**
 * JSON.stringify(authorizedKeysJson(row)), written out field by field: one string per line
 * instead of an object per line and a walk over it (a unit test holds the two equal for every
 * kind of line). Key type names and fingerprints are ASCII without quotes or backslashes, so
 * they are written as they are; everything from the file goes through JSON.stringify.
 */
export function authorizedKeysJsonLine(row: ParsedLine): string {
  if (!row.result.ok) return JSON.stringify(authorizedKeysJson(row));
  const entry = row.result.value;
  // The digits come from JSON.stringify for the reason lineColumn gives.
  const line = JSON.stringify(row.line);
  if (entry.kind !== 'key')
    return `{"line":${line},"kind":"${entry.kind}","error":null,"options":null,"key":null,"comment":null}`;
  const { key } = entry;
  return (
    `{"line":${line},"kind":"key","error":null,"options":${optionsJson(entry.options)},` +
    `"key":{"type":"${key.type}","bits":${key.bits},"fingerprint":"${key.fingerprint}"},` +
    `"comment":${stringOrNull(entry.comment)}}`
  );
}

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

/**
 * Two rows for a key, one for an invalid line, none otherwise. Options, comments and error
 * messages (which quote the file) are escaped; the key row is psm's own ASCII (line number, type
 * name, bits, fingerprint), which escaping would give back unchanged.
 */
function authorizedKeysTableRows(row: ParsedLine, out: LineSink): void {
  const number = lineColumn(row.line);
  if (!row.result.ok) {
    out.line(escapeLine(`${number} invalid  ${describeError(row.result.error)}`));
    return;
  }
  const entry = row.result.value;
  if (entry.kind !== 'key') return;
  const { key } = entry;
  out.line(`${number} key      ${key.type.padEnd(37)} ${String(key.bits).padEnd(5)} ${key.fingerprint}`);
  const comment = entry.comment === null ? '' : `  comment: ${entry.comment}`;
  out.line(escapeLine(`                 options: ${describeOptions(entry.options)}${comment}`));
}

export const AUTHORIZED_KEYS_REPORT: LineReport<ParsedLine> = {
  tableHeader: 'LINE  KIND     TYPE                                  BITS  FINGERPRINT / ERROR',
  jsonLine: authorizedKeysJsonLine,
  tableRows: authorizedKeysTableRows,
  holdsKey: (row) => row.result.ok && row.result.value.kind === 'key',
  tableSummary: (lines, keys, invalid) => `${lines} lines: ${keys} keys, ${invalid} invalid`,
};
