import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, reasonOf, type GuestOpsError } from '../errors.js';
import type { Deadline } from '../wire/deadline.js';

/**
 * HTTPS to vCenter or ESXi, one TLS connection per request, verified before a byte is written:
 * - `ca`: the chain must end at the pinned CA (the system's roots are not used) and the
 *   certificate must name the host, as any HTTPS client checks;
 * - `sha256`: the server's certificate must be exactly the pinned one (its SHA-256 thumbprint,
 *   as the vSphere Client shows it). The chain is not consulted: the pin is stricter than any
 *   chain (one certificate, not every certificate a CA could sign), and ESXi's own certificates
 *   are often self-signed.
 * There is no way to turn verification off.
 */
export type TlsPin =
  { readonly kind: 'ca'; readonly caPem: string } | { readonly kind: 'sha256'; readonly thumbprint: string };

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly pin: TlsPin;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HttpCall {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Uint8Array;
  /** Replies longer than this are cut off and refused. */
  readonly maxReplyBytes: number;
  readonly deadline: Deadline;
  /** For messages: what this request is ("Login", "file upload"). */
  readonly what: string;
}

export const THUMBPRINT_PATTERN = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;
const TLS_HANDSHAKE_CAP_MS = 30_000;

/** Opens the TLS connection and checks the pin; the socket is returned only when it passed. */
function openVerified(endpoint: Endpoint, deadline: Deadline): Promise<Result<TLSSocket, GuestOpsError>> {
  return new Promise((resolve) => {
    const { pin } = endpoint;
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
      minVersion: 'TLSv1.2',
      // A thumbprint pin names one exact (usually self-signed) certificate, which no chain check
      // can accept; it is compared on 'secureConnect' below, before any request byte is written,
      // and anything else closes the socket. A CA pin is checked by OpenSSL itself.
      ...(pin.kind === 'ca' ? { ca: pin.caPem, rejectUnauthorized: true } : { rejectUnauthorized: false }),
      timeout: deadline.cap(TLS_HANDSHAKE_CAP_MS),
    });
    const done = (result: Result<TLSSocket, GuestOpsError>): void => {
      deadline.signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('timeout');
      if (!result.ok) socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => done(err(deadline.error('TIMEOUT', 'connecting to the hypervisor')));
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('timeout', onAbort);
    socket.once('error', (error) => {
      const code = (error as { code?: unknown }).code;
      const tls = typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|HOSTNAME/.test(code);
      done(
        err(
          guestOpsError(
            tls ? 'HYPERVISOR_TLS' : 'HYPERVISOR_FAILED',
            tls
              ? `the hypervisor's TLS certificate does not verify against the pinned CA (${reasonOf(error)})`
              : `cannot connect to the hypervisor at ${endpoint.host}:${endpoint.port} (${reasonOf(error)})`,
          ),
        ),
      );
    });
    socket.once('secureConnect', () => {
      if (pin.kind === 'sha256') {
        const seen = socket.getPeerX509Certificate()?.fingerprint256;
        if (seen !== pin.thumbprint) {
          done(
            err(
              guestOpsError(
                'HYPERVISOR_TLS',
                `the hypervisor's TLS certificate is not the pinned one (SHA-256 ${seen ?? 'none'})`,
              ),
            ),
          );
          return;
        }
      }
      done(ok(socket));
    });
  });
}

/** One request over a verified connection; the reply body is bounded by `call.maxReplyBytes`. */
export async function httpsCall(
  endpoint: Endpoint,
  call: HttpCall,
): Promise<Result<HttpReply, GuestOpsError>> {
  const { deadline } = call;
  if (deadline.aborted) return err(deadline.error('TIMEOUT', call.what));
  const opened = await openVerified(endpoint, deadline);
  if (!opened.ok) return opened;
  const socket = opened.value;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Result<HttpReply, GuestOpsError>): void => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish(err(deadline.error('TIMEOUT', call.what)));
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    const req = httpRequest(
      {
        createConnection: () => socket,
        method: call.method,
        path: call.path,
        headers: { ...call.headers, Host: `${endpoint.host}:${endpoint.port}`, Connection: 'close' },
      },
      (res) => {
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > call.maxReplyBytes) {
          finish(err(tooLarge(call)));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > call.maxReplyBytes) finish(err(tooLarge(call)));
          else chunks.push(chunk);
        });
        res.once('end', () =>
          finish(ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })),
        );
        res.once('error', (error) => finish(err(broken(call, error))));
        res.once('aborted', () => finish(err(broken(call, new Error('connection closed')))));
      },
    );
    req.once('error', (error) => finish(err(broken(call, error))));
    req.end(
      call.body === undefined
        ? undefined
        : Buffer.from(call.body.buffer, call.body.byteOffset, call.body.length),
    );
  });
}

function tooLarge(call: HttpCall): GuestOpsError {
  return guestOpsError(
    'HYPERVISOR_PROTOCOL',
    `the hypervisor's answer to ${call.what} is larger than ${call.maxReplyBytes} bytes`,
  );
}

function broken(call: HttpCall, error: unknown): GuestOpsError {
  return guestOpsError('HYPERVISOR_FAILED', `${call.what}: the connection failed (${reasonOf(error)})`);
}
