import type { CodedError } from '../common/result.js';
import type { PublicKeyErrorCode } from './public-key-errors.js';

/**
 * One union for the authorized_keys module: line framing, the options field (each code maps to
 * one of sshd's sshauthopt_parse reasons), the key field (PublicKeyErrorCode), and the serializer.
 */
export type AuthorizedKeysErrorCode =
  // Line framing: psm's own limits (documented deviations where sshd is more lenient).
  | 'LINE_TOO_LONG'
  | 'INVALID_UTF8'
  | 'NUL_IN_LINE'
  | 'LINE_BREAK_IN_LINE'
  | 'UNTERMINATED_QUOTE'
  | 'MISSING_KEY'
  // The options field, as sshd's sshauthopt_parse refuses it.
  | 'UNKNOWN_OPTION'
  | 'MISSING_START_QUOTE'
  | 'MISSING_END_QUOTE'
  | 'DUPLICATE_OPTION'
  | 'UNEXPECTED_END_OF_OPTIONS'
  | 'TRAILING_TEXT'
  | 'INVALID_EXPIRY_TIME'
  | 'INVALID_ENVIRONMENT'
  | 'TOO_MANY_ENVIRONMENT'
  | 'INVALID_PERMIT_HOST'
  | 'INVALID_PERMIT_PORT'
  | 'TOO_MANY_PERMITS'
  | 'INVALID_TUNNEL'
  // The serializer.
  | 'UNREPRESENTABLE_VALUE'
  | 'UNKNOWN_OPTION_NAME'
  | 'OPTION_VALUE_MISMATCH'
  | 'UNREPRESENTABLE_COMMENT'
  | 'UNREPRESENTABLE_OPTIONS'
  // The key field.
  | PublicKeyErrorCode;

export type AuthorizedKeysError = CodedError<AuthorizedKeysErrorCode>;

export function akError(
  code: AuthorizedKeysErrorCode,
  message: string,
  column?: number,
): AuthorizedKeysError {
  return column === undefined ? { code, message } : { code, message, column };
}
