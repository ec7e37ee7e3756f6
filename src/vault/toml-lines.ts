import { parse } from 'smol-toml';
import { err, ok, type Result } from '../common/result.js';
import { vaultError, type VaultError } from './errors.js';

/**
 * smol-toml gives no positions for values, and rewriting a whole file with stringify would drop
 * the admin's comments. So psm finds keys by line (for file:line in errors) and edits single
 * lines, then re-parses the result and checks that only the intended values changed.
 */

const HEADER = /^\s*\[\s*([A-Za-z0-9_.\- ]+?)\s*\]\s*(#.*)?$/;
const KEY = /^(\s*)([A-Za-z0-9_-]+)\s*=/;

export interface LineIndex {
  /** "table.key" (or "key" at top level) → 1-based line. */
  readonly keys: ReadonlyMap<string, number>;
  /** "table" → 1-based line of its [table] header. */
  readonly tables: ReadonlyMap<string, number>;
}

export function indexLines(text: string): LineIndex {
  const keys = new Map<string, number>();
  const tables = new Map<string, number>();
  let table = '';
  let inMultiline = false;
  text.split('\n').forEach((line, i) => {
    const quotes = (line.match(/"""|'''/g) ?? []).length;
    const wasInMultiline = inMultiline;
    if (quotes % 2 === 1) inMultiline = !inMultiline;
    if (wasInMultiline) return;
    const header = HEADER.exec(line);
    if (header?.[1] !== undefined) {
      table = header[1].replace(/\s+/g, '');
      if (!tables.has(table)) tables.set(table, i + 1);
      return;
    }
    const key = KEY.exec(line);
    if (key?.[2] !== undefined) {
      const path = table === '' ? key[2] : `${table}.${key[2]}`;
      if (!keys.has(path)) keys.set(path, i + 1);
    }
  });
  return { keys, tables };
}

/** The line of `path`, else of its table's header, else undefined. */
export function lineOf(index: LineIndex, path: string): number | undefined {
  const exact = index.keys.get(path) ?? index.tables.get(path);
  if (exact !== undefined) return exact;
  const dot = path.lastIndexOf('.');
  return dot < 0 ? undefined : (index.tables.get(path.slice(0, dot)) ?? lineOf(index, path.slice(0, dot)));
}

/** One change to a `table.key` line: a new TOML value (already encoded), or removal. */
export interface LineEdit {
  readonly table: string;
  readonly key: string;
  /** The TOML text of the value, e.g. `"psm-sealed:v1:..."` or `3`; undefined removes the key. */
  readonly toml: string | undefined;
  /** The value the parser must then see (for the check). */
  readonly parsed?: unknown;
}

function applyOne(lines: string[], edit: LineEdit): void {
  const index = indexLines(lines.join('\n'));
  const existing = index.keys.get(`${edit.table}.${edit.key}`);
  if (existing !== undefined) {
    const indent = KEY.exec(lines[existing - 1] ?? '')?.[1] ?? '';
    if (edit.toml === undefined) lines.splice(existing - 1, 1);
    else lines[existing - 1] = `${indent}${edit.key} = ${edit.toml}`;
    return;
  }
  if (edit.toml === undefined) return;
  const header = index.tables.get(edit.table);
  if (header === undefined) {
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    lines.push('', `[${edit.table}]`, `${edit.key} = ${edit.toml}`, '');
    return;
  }
  // The end of the table: the last non-blank line before the next header (or the end of file).
  const nextHeader = Math.min(
    ...[...index.tables.values()].filter((line) => line > header),
    lines.length + 1,
  );
  let last = nextHeader - 1;
  while (last > header && (lines[last - 1] ?? '').trim() === '') last -= 1;
  lines.splice(last, 0, `${edit.key} = ${edit.toml}`);
}

type Table = Record<string, unknown>;

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Table).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Applies `edits` to `text` and proves the result: it parses, the edited keys hold exactly the
 * new values, and nothing else changed. Fails closed (CONFIG_INVALID) rather than guessing.
 */
export function applyLineEdits(
  text: string,
  edits: readonly LineEdit[],
  file: string,
): Result<string, VaultError> {
  const lines = text.split('\n');
  for (const edit of edits) applyOne(lines, edit);
  const next = lines.join('\n');
  let before: Table;
  let after: Table;
  try {
    before = JSON.parse(JSON.stringify(parse(text))) as Table;
    after = JSON.parse(JSON.stringify(parse(next))) as Table;
  } catch {
    return err(
      vaultError('CONFIG_INVALID', 'the configuration cannot be edited safely: it does not parse', { file }),
    );
  }
  for (const edit of edits) {
    const table = (before[edit.table] ??= {}) as Table;
    if (edit.toml === undefined) delete table[edit.key];
    else table[edit.key] = edit.parsed;
  }
  if (canonical(before) !== canonical(after))
    return err(
      vaultError(
        'CONFIG_INVALID',
        'the configuration cannot be edited safely line by line (dotted keys, inline tables or multi-line values around the edited key?); edit it by hand',
        { file },
      ),
    );
  return ok(next);
}
