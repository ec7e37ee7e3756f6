/**
 * One known_hosts line, read as OpenSSH 9.x hostfile.c hostkeys_foreach_file reads it:
 * `[@cert-authority|@revoked] hosts keytype base64 [comment]`, blank lines and `#` comments.
 * psm is stricter than ssh where ssh would silently never match (see docs/known-hosts.md).
 */
import { codedError, err, ok, type Result } from '../../common/result.js';
import type { KnownHostsError } from './errors.js';
import { parseHashedHost, serializeHashedHost, type HashedHost } from './hash.js';
import { parseHostPatterns, serializeHostPatterns, type HostPattern } from './pattern.js';
import { readKeyField, type PublicKey } from '../keys/public-key.js';
import { skipBlanks, tokenEnd } from '../keys/tokens.js';

export type KnownHostsMarker = 'cert-authority' | 'revoked';

export type HostField =
  | { readonly kind: 'hashed'; readonly hashed: HashedHost }
  | { readonly kind: 'patterns'; readonly patterns: readonly HostPattern[] };

export interface KnownHostsEntry {
  readonly kind: 'entry';
  readonly marker: KnownHostsMarker | null;
  readonly hosts: HostField;
  readonly key: PublicKey;
  /** Everything after the key and the blanks that follow it, verbatim; null when there is nothing. */
  readonly comment: string | null;
}

export interface KnownHostsText {
  readonly kind: 'comment' | 'blank';
  /** The line exactly as read, so rewriting a file keeps it byte for byte. */
  readonly text: string;
}

export type KnownHostsLine = KnownHostsEntry | KnownHostsText;

const MARKERS: Readonly<Record<string, KnownHostsMarker>> = {
  '@cert-authority': 'cert-authority',
  '@revoked': 'revoked',
};
/** Control characters other than tab (NUL, CR, ESC, DEL...): never part of a valid line. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Parses one line (without its `\n`). Never throws on bad input. */
export function parseKnownHostsLine(text: string): Result<KnownHostsLine, KnownHostsError> {
  const control = text.search(CONTROL);
  if (control >= 0) {
    const code = text.charCodeAt(control);
    const hint = code === 0x0d ? ' (Windows line ending?)' : '';
    return err(
      codedError(
        'CONTROL_CHARACTER',
        `control character U+${code.toString(16).padStart(4, '0')} in the line${hint}`,
        control + 1,
      ),
    );
  }
  const head = readKnownHostsHead(text);
  if (!head.ok) return head;
  if (head.value.kind !== 'head') return ok(head.value);
  const { marker, hosts, keyStart } = head.value;
  const keyField = readKeyField(text, keyStart);
  if (!keyField.ok)
    return err(codedError('BAD_KEY', `${keyField.error.code}: ${keyField.error.message}`, keyStart + 1));
  const commentStart = keyField.value.end;
  const comment = commentStart < text.length ? text.slice(commentStart) : null;
  return ok({ kind: 'entry', marker, hosts, key: keyField.value.key, comment });
}

/** A line read up to its key: the marker, the host field, and where the key field starts. */
export interface KnownHostsHead {
  readonly kind: 'head';
  readonly marker: KnownHostsMarker | null;
  readonly hosts: HostField;
  /** Index of the key type's first character (ssh's `rawkey`). */
  readonly keyStart: number;
}

/**
 * Everything parseKnownHostsLine checks before the key, in the same order, without the control
 * character check of the whole line: what decides whether a line applies to a host. A lookup
 * reads the key of the lines that apply only, and hashing carries keys verbatim (hostfile.c
 * hostkeys_foreach_file parses a key only when asked to, and only for matching lines).
 */
export function readKnownHostsHead(text: string): Result<KnownHostsHead | KnownHostsText, KnownHostsError> {
  let pos = skipBlanks(text, 0);
  if (pos === text.length) return ok({ kind: 'blank', text });
  if (text[pos] === '#') return ok({ kind: 'comment', text });

  const marked = readMarker(text, pos);
  if (!marked.ok) return marked;
  pos = marked.value.end;

  const hostsStart = pos;
  pos = tokenEnd(text, pos);
  if (pos === text.length)
    return err(codedError('MISSING_KEY', 'line ends after the host field', hostsStart + 1));
  const hosts = parseHostField(text.slice(hostsStart, pos), hostsStart);
  if (!hosts.ok) return hosts;

  pos = skipBlanks(text, pos);
  if (pos === text.length || text[pos] === '#')
    return err(codedError('MISSING_KEY', 'no key after the host field', pos + 1));
  return ok({ kind: 'head', marker: marked.value.marker, hosts: hosts.value, keyStart: pos });
}

