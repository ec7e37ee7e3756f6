/**
 * Text psm prints that came from a file, a guest or a user, made safe for a terminal, as
 * ssh-keygen (strnvis) and git (quote_c_style) do: a comment of cursor-up/erase-line codes must
 * not draw a fake row, and a right-to-left override must not reorder what an operator reads.
 *
 * Escaped, as visible text: C0 controls and DEL (`\x1b`, `\r`, ...), C1 controls (`\u009b`, the
 * 8-bit CSI), Unicode format characters (bidi overrides, embeddings and isolates, marks such as
 * U+200E and U+061C, zero-width characters, U+00AD, tags), line and paragraph separators, and
 * lone surrogates. Backslashes are left as they are: a literal "\x1b" in a comment then reads
 * like an escaped ESC, which is harmless (anyone can write visible text), and `--json` output,
 * which is never escaped, keeps the exact bytes for whoever needs them.
 */

// \p{Cc}: C0, DEL, C1. \p{Cf}: format (bidi, ZW*, soft hyphen, BOM, tags). \p{Zl}\p{Zp}: U+2028/9.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const UNSAFE_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const SHORT: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(char: string): string {
  const short = SHORT[char];
  if (short !== undefined) return short;
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
}

/** Every unsafe character of `text` as a visible escape; text without one is returned as is. */
export function escapeForTerminal(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

/**
 * For a line psm composes itself, where a tab separates columns: each column escaped, the tabs
 * kept (a tab only moves to the next stop; it cannot erase or rewrite what is shown).
 */
export function escapeLine(line: string): string {
  if (!UNSAFE.test(line)) return line;
  return line.split('\t').map(escapeForTerminal).join('\t');
}

/** For several lines (help text, a report): each line escaped, the newlines kept. */
export function escapeLines(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return text.split('\n').map(escapeLine).join('\n');
}
