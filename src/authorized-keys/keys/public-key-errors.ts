import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, type CodedError } from '../../common/result.js';

/** Every way a key field can be refused. One union for the public-key part of the module. */
export type PublicKeyErrorCode =
  | 'UNKNOWN_KEY_TYPE'
  | 'MISSING_KEY_DATA'
  | 'KEY_DATA_TOO_LONG'
  | 'BAD_BASE64'
  | 'MALFORMED_KEY_BLOB'
  | 'KEY_TYPE_MISMATCH'
  | 'EC_CURVE_MISMATCH'
  | 'INVALID_EC_POINT'
  | 'BAD_KEY_LENGTH'
  | 'NON_CANONICAL_MPINT'
  | 'TRAILING_DATA'
  | 'MALFORMED_CERTIFICATE'
  | 'UNKNOWN_CERT_TYPE'
  | 'TOO_MANY_PRINCIPALS'
  | 'INVALID_CA_KEY'
  | 'UNSUPPORTED_SIGNATURE'
  | 'BAD_CERT_SIGNATURE';

export type PublicKeyError = CodedError<PublicKeyErrorCode>;

/** The category of each code: a key psm will not accept is always `input`. */
export function publicKeyErrorCategory(code: PublicKeyErrorCode): ErrorCategory {
  switch (code) {
    case 'UNKNOWN_KEY_TYPE':
    case 'MISSING_KEY_DATA':
    case 'KEY_DATA_TOO_LONG':
    case 'BAD_BASE64':
    case 'MALFORMED_KEY_BLOB':
    case 'KEY_TYPE_MISMATCH':
    case 'EC_CURVE_MISMATCH':
    case 'INVALID_EC_POINT':
    case 'BAD_KEY_LENGTH':
    case 'NON_CANONICAL_MPINT':
    case 'TRAILING_DATA':
    case 'MALFORMED_CERTIFICATE':
    case 'UNKNOWN_CERT_TYPE':
    case 'TOO_MANY_PRINCIPALS':
    case 'INVALID_CA_KEY':
    case 'UNSUPPORTED_SIGNATURE':
    case 'BAD_CERT_SIGNATURE':
      return 'input';
    default:
      return assertNever(code);
  }
}
