import type { CodedError } from '../common/result.js';

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

export function keyError(code: PublicKeyErrorCode, message: string, column?: number): PublicKeyError {
  return column === undefined ? { code, message } : { code, message, column };
}
