import { createConnection, type Socket } from 'node:net';
import { ok, type Result } from '../../common/result.js';
import { fail, reasonOf, type GuestOpsError, type GuestOpsErrorCode } from '../errors.js';
import type { Deadline } from './deadline.js';

/** What a failed connection is called in errors: the peer's name and the codes to report. */
export interface UnixPeer {
  /** e.g. "the guest agent socket"; used as "cannot connect to <name>". */
  readonly name: string;
  readonly unavailable: GuestOpsErrorCode;
  readonly timeout: GuestOpsErrorCode;
}

/** Connects to a Unix socket within the deadline; errors name the peer and the socket path. */
export function connectUnixSocket(
  path: string,
  deadline: Deadline,
  peer: UnixPeer,
): Promise<Result<Socket, GuestOpsError>> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const finish = (result: Result<Socket, GuestOpsError>): void => {
      deadline.signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      if (!result.ok) socket.destroy();
      resolve(result);
    };
    const onConnect = (): void => finish(ok(socket));
    const onError = (error: unknown): void =>
      finish(fail(peer.unavailable, `cannot connect to ${peer.name} (${reasonOf(error)})`, path));
    const onAbort = (): void => {
      const e = deadline.error(peer.timeout, `connecting to ${peer.name}`);
      finish(fail(e.code, e.message, path));
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    if (deadline.aborted) onAbort();
    else deadline.signal.addEventListener('abort', onAbort, { once: true });
  });
}
