import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, err, type CodedError, type Err } from '../../common/result.js';

/** Every way psm's POPC_RSH program refuses to start an object (it then runs nothing). */
export type PopcRshErrorCode =
  /** Not called the way POP-C++'s client calls $POPC_RSH: HOST POPCOBJRUN CODEFILE OPTIONS... */
  | 'POPC_RSH_USAGE'
  /** The tunnel map ($PSM_POPC_TUNNELS) is missing, unreadable, too large or malformed. */
  | 'POPC_RSH_CONFIG_INVALID'
  /** HOST is not a worker in the tunnel map. */
  | 'POPC_RSH_UNKNOWN_WORKER'
  /** An option the tunnels cannot carry: no or another -socket_port, a callback that is not local, ... */
  | 'POPC_RSH_BAD_ARGUMENT'
  /** Another object holds the worker's callback and appservice tunnel ports (one object per worker at a time). */
  | 'POPC_RSH_WORKER_BUSY'
  /** The worker's lock next to the tunnel map cannot be created or read. */
  | 'POPC_RSH_LOCK_IO'
  /** A tunnel map entry names a port the main-node policy's permitopen / permitlisten does not list. */
  | 'POPC_RSH_NOT_PERMITTED'
  /** A tunnel map entry's object port is already another entry's (both would take it on the admin). */
  | 'POPC_RSH_PORT_CLASH'
  /** The tunnel map cannot be read or written (`psm popc tunnel-map`). */
  | 'POPC_RSH_MAP_IO';

export type PopcRshError = CodedError<PopcRshErrorCode>;

export function popcRshError(code: PopcRshErrorCode, message: string): Err<PopcRshError> {
  return err({ code, message });
}

export function popcRshErrorCategory(code: PopcRshErrorCode): ErrorCategory {
  switch (code) {
    case 'POPC_RSH_USAGE':
      return 'usage';
    case 'POPC_RSH_CONFIG_INVALID':
      return 'input';
    case 'POPC_RSH_UNKNOWN_WORKER':
    case 'POPC_RSH_BAD_ARGUMENT':
    case 'POPC_RSH_WORKER_BUSY':
    case 'POPC_RSH_NOT_PERMITTED':
    case 'POPC_RSH_PORT_CLASH':
      return 'refused';
    case 'POPC_RSH_LOCK_IO':
    case 'POPC_RSH_MAP_IO':
      return 'outside';
    default:
      return assertNever(code);
  }
}
