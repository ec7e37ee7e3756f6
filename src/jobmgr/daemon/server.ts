import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../common/logger.js';
import type { AuditLog } from '../../psm/audit-log/index.js';
import type { Pool } from '../pool.js';
import { readJsonBody } from './body.js';
import type { DaemonMetrics } from './metrics.js';
import { OpenRuns } from './open-runs.js';
import { daemonAnswer, ROUTES, type Answer } from './routes.js';
import type { RouteDeps } from './run-main-route.js';

/** Timeouts of the HTTP side (ms): a client that trickles its request is dropped. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const MAX_CONNECTIONS = 1024;
export const MAX_HEADER_BYTES = 8 * 1024;

export interface DaemonServerDeps {
  readonly pool: Pool;
  readonly metrics: DaemonMetrics;
  readonly log: Logger;
  /** The audit log of a daemon with trusted workers (run-main requests are recorded in it). */
  readonly audit?: AuditLog;
}

/**
 * HTTP/1.1 + JSON on the daemon's Unix socket. Every answer is JSON (`/metrics` excepted: the
 * Prometheus text format); every refusal is `{"error":{"code","message"}}` with the status of the
 * code's category. A handler that throws is a bug in psm: it is logged and answered 500, and the
 * daemon goes on serving.
 */
export function createDaemonServer(serverDeps: DaemonServerDeps): Server {
  const deps: ServingDeps = { ...serverDeps, runs: new OpenRuns() };
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: REQUEST_TIMEOUT_MS },
    (request, response) => {
      handle(deps, request, response).catch((error: unknown) => {
        deps.log.error('request handler failed (a bug in psm)', { error });
        if (!response.headersSent)
          send(response, { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
        else response.destroy();
      });
    },
  );
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

/** What requests are served with: the daemon's parts and this server's open runs. */
type ServingDeps = DaemonServerDeps & RouteDeps;

async function handle(deps: ServingDeps, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const routeName =
    Object.hasOwn(ROUTES, path) || path === '/healthz' || path === '/metrics' ? path : 'unknown';
  const answer = await answerFor(deps, path, request);
  deps.metrics.httpRequests.inc({ route: routeName, status: String(answer.status) });
  if (answer.status >= 500) deps.log.warn('request failed', { route: routeName, status: answer.status });
  if ('text' in answer) {
    response.writeHead(answer.status, { 'content-type': answer.contentType });
    response.end(answer.text);
    return;
  }
  if (answer.close === true) response.setHeader('connection', 'close');
  send(response, answer);
}

type Reply =
  | (Answer & { readonly close?: boolean })
  | { readonly status: number; readonly text: string; readonly contentType: string };

async function answerFor(deps: ServingDeps, path: string, request: IncomingMessage): Promise<Reply> {
  if (path === '/healthz' || path === '/metrics') {
    request.resume();
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return daemonAnswer({ code: 'METHOD_NOT_ALLOWED', message: `${path} takes GET` });
    if (path === '/metrics')
      return {
        status: 200,
        text: await deps.metrics.registry.metrics(),
        contentType: deps.metrics.registry.contentType,
      };
    const problems = deps.pool.store.checkInvariants();
    const status = deps.pool.status();
    return {
      status: problems.length === 0 ? 200 : 500,
      body: { ok: problems.length === 0, problems, free: status.free, total: status.total },
    };
  }
  const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (route === undefined) {
    request.resume();
    return daemonAnswer({ code: 'NO_SUCH_ROUTE', message: 'no such route' });
  }
  if (request.method !== route.method) {
    request.resume();
    return daemonAnswer({ code: 'METHOD_NOT_ALLOWED', message: `${path} takes ${route.method}` });
  }
  if (route.method === 'GET') {
    request.resume();
    return route.handle(deps.pool, {}, deps);
  }
  const body = await readJsonBody(request);
  if (!body.ok) return { ...daemonAnswer(body.error), close: body.error.code === 'BODY_TOO_LARGE' };
  return route.handle(deps.pool, body.value, deps);
}

function send(response: ServerResponse, answer: Answer): void {
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
