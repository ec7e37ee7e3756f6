import type { ErrorCategory } from '../common/error-category.js';
import { assertNever, type CodedError } from '../common/result.js';

/**
 * Every way the vault can fail. Each code has a category (vaultErrorCategory below), which the
 * CLI turns into an exit code; messages are for people and never contain secret material.
 */
export type VaultErrorCode =
  /** virtual.conf does not exist where the location says. */
  | 'CONFIG_MISSING'
  /** virtual.conf is not valid TOML, or does not follow the schema (file:line in the error). */
  | 'CONFIG_INVALID'
  /** A secret field holds plain text instead of a sealed value. */
  | 'PLAINTEXT_SECRET'
  /** A sealed value or the [vault] table says a format version psm does not know. */
  | 'UNKNOWN_FORMAT_VERSION'
  /** The master key is not where the config says (no key file, no passphrase given). */
  | 'KEY_MISSING'
  /** The key file or a directory above it can be read by group or others, or is not a regular file. */
  | 'KEY_UNSAFE_PERMISSIONS'
  /** The key file is not 32 bytes. */
  | 'KEY_INVALID'
  /** The key or passphrase does not match the key id recorded in virtual.conf. */
  | 'WRONG_KEY'
  /** A sealed value failed authentication: altered, moved to another field or file, or truncated. */
  | 'TAMPERED'
  /** The path names no sealed value, or is not a path psm accepts. */
  | 'NO_SUCH_SECRET'
  | 'BAD_PATH'
  /** A secret given to seal is empty or too long. */
  | 'BAD_SECRET'
  /** Another psm process holds the vault's write lock. */
  | 'LOCKED'
  /** Rekey cannot replace where the key came from (systemd credentials). */
  | 'REKEY_REFUSED'
  /** The command would overwrite an existing file and --force was not given. */
  | 'WOULD_OVERWRITE'
  /** A 2010-style virtual.conf could not be read. */
  | 'LEGACY_INVALID'
  /** A file psm must read cannot be: permission denied, or the OS failed reading it. */
  | 'FILE_UNREADABLE'
  /** virtual.conf is a symbolic link: replacing it atomically would replace the link, so psm refuses to write. */
  | 'CONFIG_SYMLINK'
  /** --location is empty or holds a control character (a newline would split psm's own output). */
  | 'BAD_LOCATION'
  /** Writing a file failed (disk full, permission denied by the OS, ...). */
  | 'IO_FAILED';

export type VaultError = CodedError<VaultErrorCode>;

export function vaultError(
  code: VaultErrorCode,
  message: string,
  where: { file?: string; line?: number; column?: number } = {},
): VaultError {
  return { code, message, ...where };
}

/** "file:line: message" when the error has a place, for one-line CLI output. */
export function describeVaultError(error: VaultError): string {
  if (error.file === undefined) return error.message;
  const place = error.line === undefined ? error.file : `${error.file}:${error.line}`;
  return `${place}: ${error.message}`;
}

/** The category of each code (exit code in the CLI, HTTP status in the daemon). */
export function vaultErrorCategory(code: VaultErrorCode): ErrorCategory {
  switch (code) {
    case 'CONFIG_MISSING':
    case 'KEY_MISSING':
    case 'NO_SUCH_SECRET':
    case 'FILE_UNREADABLE':
      return 'unreadable';
    case 'CONFIG_INVALID':
    case 'PLAINTEXT_SECRET':
    case 'UNKNOWN_FORMAT_VERSION':
    case 'KEY_INVALID':
    case 'BAD_SECRET':
    case 'LEGACY_INVALID':
      return 'input';
    case 'BAD_PATH':
    case 'BAD_LOCATION':
      return 'usage';
    case 'CONFIG_SYMLINK':
    case 'KEY_UNSAFE_PERMISSIONS':
    case 'LOCKED':
    case 'REKEY_REFUSED':
    case 'WOULD_OVERWRITE':
      return 'refused';
    case 'WRONG_KEY':
      return 'auth';
    case 'TAMPERED':
      return 'tampered';
    case 'IO_FAILED':
      return 'outside';
    default:
      return assertNever(code);
  }
}
