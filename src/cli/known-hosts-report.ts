/** How `psm keys inspect --format known_hosts` prints a line: its JSON object or table rows. */
import type { KnownHostsFileLine } from '../authorized-keys/known-hosts/index.js';
import { serializeHostField } from '../authorized-keys/known-hosts/line.js';
import { escapeLine } from '../common/terminal-text.js';
import type { ChunkedWriter } from './chunked-output.js';
import { describeError, errorJson, lineColumn, type LineReport } from './line-report.js';

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

/** Two rows for an entry, one for an invalid line, none otherwise; host names come from the file. */
function knownHostsTableRows(row: KnownHostsFileLine, out: ChunkedWriter): void {
  const number = lineColumn(row.line);
  if (!row.result.ok) {
    out.line(escapeLine(`${number} invalid  ${describeError(row.result.error)}`));
    return;
  }
  const value = row.result.value;
  if (value.kind !== 'entry') return;
  const marker = value.marker === null ? '' : `@${value.marker} `;
  out.line(escapeLine(`${number} entry    ${marker}${serializeHostField(value.hosts)}`));
  out.line(escapeLine(`                 ${value.key.type} ${value.key.bits} ${value.key.fingerprint}`));
}

export const KNOWN_HOSTS_REPORT: LineReport<KnownHostsFileLine> = {
  tableHeader: 'LINE  KIND     HOSTS / ERROR',
  writeJson: (row, out) => out.line(JSON.stringify(knownHostsJson(row))),
  tableRows: knownHostsTableRows,
  holdsKey: (row) => row.result.ok && row.result.value.kind === 'entry',
  tableSummary: (lines, entries, invalid) => `${lines} lines: ${entries} entries, ${invalid} invalid`,
};
