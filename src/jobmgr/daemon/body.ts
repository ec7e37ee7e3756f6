import type { IncomingMessage } from 'node:http';
import { err, ok, type Result } from '../../common/result.js';
import type { DaemonError } from './errors.js';

/** The largest request body the daemon reads: a reserve with 32 long RSA keys fits in 64 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;
/** What the daemon reads and drops of a too-large body so the client gets its answer; past it the connection is cut. */
export const MAX_DRAIN_BYTES = 4 * 1024 * 1024;
/** JSON nesting the daemon accepts (its schemas are two levels deep). */
const MAX_JSON_DEPTH = 8;

export type Body = Record<string, unknown>;

function fail(code: DaemonError['code'], message: string): Result<never, DaemonError> {
  return err({ code, message });
}

/**
 * Reads a request body: announced or actual size over MAX_BODY_BYTES is refused before it is
 * buffered, anything but strict UTF-8 JSON holding one object is refused, and so is deep nesting.
 * An empty body is `{}` (GET-like POSTs such as pool fill).
 */
export async function readJsonBody(request: IncomingMessage): Promise<Result<Body, DaemonError>> {
  const declared = request.headers['content-length'];
  const tooLarge = fail('BODY_TOO_LARGE', `a request body is at most ${MAX_BODY_BYTES} bytes`);
  if (declared !== undefined && !(Number(declared) <= MAX_BODY_BYTES)) {
    if (!(Number(declared) <= MAX_DRAIN_BYTES)) request.socket.destroy();
    else await drain(request);
    return tooLarge;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      await drain(request, size);
      return tooLarge;
    }
    chunks.push(chunk);
  }
  if (size === 0) return ok({});
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json(\s*;\s*charset=utf-8)?$/i.test(type))
    return fail('UNSUPPORTED_MEDIA_TYPE', 'a request body must be application/json');
  return parseJsonObject(Buffer.concat(chunks, size));
}

export function parseJsonObject(bytes: Uint8Array): Result<Body, DaemonError> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail('BODY_NOT_JSON', 'the request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('BODY_NOT_JSON', 'the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('BODY_NOT_JSON', 'the request body must be a JSON object');
  if (depthOf(value, 0) > MAX_JSON_DEPTH)
    return fail('BODY_INVALID', `the request body nests deeper than ${MAX_JSON_DEPTH}`);
  return ok(value as Body);
}

/** Bounded by MAX_BODY_BYTES (JSON.parse already succeeded on it), so the recursion is too. */
function depthOf(value: unknown, depth: number): number {
  if (depth > MAX_JSON_DEPTH || typeof value !== 'object' || value === null) return depth;
  let deepest = depth;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depthOf(item, depth + 1));
  return deepest;
}

/** Reads and drops the rest of a body, up to MAX_DRAIN_BYTES in all; a longer one has its connection cut. */
async function drain(request: IncomingMessage, already = 0): Promise<void> {
  let size = already;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DRAIN_BYTES) {
      request.socket.destroy();
      return;
    }
  }
}

/** The fields of a schema: refuses unknown ones, so a typo is an error and not a default. */
export function onlyFields(body: Body, allowed: readonly string[]): Result<Body, DaemonError> {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0)
    return fail(
      'BODY_INVALID',
      `unknown field ${JSON.stringify(extra[0]?.slice(0, 64))}; this route takes ${allowed.join(', ')}`,
    );
  return ok(body);
}
