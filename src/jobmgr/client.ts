import { request as httpRequest, type Agent } from 'node:http';
import { err, ok, type Result } from '../common/result.js';
import type { DaemonError } from './daemon/errors.js';

/** The largest answer the client reads (a workers list of 1,000 workers is far below it). */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_CLIENT_TIMEOUT_MS = 120_000;

export interface DaemonAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface ClientOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** A keep-alive agent for many requests (the stress test, the bench); default: one connection each. */
  readonly agent?: Agent;
}

/**
 * One request to the daemon over its Unix socket: JSON in, JSON out, bounded and timed. A refusal
 * by the daemon is an answer (status >= 400 with `{"error":{"code","message"}}`), not an error
 * here; errors are only "no daemon" and "not a psm daemon's answer".
 */
export function callDaemon(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  options: ClientOptions = {},
): Promise<Result<DaemonAnswer, DaemonError>> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Result<DaemonAnswer, DaemonError>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = httpRequest(
      {
        socketPath,
        method,
        path,
        headers:
          payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': payload.length },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            finish(
              err({
                code: 'DAEMON_PROTOCOL',
                message: `the daemon's answer is larger than ${MAX_RESPONSE_BYTES} bytes`,
              }),
            );
          } else chunks.push(chunk);
        });
        response.on('error', () =>
          finish(err({ code: 'DAEMON_PROTOCOL', message: 'the daemon closed the connection mid-answer' })),
        );
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const type = response.headers['content-type'] ?? '';
          if (!type.startsWith('application/json'))
            return finish(ok({ status: response.statusCode ?? 0, body: text }));
          try {
            finish(ok({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown }));
          } catch {
            finish(
              err({ code: 'DAEMON_PROTOCOL', message: 'the daemon answered something that is not JSON' }),
            );
          }
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(
        err({
          code: 'DAEMON_TIMEOUT',
          message: `the daemon did not answer within ${options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS} ms`,
        }),
      );
    }, options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS);
    req.on('error', (error: NodeJS.ErrnoException) => {
      const unreachable = ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK'].includes(error.code ?? '');
      finish(
        err(
          unreachable
            ? {
                code: 'DAEMON_UNREACHABLE',
                message: `no psm daemon answers on ${socketPath} (${error.code}); start one with psm daemon`,
              }
            : {
                code: 'DAEMON_PROTOCOL',
                message: `the connection to the daemon failed (${error.code ?? error.message})`,
              },
        ),
      );
    });
    req.end(payload);
  });
}
