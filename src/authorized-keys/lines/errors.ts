import type { ErrorCategory } from '../../common/error-category.js';
import type { CodedError } from '../../common/result.js';
import { publicKeyErrorCategory, type PublicKeyErrorCode } from '../keys/public-key-errors.js';

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

/**
 * The category of each code. Every one is `input`: a line or a value handed to the serializer that
 * psm will not accept; the key-field codes take theirs from publicKeyErrorCategory.
 */
export function authorizedKeysErrorCategory(code: AuthorizedKeysErrorCode): ErrorCategory {
  switch (code) {
    case 'LINE_TOO_LONG':
    case 'INVALID_UTF8':
    case 'NUL_IN_LINE':
    case 'LINE_BREAK_IN_LINE':
    case 'UNTERMINATED_QUOTE':
    case 'MISSING_KEY':
    case 'UNKNOWN_OPTION':
    case 'MISSING_START_QUOTE':
    case 'MISSING_END_QUOTE':
    case 'DUPLICATE_OPTION':
    case 'UNEXPECTED_END_OF_OPTIONS':
    case 'TRAILING_TEXT':
    case 'INVALID_EXPIRY_TIME':
    case 'INVALID_ENVIRONMENT':
    case 'TOO_MANY_ENVIRONMENT':
    case 'INVALID_PERMIT_HOST':
    case 'INVALID_PERMIT_PORT':
    case 'TOO_MANY_PERMITS':
    case 'INVALID_TUNNEL':
    case 'UNREPRESENTABLE_VALUE':
    case 'UNKNOWN_OPTION_NAME':
    case 'OPTION_VALUE_MISMATCH':
    case 'UNREPRESENTABLE_COMMENT':
    case 'UNREPRESENTABLE_OPTIONS':
      return 'input';
    default:
      return publicKeyErrorCategory(code);
  }
}
