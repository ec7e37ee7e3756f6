import { CST, Lexer, type LineCounter } from 'yaml';
import type { PolicyError } from './types.js';

/** Lexer tokens that mark structure and have no characters in the source. */
const CONTROL_TOKENS = new Set(['\x02', '\x18', '\x1f']);

const REFUSED: Readonly<Record<string, string>> = {
  tag: 'explicit YAML tags are not allowed in policies (quote the value if it starts with "!")',
  anchor: 'YAML anchors are not allowed in policies',
  alias: 'YAML aliases are not allowed in policies',
  'directive-line': 'YAML directives (%YAML, %TAG) are not allowed in policies',
};

/**
 * Tags, anchors, aliases and directives make what a reviewer reads differ from what psm sees (a
 * `%YAML 1.1` line even changes which words are booleans), so policies may not use them. Checked
 * on the token stream, where each of them is visible with its offset.
 */
export function refusedYamlFeatures(text: string, lines: LineCounter, file: string): PolicyError[] {
  const errors: PolicyError[] = [];
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (CONTROL_TOKENS.has(token)) continue;
    const type = CST.tokenType(token);
    const message = type === null ? undefined : REFUSED[type];
    if (message !== undefined) {
      const { line, col } = lines.linePos(offset);
      errors.push({ code: 'POLICY_YAML_FEATURE', message, file, line, column: col });
    }
    offset += token.length;
  }
  return errors;
}
