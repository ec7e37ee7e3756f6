import { readRegularFile } from '../common/bounded-read.js';
import type { ErrorCategory } from '../common/error-category.js';
import { assertNever, err, type CodedError, type Result } from '../common/result.js';
import {
  publicKeyErrorCategory,
  type PublicKeyErrorCode,
} from '../authorized-keys/keys/public-key-errors.js';
import { readKeyField, type PublicKey } from '../authorized-keys/keys/public-key.js';
import { decodeUtf8Strict } from '../common/utf8.js';

/**
 * A `.pub` file as a person hands it to psm (`policy render --key`, `known-hosts match --key`):
 * one key line, `type base64 [comment]`, with blank and `#` lines around it allowed. Anything
 * else is refused rather than guessed at: two keys (which one?), bytes that are not UTF-8, options
 * before the key (that is an authorized_keys line, not a public key file).
 */

/** A .pub file holds one key line; the largest real one (16384-bit RSA) is under 3 KiB. */
export const MAX_PUBLIC_KEY_FILE_BYTES = 1024 * 1024;

export type PublicKeyFileErrorCode =
  /** The file does not exist, cannot be read, or is not a regular file. */
  | 'KEY_UNREADABLE'
  | 'KEY_FILE_TOO_LARGE'
  /** Not UTF-8, or not exactly one key line. */
  | 'KEY_FILE_INVALID'
  /** The key line itself, with the key parser's code. */
  | PublicKeyErrorCode;

export type PublicKeyFileError = CodedError<PublicKeyFileErrorCode>;

export function publicKeyFileErrorCategory(code: PublicKeyFileErrorCode): ErrorCategory {
  switch (code) {
    case 'KEY_UNREADABLE':
      return 'unreadable';
    case 'KEY_FILE_TOO_LARGE':
    case 'KEY_FILE_INVALID':
      return 'input';
    default:
      return publicKeyErrorCategory(code);
  }
}

export async function readPublicKeyFile(path: string): Promise<Result<PublicKey, PublicKeyFileError>> {
  // Symbolic links are followed: a .pub is only read, never rewritten through the link.
  const read = await readRegularFile(path, MAX_PUBLIC_KEY_FILE_BYTES);
  if (!read.ok) {
    switch (read.error.code) {
      case 'NOT_FOUND':
      case 'UNREADABLE':
      case 'NOT_REGULAR':
      case 'SYMLINK':
        return fail('KEY_UNREADABLE', read.error.message, path);
      case 'TOO_LARGE':
        return fail('KEY_FILE_TOO_LARGE', read.error.message, path);
      default:
        return assertNever(read.error.code);
    }
  }
  return parsePublicKeyFile(read.value, path);
}

/** The key of a .pub file's bytes; `path` only names the file in messages. */
export function parsePublicKeyFile(bytes: Uint8Array, path: string): Result<PublicKey, PublicKeyFileError> {
  const text = decodeUtf8Strict(bytes, { bom: 'drop' });
  if (text === null) return fail('KEY_FILE_INVALID', `${path} is not valid UTF-8`, path);
  // CRLF files (a key pasted on Windows) read as LF files; a CR anywhere else stays and is refused.
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const [line] = lines;
  if (line === undefined || lines.length !== 1)
    return fail('KEY_FILE_INVALID', `${path} must hold exactly one public key line`, path);
  const key = readKeyField(line, 0);
  if (!key.ok) return fail(key.error.code, `${path}: ${key.error.message}`, path);
  return { ok: true, value: key.value.key };
}

function fail(
  code: PublicKeyFileErrorCode,
  message: string,
  file: string,
): Result<never, PublicKeyFileError> {
  return err({ code, message, file });
}
