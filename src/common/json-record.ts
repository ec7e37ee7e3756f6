import { readRegularFile, type ReadError } from './bounded-read.js';
import type { ErrorCategory } from './error-category.js';
import { assertNever, err, ok, type CodedError, type Result } from './result.js';
import { decodeUtf8Strict } from './utf8.js';

/**
 * The one reader for psm's versioned JSON records (a worker's vm.json, the worker image's
 * manifest.json, the state files that follow): a bounded regular file, strict UTF-8, one JSON
 * object with only the keys its version knows, and a `format` field naming that version
 * (`psm-qemu-vm/v1`). Each module maps these codes onto its own and checks the fields' values.
 */
export type JsonRecordErrorCode =
  /** The file does not exist. */
  | 'RECORD_MISSING'
  /** The file cannot be opened or read, or is not a regular file. */
  | 'RECORD_UNREADABLE'
  /** The file is larger than the record's limit. */
  | 'RECORD_TOO_LARGE'
  /** Not UTF-8, not JSON, not an object, an unknown key, or another format. */
  | 'RECORD_INVALID';

export type JsonRecordError = CodedError<JsonRecordErrorCode>;

/** The category of each code, for a caller that passes these codes on unchanged. */
export function jsonRecordErrorCategory(code: JsonRecordErrorCode): ErrorCategory {
  switch (code) {
    case 'RECORD_MISSING':
    case 'RECORD_UNREADABLE':
      return 'unreadable';
    case 'RECORD_TOO_LARGE':
    case 'RECORD_INVALID':
      return 'input';
    default:
      return assertNever(code);
  }
}

export interface JsonRecordSpec {
  /** The value the `format` key must hold. */
  readonly format: string;
  /** Every key the record may have, `format` included, in the order they are written. */
  readonly keys: readonly string[];
  /** Checked before the file is read (a record is small; anything near this is not one of ours). */
  readonly maxBytes: number;
}

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses the record's text; field values are left to the caller. */
export function parseJsonRecord(text: string, spec: JsonRecordSpec): Result<JsonObject, JsonRecordError> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('is not JSON');
  }
  if (!isJsonObject(value)) return invalid('is not a JSON object');
  const unknown = Object.keys(value).find((key) => !spec.keys.includes(key));
  if (unknown !== undefined) return invalid(`has an unknown key ${JSON.stringify(unknown.slice(0, 64))}`);
  if (value.format !== spec.format) return invalid(`is not format ${JSON.stringify(spec.format)}`);
  return ok(value);
}

/** Canonical text: the spec's key order, two-space indent, a trailing newline. */
export function serializeJsonRecord(record: JsonObject, spec: JsonRecordSpec): string {
  const ordered: JsonObject = {};
  for (const key of spec.keys) if (record[key] !== undefined) ordered[key] = record[key];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Reads and parses the record at `path`; errors carry `file`. */
export async function readJsonRecordFile(
  path: string,
  spec: JsonRecordSpec,
): Promise<Result<JsonObject, JsonRecordError>> {
  const bytes = await readRegularFile(path, spec.maxBytes);
  if (!bytes.ok) return err(recordReadError(bytes.error, spec.maxBytes, path));
  const text = decodeUtf8Strict(bytes.value);
  if (text === null) return err({ code: 'RECORD_INVALID', message: 'is not valid UTF-8', file: path });
  const parsed = parseJsonRecord(text, spec);
  return parsed.ok ? parsed : err({ ...parsed.error, file: path });
}

function invalid(message: string): Result<never, JsonRecordError> {
  return err({ code: 'RECORD_INVALID', message });
}

/** A record's messages name the file in `file`, not in the text (callers print both). */
function recordReadError(error: ReadError, maxBytes: number, path: string): JsonRecordError {
  switch (error.code) {
    case 'NOT_FOUND':
      return { code: 'RECORD_MISSING', message: 'does not exist', file: path };
    case 'TOO_LARGE':
      return { code: 'RECORD_TOO_LARGE', message: `is larger than ${maxBytes} bytes`, file: path };
    case 'NOT_REGULAR':
    case 'SYMLINK':
      return { code: 'RECORD_UNREADABLE', message: 'is not a regular file', file: path };
    case 'UNREADABLE':
      return { code: 'RECORD_UNREADABLE', message: `cannot be read (${error.errno ?? 'error'})`, file: path };
    default:
      return assertNever(error.code);
  }
}
