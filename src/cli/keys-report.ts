/**
 * How `psm keys inspect` prints an authorized_keys line: as JSON (keys-json.ts) or as rows of a
 * readable table. Loaded lazily by src/cli/keys.ts.
 */
import type { KeyOptions, ParsedLine } from '../authorized-keys/index.js';
import { DEFAULT_KEY_OPTIONS } from '../authorized-keys/lines/key-options.js';
import { permitFlags } from '../authorized-keys/lines/serialize.js';
import { escapeLine } from '../common/terminal-text.js';
import { writeAuthorizedKeysJson } from './keys-json.js';
import { describeError, lineColumn, type LineReport, type LineSink } from './line-report.js';

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
  writeJson: writeAuthorizedKeysJson,
  tableRows: authorizedKeysTableRows,
  holdsKey: (row) => row.result.ok && row.result.value.kind === 'key',
  tableSummary: (lines, keys, invalid) => `${lines} lines: ${keys} keys, ${invalid} invalid`,
};
