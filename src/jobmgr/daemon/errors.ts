import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, type CodedError } from '../../common/result.js';

/** The daemon's own failures: its HTTP surface, its socket and lock, and the client's side of it. */
export type DaemonErrorCode =
  /** The request body is larger than MAX_BODY_BYTES (or says it will be). */
  | 'BODY_TOO_LARGE'
  /** The body is not strict UTF-8 JSON, or not an object. */
  | 'BODY_NOT_JSON'
  /** The body is JSON but breaks the route's schema (a missing, extra or mistyped field). */
  | 'BODY_INVALID'
  /** A request with a body that is not application/json. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** No route of that path. */
  | 'NO_SUCH_ROUTE'
  /** The route exists, for another method. */
  | 'METHOD_NOT_ALLOWED'
  /** Another daemon holds this location (its pid lock). */
  | 'DAEMON_RUNNING'
  /** The socket cannot be created, or its mode or group set; a group name that does not exist. */
  | 'SOCKET_IO'
  /** The client found no daemon listening on the socket. */
  | 'DAEMON_UNREACHABLE'
  /** The daemon's answer was not what a psm daemon sends (too large, not JSON, cut off). */
  | 'DAEMON_PROTOCOL'
  /** The daemon did not answer within the client's timeout. */
  | 'DAEMON_TIMEOUT'
  /** A run-main end for a run this daemon did not start, or whose end it recorded already. */
  | 'RUN_NOT_OPEN';

export type DaemonError = CodedError<DaemonErrorCode>;

export function daemonErrorCategory(code: DaemonErrorCode): ErrorCategory {
  switch (code) {
    case 'UNSUPPORTED_MEDIA_TYPE':
    case 'METHOD_NOT_ALLOWED':
    case 'BODY_INVALID':
      return 'usage';
    case 'BODY_TOO_LARGE':
    case 'BODY_NOT_JSON':
      return 'input';
    case 'NO_SUCH_ROUTE':
    case 'RUN_NOT_OPEN':
      return 'unreadable';
    case 'DAEMON_RUNNING':
      return 'refused';
    case 'SOCKET_IO':
    case 'DAEMON_UNREACHABLE':
    case 'DAEMON_PROTOCOL':
    case 'DAEMON_TIMEOUT':
      return 'outside';
    default:
      return assertNever(code);
  }
}

const DAEMON_CODES: Record<DaemonErrorCode, true> = {
  BODY_TOO_LARGE: true,
  BODY_NOT_JSON: true,
  BODY_INVALID: true,
  UNSUPPORTED_MEDIA_TYPE: true,
  NO_SUCH_ROUTE: true,
  METHOD_NOT_ALLOWED: true,
  DAEMON_RUNNING: true,
  SOCKET_IO: true,
  DAEMON_UNREACHABLE: true,
  DAEMON_PROTOCOL: true,
  DAEMON_TIMEOUT: true,
  RUN_NOT_OPEN: true,
};

export function isDaemonErrorCode(code: string): code is DaemonErrorCode {
  return Object.hasOwn(DAEMON_CODES, code);
}
