/**
 * known_hosts files: split into lines the way OpenSSH does (on `\n` only), each line checked for
 * length and UTF-8 before it is parsed, one result per line.
 */
import { ByteLines, type RawLine } from '../../common/byte-lines.js';
import { err, ok, type Result } from '../../common/result.js';
import { MAX_KNOWN_HOSTS_LINE_BYTES, type KnownHostsError } from './errors.js';
import { parseKnownHostsLine, serializeKnownHostsLine, type KnownHostsLine } from './line.js';

export interface KnownHostsFileLine {
  /** 1-based line number. */
  readonly line: number;
  /** The line as text (invalid UTF-8 shown with U+FFFD, for messages only). */
  readonly text: string;
  /** The parsed line, or its error with `line` (and `column` where known) set. */
  readonly result: Result<KnownHostsLine, KnownHostsError>;
}

const lossyUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Parses a whole file; never throws on bad input. A final `\n` does not start another line. */
export function parseKnownHostsFile(data: Uint8Array | string): KnownHostsFileLine[] {
  return Array.from(knownHostsFileLines(data));
}

/**
 * The lines of parseKnownHostsFile, parsed one at a time as they are iterated (psm keys inspect
 * and psm known-hosts match look at each and let it go).
 */
export function knownHostsFileLines(
  data: Uint8Array | string,
): Generator<KnownHostsFileLine, void, undefined> {
  return typeof data === 'string' ? textLines(data) : byteLines(data);
}

function* byteLines(data: Uint8Array): Generator<KnownHostsFileLine, void, undefined> {
  const reader = new KnownHostsReader();
  yield* reader.push(data);
  yield* reader.end();
}

/**
 * A known_hosts file read as its bytes arrive (psm keys inspect streams a file of any size):
 * push() each chunk, then end(); each gives the lines it completes, numbered from 1.
 */
export class KnownHostsReader {
  readonly #lines = new ByteLines(MAX_KNOWN_HOSTS_LINE_BYTES);
  #number = 0;

  *push(chunk: Uint8Array): Generator<KnownHostsFileLine, void, undefined> {
    for (const raw of this.#lines.push(chunk)) yield this.#row(raw);
  }

  *end(): Generator<KnownHostsFileLine, void, undefined> {
    for (const raw of this.#lines.end()) yield this.#row(raw);
  }

  #row(raw: RawLine): KnownHostsFileLine {
    this.#number += 1;
    if (typeof raw === 'string') return parseNumbered(this.#number, raw);
    if (raw.kind === 'too-long') return tooLong(this.#number, raw.bytes);
    return failed(this.#number, lossyUtf8.decode(raw.bytes), 'INVALID_UTF8', 'line is not valid UTF-8');
  }
}

function* textLines(data: string): Generator<KnownHostsFileLine, void, undefined> {
  for (let start = 0, number = 1; start < data.length; number++) {
    let end = data.indexOf('\n', start);
    if (end < 0) end = data.length;
    const text = data.slice(start, end);
    start = end + 1;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_KNOWN_HOSTS_LINE_BYTES) yield tooLong(number, bytes);
    else if (LONE_SURROGATE.test(text))
      yield failed(number, text, 'INVALID_UTF8', 'line has an unpaired surrogate (not valid UTF-8)');
    else yield parseNumbered(number, text);
  }
}

function parseNumbered(line: number, text: string): KnownHostsFileLine {
  const result = parseKnownHostsLine(text);
  return { line, text, result: result.ok ? result : err({ ...result.error, line }) };
}

function tooLong(line: number, bytes: number): KnownHostsFileLine {
  return failed(
    line,
    '',
    'LINE_TOO_LONG',
    `line is ${bytes} bytes, more than the ${MAX_KNOWN_HOSTS_LINE_BYTES} psm reads`,
  );
}

function failed(
  line: number,
  text: string,
  code: 'LINE_TOO_LONG' | 'INVALID_UTF8',
  message: string,
): KnownHostsFileLine {
  return { line, text, result: err({ code, message, line }) };
}

/** Writes parsed lines back, one `\n` after each; refuses (with the line number) what cannot be written. */
export function serializeKnownHostsFile(lines: readonly KnownHostsLine[]): Result<string, KnownHostsError> {
  const out: string[] = [];
  for (const [index, line] of lines.entries()) {
    const text = serializeKnownHostsLine(line);
    if (!text.ok) return err({ ...text.error, line: index + 1 });
    out.push(`${text.value}\n`);
  }
  return ok(out.join(''));
}
