import { describe, expect, it } from 'vitest';
import { escapeForTerminal, escapeLine, escapeLines } from '../../src/common/terminal-text.js';

describe('escapeForTerminal', () => {
  it('leaves ordinary text alone, including non-Latin scripts and emoji', () => {
    for (const text of ['admin@host', 'Grüße, 東京', 'a "quoted" \\ back\\slash', 'key 🔑'])
      expect(escapeForTerminal(text)).toBe(text);
  });

  it('escapes C0 controls, DEL and C1 controls as visible text', () => {
    expect(escapeForTerminal('a\x1b[1A\x1b[2Kb')).toBe('a\\x1b[1A\\x1b[2Kb');
    expect(escapeForTerminal('\r\n\t\0\x07\x08\x7f')).toBe('\\r\\n\\t\\x00\\x07\\x08\\x7f');
    expect(escapeForTerminal('x\u009b2Jy\u0085')).toBe('x\\u009b2Jy\\u0085');
  });

  it('escapes bidi overrides, isolates, marks and other invisible format characters', () => {
    const invisible = [
      '\u202a',
      '\u202b',
      '\u202c',
      '\u202d',
      '\u202e', // embeddings and overrides
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069', // isolates
      '\u200e',
      '\u200f',
      '\u061c', // marks
      '\u200b',
      '\u200c',
      '\u200d',
      '\u2060',
      '\ufeff',
      '\u00ad', // zero-width, soft hyphen
      '\u2028',
      '\u2029',
      '\u{e0041}', // separators, a tag character
    ];
    for (const char of invisible) {
      const shown = escapeForTerminal(`a${char}b`);
      expect(shown).not.toContain(char);
      expect(shown).toMatch(/^a\\u(\{[0-9a-f]+\}|[0-9a-f]{4})b$/);
    }
    expect(escapeForTerminal('\ud800')).toBe('\\ud800');
  });

  it('keeps tabs between columns (escapeLine) and newlines between lines (escapeLines)', () => {
    expect(escapeLine('ok\tsecrets.a\x1b]0;x\x07')).toBe('ok\tsecrets.a\\x1b]0;x\\x07');
    expect(escapeLines('one\u202e\ntwo\r\n')).toBe('one\\u202e\ntwo\\r\n');
  });
});
