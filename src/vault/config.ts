import { parse, TomlError } from 'smol-toml';
import { readRegularFile } from '../common/bounded-read.js';
import { assertNever, err, ok, type Result } from '../common/result.js';
import { vaultError, type VaultError } from './errors.js';
import { layoutOf } from './layout.js';
import { validateConf } from './schema.js';
import type { VirtualConf } from './schema-types.js';
import { indexLines } from './toml-lines.js';
import { decodeUtf8Strict } from '../common/utf8.js';

/** virtual.conf is a small hand-edited file; anything bigger is not one. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadedConfig {
  readonly conf: VirtualConf;
  /** The exact text read, for line edits. */
  readonly text: string;
}

export async function readConfigText(file: string): Promise<Result<string, VaultError>> {
  // Non-blocking open + fstat: a FIFO in place of virtual.conf is refused, not waited on.
  const read = await readRegularFile(file, MAX_CONFIG_BYTES);
  if (!read.ok) {
    const { code, message } = read.error;
    switch (code) {
      case 'NOT_FOUND':
        return err(
          vaultError('CONFIG_MISSING', `${file} does not exist (run psm init to create it)`, { file }),
        );
      case 'NOT_REGULAR':
      case 'SYMLINK':
        return err(vaultError('CONFIG_INVALID', `${file} is not a regular file`, { file }));
      case 'TOO_LARGE':
        return err(
          vaultError('CONFIG_INVALID', `${file} is larger than ${MAX_CONFIG_BYTES} bytes`, { file }),
        );
      case 'UNREADABLE':
        return err(vaultError('FILE_UNREADABLE', message, { file }));
      default:
        return assertNever(code);
    }
  }
  const text = decodeUtf8Strict(read.value, { bom: 'drop' });
  return text === null
    ? err(vaultError('CONFIG_INVALID', `${file} is not valid UTF-8 text`, { file }))
    : ok(text);
}

/** Parses and validates virtual.conf text; never throws on bad input. */
export function parseConfigText(
  text: string,
  file: string,
  location: string,
): Result<VirtualConf, VaultError> {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      // The first line of smol-toml's message is the reason; the rest repeats the input line,
      // which may hold a sealed value, so it is not shown.
      const reason = (error.message.split('\n')[0] ?? 'invalid TOML').replace(/^Invalid TOML document: /, '');
      return err(
        vaultError('CONFIG_INVALID', `not valid TOML: ${reason}`, {
          file,
          line: error.line,
          column: error.column,
        }),
      );
    }
    return err(vaultError('CONFIG_INVALID', 'not valid TOML', { file }));
  }
  return validateConf(doc, indexLines(text), file, location);
}

/** Reads `$location/etc/virtual.conf` and validates it. Opening secrets needs the key: see openVault. */
export async function loadConfig(location: string): Promise<Result<VirtualConf, VaultError>> {
  const loaded = await loadConfigWithText(location);
  return loaded.ok ? ok(loaded.value.conf) : loaded;
}

export async function loadConfigWithText(location: string): Promise<Result<LoadedConfig, VaultError>> {
  const file = layoutOf(location).configFile;
  const text = await readConfigText(file);
  if (!text.ok) return text;
  const conf = parseConfigText(text.value, file, location);
  return conf.ok ? ok({ conf: conf.value, text: text.value }) : conf;
}
