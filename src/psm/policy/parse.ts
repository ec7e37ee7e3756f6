import { LineCounter, parseDocument } from 'yaml';
import { err, ok, type Result } from '../../common/result.js';
import { DEFAULT_GATE_DIR } from './command-paths.js';
import { MAX_POLICY_BYTES } from './limits.js';
import { readPolicy } from './schema.js';
import type { KeyPolicy, PolicyError } from './types.js';
import { refusedYamlFeatures } from './yaml-features.js';
import { NodeReader } from './yaml-nodes.js';

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
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      return err([{ code: 'POLICY_NOT_UTF8', message: 'is not valid UTF-8', file, line: 1 }]);
    }
  }
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
