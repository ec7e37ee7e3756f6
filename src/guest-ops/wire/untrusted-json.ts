import { isJsonObject } from '../../common/json-record.js';
import { decodeUtf8Strict } from '../../common/utf8.js';
import { decodeCanonicalBase64 } from '../../common/base64.js';
import { err, ok, type Result } from '../../common/result.js';

/**
 * Helpers for reading JSON that came from outside psm (a guest agent, a hypervisor): strict UTF-8,
 * a bounded nesting depth, and shape checks that never throw.
 */

/** QMP and QGA replies nest a handful of levels; far deeper input is an attack or a bug. */
export const MAX_JSON_DEPTH = 32;

export type JsonRecord = Record<string, unknown>;

/** Decodes and parses one line; the error is a short reason for a coded error message. */
export function parseJsonLine(bytes: Uint8Array): Result<unknown, string> {
  const text = decodeUtf8Strict(bytes);
  if (text === null) return err('not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return err('not valid JSON');
  }
  if (depthOf(value, 0) > MAX_JSON_DEPTH) return err(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  return ok(value);
}

// Iterating a parsed value is safe: JSON.parse already bounded the input size; the depth limit is
// checked with an explicit cap so a hostile document cannot exhaust the stack here.
function depthOf(value: unknown, depth: number): number {
  if (depth > MAX_JSON_DEPTH) return depth;
  if (typeof value !== 'object' || value === null) return depth;
  let max = depth + 1;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    max = Math.max(max, depthOf(child, depth + 1));
    if (max > MAX_JSON_DEPTH) return max;
  }
  return max;
}

/** The one object check (common/json-record.ts), under the name the wire decoders use. */
export const isRecord: (value: unknown) => value is JsonRecord = isJsonObject;

/** True when `value` has no keys outside `allowed`. */
export function hasOnlyKeys(value: JsonRecord, allowed: readonly string[]): boolean {
  return Object.keys(value).every((key) => allowed.includes(key));
}

export function isSafeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/**
 * Strict, canonical base64 (RFC 4648 with padding): decoding and re-encoding must give the same
 * text, so there is exactly one accepted spelling of every byte string.
 */
export function decodeBase64(text: string, maxBytes: number): Result<Buffer, string> {
  if (text.length > Math.ceil(maxBytes / 3) * 4) return err(`more than ${maxBytes} bytes`);
  const decoded = decodeCanonicalBase64(text);
  if (decoded === null) return err('not canonical base64');
  const bytes = Buffer.from(decoded.buffer, decoded.byteOffset, decoded.length);
  if (bytes.length > maxBytes) return err(`more than ${maxBytes} bytes`);
  return ok(bytes);
}
