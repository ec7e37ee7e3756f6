import { LineCounter, parseDocument } from 'yaml';
import { err, ok, type Result } from '../../common/result.js';
import { DEFAULT_GATE_DIR } from './command-paths.js';
import { MAX_POLICY_BYTES } from './limits.js';
import { readPolicy } from './schema.js';
import { INVISIBLE_OR_CONTROL } from './values.js';
import type { KeyPolicy, PolicyError } from './types.js';
import { refusedYamlFeatures } from './yaml-features.js';
import { NodeReader } from './yaml-nodes.js';
import { decodeUtf8Strict } from '../../common/utf8.js';

export interface ParseOptions {
  /** The worker directory psm installs gates in (canonical absolute); DEFAULT_GATE_DIR if absent. */
  readonly gateDir?: string;
}

/**
 * Parses and validates one policy file. Never throws on bad input: every problem comes back as a
 * coded error with the file, line and column, and a file with any error yields no policy at all.
 */
export function parsePolicy(
  input: Uint8Array | string,
  file: string,
  options: ParseOptions = {},
): Result<KeyPolicy, readonly PolicyError[]> {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > MAX_POLICY_BYTES)
    return err([
      { code: 'POLICY_TOO_LARGE', message: `is larger than ${MAX_POLICY_BYTES} bytes`, file, line: 1 },
    ]);
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    const decoded = decodeUtf8Strict(input, { bom: 'drop' });
    if (decoded === null)
      return err([{ code: 'POLICY_NOT_UTF8', message: 'is not valid UTF-8', file, line: 1 }]);
    text = decoded;
  }
  const hidden = hiddenCharacter(text, file);
  if (hidden) return err([hidden]);
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    strict: true,
    uniqueKeys: true,
    version: '1.2',
    schema: 'core',
  });
  const reader = new NodeReader(file, lines);
  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) {
    for (const problem of yamlProblems) {
      const { line, col } = lines.linePos(problem.pos[0]);
      const message = yamlMessage(problem.message.split('\n')[0] ?? 'invalid YAML');
      reader.errors.push({ code: 'POLICY_YAML', message, file, line, column: col });
    }
    return err(reader.errors);
  }
  const refused = refusedYamlFeatures(text, lines, file);
  if (refused.length > 0) return err(refused);
  const policy = readPolicy(doc.contents, reader, file, options.gateDir ?? DEFAULT_GATE_DIR);
  if (!policy || reader.errors.length > 0) {
    if (reader.errors.length === 0) throw new Error('policy rejected without an error');
    return err(reader.errors);
  }
  return ok(policy);
}

/** The YAML library's messages, with psm's hint where the library's wording would mislead. */
function yamlMessage(message: string): string {
  if (message.startsWith('Source contains multiple documents'))
    return 'a policy file holds exactly one YAML document';
  if (message.startsWith('Unresolved tag'))
    return `${message} (YAML reads a leading "!" as a tag: quote the value, like "!10.1.2.3")`;
  return message;
}

/**
 * The first invisible, bidi or control character anywhere in the file, comments included: a
 * reviewer reads the file, not psm's parse of it. Tabs, line feeds and CR before LF are allowed.
 */
function hiddenCharacter(text: string, file: string): PolicyError | undefined {
  let line = 1;
  let column = 1;
  for (let i = 0; i < text.length;) {
    const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
    const allowed = ch === ' ' || ch === '\t' || ch === '\n' || (ch === '\r' && text[i + 1] === '\n');
    if (!allowed && INVISIBLE_OR_CONTROL.test(ch)) {
      const hex = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
      return {
        code: 'POLICY_INVISIBLE_CHARACTER',
        message: `contains U+${hex}, an invisible, bidirectional or control character (refused everywhere, comments too)`,
        file,
        line,
        column,
      };
    }
    if (ch === '\n') {
      line += 1;
      column = 1;
    } else column += 1;
    i += ch.length;
  }
  return undefined;
}
