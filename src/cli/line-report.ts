/**
 * What `psm keys inspect` needs of a file format's report, and the pieces the formats share.
 * Each format's report is its own file (keys-report.ts, known-hosts-report.ts), loaded only when
 * that format is inspected.
 */

import type { ChunkedWriter } from './chunked-output.js';

/**
 * How inspect reports one file format, a line at a time: the JSON object of a line, or the table
 * (a header, each line's rows, a summary that counts the lines holding a key).
 */
export interface LineReport<Row extends { readonly result: { readonly ok: boolean } }> {
  readonly tableHeader: string;
  /** The line's JSON object as one line of text, exact (never escaped). */
  writeJson(row: Row, out: ChunkedWriter): void;
  /** The line's table rows, with the text that came from the file escaped for a terminal. */
  tableRows(row: Row, out: ChunkedWriter): void;
  holdsKey(row: Row): boolean;
  tableSummary(lines: number, withKey: number, invalid: number): string;
}

export interface ErrorJson {
  code: string;
  message: string;
  column: number | null;
}

export function errorJson(error: { code: string; message: string; column?: number }): ErrorJson {
  return { code: error.code, message: error.message, column: error.column ?? null };
}

export function describeError(error: { code: string; message: string; column?: number }): string {
  const where = error.column === undefined ? '' : ` (column ${error.column})`;
  return `${error.code}: ${error.message}${where}`;
}

/**
 * The LINE column. The digits come from JSON.stringify, not String(): V8 keeps each String(n)
 * result in its number-to-string cache, so a table of a million distinct line numbers kept
 * every recent one alive through young collections and the heap grew with the file.
 */
export function lineColumn(line: number): string {
  return JSON.stringify(line).padEnd(5);
}