/**
 * hostfile.c check_markers: a marker runs up to the first space in the rest of the line (or, if
 * there is none, the first tab) and must then be exactly `@cert-authority` or `@revoked`; a second
 * marker is an error. Copying that rule keeps psm refusing exactly the marker lines ssh refuses.
 */
function readMarker(
  text: string,
  start: number,
): Result<{ marker: KnownHostsMarker | null; end: number }, KnownHostsError> {
  let pos = start;
  let marker: KnownHostsMarker | null = null;
  while (text[pos] === '@') {
    if (marker !== null) return err(codedError('BAD_MARKER', 'only one marker is allowed', pos + 1));
    let end = text.indexOf(' ', pos);
    if (end < 0) end = text.indexOf('\t', pos);
    if (end < 0) return err(codedError('BAD_MARKER', 'marker without a host field after it', pos + 1));
    const word = text.slice(pos, end);
    const known = MARKERS[word];
    if (known === undefined)
      return err(codedError('BAD_MARKER', 'unknown marker (want @cert-authority or @revoked)', pos + 1));
    marker = known;
    pos = skipBlanks(text, end);
  }
  return ok({ marker, end: pos });
}

function parseHostField(field: string, start: number): Result<HostField, KnownHostsError> {
  if (field.startsWith('|')) {
    const hashed = parseHashedHost(field, start);
    return hashed.ok ? ok({ kind: 'hashed', hashed: hashed.value }) : hashed;
  }
  const patterns = parseHostPatterns(field, start);
  return patterns.ok ? ok({ kind: 'patterns', patterns: patterns.value }) : patterns;
}

export function serializeHostField(hosts: HostField): string {
  return hosts.kind === 'hashed' ? serializeHashedHost(hosts.hashed) : serializeHostPatterns(hosts.patterns);
}

/**
 * Writes a line canonically (single spaces between fields). Refuses, with a coded error, anything
 * that would not read back as the same line: the result is re-parsed and compared field by field.
 */
export function serializeKnownHostsLine(line: KnownHostsLine): Result<string, KnownHostsError> {
  const text = line.kind === 'entry' ? renderEntry(line) : line.text;
  const back = parseKnownHostsLine(text);
  if (!back.ok)
    return err(codedError('UNREPRESENTABLE', `cannot be written as one line: ${back.error.message}`));
  if (!sameLine(line, back.value))
    return err(codedError('UNREPRESENTABLE', 'cannot be written as one line that reads back the same'));
  return ok(text);
}

function renderEntry(entry: KnownHostsEntry): string {
  const marker = entry.marker === null ? '' : `@${entry.marker} `;
  const comment = entry.comment === null ? '' : ` ${entry.comment}`;
  return `${marker}${serializeHostField(entry.hosts)} ${entry.key.type} ${entry.key.base64}${comment}`;
}

/** Structural equality of two parsed lines (keys by type and blob encoding). */
export function sameLine(a: KnownHostsLine, b: KnownHostsLine): boolean {
  if (a.kind !== 'entry' || b.kind !== 'entry') {
    return a.kind !== 'entry' && b.kind !== 'entry' && a.kind === b.kind && a.text === b.text;
  }
  return (
    a.marker === b.marker &&
    a.comment === b.comment &&
    a.key.type === b.key.type &&
    a.key.base64 === b.key.base64 &&
    sameHosts(a.hosts, b.hosts)
  );
}

function sameHosts(a: HostField, b: HostField): boolean {
  if (a.kind === 'hashed' || b.kind === 'hashed') {
    return a.kind === 'hashed' && b.kind === 'hashed' && serializeHostField(a) === serializeHostField(b);
  }
  return (
    a.patterns.length === b.patterns.length &&
    a.patterns.every((p, i) => p.negated === b.patterns[i]?.negated && p.pattern === b.patterns[i]?.pattern)
  );
}
