import { err, ok, type Result } from '../../common/result.js';
import { decodeBase64, hasOnlyKeys, isRecord, isSafeInt, parseJsonLine } from '../wire/untrusted-json.js';

/**
 * The guest agent's replies, parsed as untrusted input: the guest is exactly what psm does not
 * trust yet. Every decoder checks the shape it needs, refuses extra keys where QEMU documents the
 * whole object, and bounds every size before allocating.
 */

/** Longest reply line accepted: exec output (16 MiB per stream at most in qemu-ga) in base64, twice. */
export const MAX_AGENT_REPLY_BYTES = 48 * 1024 * 1024;
/** Longest error description kept from the agent (it goes into a message for people). */
export const MAX_AGENT_ERROR_CHARS = 512;

export type AgentReply =
  | { readonly kind: 'return'; readonly value: unknown }
  | { readonly kind: 'error'; readonly errorClass: string; readonly desc: string };

export function parseAgentReply(bytes: Uint8Array): Result<AgentReply, string> {
  const parsed = parseJsonLine(bytes);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isRecord(value)) return err('the reply is not a JSON object');
  if ('return' in value) {
    if (!hasOnlyKeys(value, ['return', 'id'])) return err('the reply has unknown keys');
    return ok({ kind: 'return', value: value.return });
  }
  if ('error' in value) {
    if (!hasOnlyKeys(value, ['error', 'id'])) return err('the reply has unknown keys');
    const e = value.error;
    if (!isRecord(e) || typeof e.class !== 'string' || typeof e.desc !== 'string')
      return err('the error reply has no class and desc');
    return ok({ kind: 'error', errorClass: printable(e.class), desc: printable(e.desc) });
  }
  return err('the reply has neither "return" nor "error"');
}

/** Agent text made safe for a one-line message: no control characters, bounded length. */
export function printable(text: string): string {
  let cleaned = '';
  // Bounded first: the desc may be as long as a whole reply line.
  for (const ch of text.slice(0, MAX_AGENT_ERROR_CHARS + 1)) {
    const c = ch.charCodeAt(0);
    cleaned += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? ' ' : ch;
  }
  return cleaned.length > MAX_AGENT_ERROR_CHARS ? `${cleaned.slice(0, MAX_AGENT_ERROR_CHARS)}...` : cleaned;
}

/** guest-sync-delimited returns the id it was sent. */
export function decodeSyncId(value: unknown): Result<number, string> {
  return isSafeInt(value) ? ok(value) : err('the sync reply is not an integer');
}

/** guest-file-open returns a handle (an integer). */
export function decodeFileHandle(value: unknown): Result<number, string> {
  return isSafeInt(value) && value >= 0 ? ok(value) : err('the file handle is not a non-negative integer');
}

export interface FileReadChunk {
  readonly bytes: Buffer;
  readonly eof: boolean;
}

/** guest-file-read returns {count, buf-b64, eof}; count must match the decoded bytes. */
export function decodeFileRead(value: unknown, maxBytes: number): Result<FileReadChunk, string> {
  if (!isRecord(value) || !hasOnlyKeys(value, ['count', 'buf-b64', 'eof']))
    return err('the read reply is not {count, buf-b64, eof}');
  const { count, eof } = value;
  const b64 = value['buf-b64'];
  if (!isSafeInt(count) || count < 0 || typeof b64 !== 'string' || typeof eof !== 'boolean')
    return err('the read reply has wrong types');
  if (count > maxBytes) return err(`the agent returned more than the ${maxBytes} bytes asked for`);
  const bytes = decodeBase64(b64, maxBytes);
  if (!bytes.ok) return err(`the read data is ${bytes.error}`);
  if (bytes.value.length !== count) return err('the read count does not match the data');
  return ok({ bytes: bytes.value, eof });
}

/** guest-file-write returns {count, eof}. */
export function decodeFileWrite(value: unknown): Result<number, string> {
  if (!isRecord(value) || !hasOnlyKeys(value, ['count', 'eof']) || !isSafeInt(value.count) || value.count < 0)
    return err('the write reply is not {count, eof}');
  return ok(value.count);
}

/** guest-exec returns {pid}. */
export function decodeExecStarted(value: unknown): Result<number, string> {
  if (!isRecord(value) || !hasOnlyKeys(value, ['pid']) || !isSafeInt(value.pid) || value.pid <= 0)
    return err('the exec reply is not {pid}');
  return ok(value.pid);
}

export type ExecStatus =
  | { readonly exited: false }
  | {
      readonly exited: true;
      readonly exitCode: number | null;
      readonly signal: number | null;
      readonly stdout: Buffer;
      readonly stderr: Buffer;
      readonly truncated: boolean;
    };

const EXEC_STATUS_KEYS = [
  'exited',
  'exitcode',
  'signal',
  'out-data',
  'err-data',
  'out-truncated',
  'err-truncated',
];

/** guest-exec-status: {exited, exitcode?, signal?, out-data?, err-data?, out-truncated?, err-truncated?}. */
export function decodeExecStatus(value: unknown, maxOutputBytes: number): Result<ExecStatus, string> {
  if (!isRecord(value) || !hasOnlyKeys(value, EXEC_STATUS_KEYS))
    return err('the exec status has unknown keys');
  if (typeof value.exited !== 'boolean') return err('the exec status has no "exited"');
  if (!value.exited) return ok({ exited: false });
  const exitCode = optionalInt(value.exitcode);
  const signal = optionalInt(value.signal);
  if (exitCode === undefined || signal === undefined) return err('the exit code or signal is not an integer');
  if ((exitCode === null) === (signal === null))
    return err('the exec status needs exactly one of exitcode and signal');
  const stdout = optionalData(value['out-data'], maxOutputBytes);
  if (!stdout.ok) return err(`stdout is ${stdout.error}`);
  const stderr = optionalData(value['err-data'], maxOutputBytes);
  if (!stderr.ok) return err(`stderr is ${stderr.error}`);
  const truncated = value['out-truncated'] === true || value['err-truncated'] === true;
  for (const key of ['out-truncated', 'err-truncated'])
    if (key in value && typeof value[key] !== 'boolean') return err(`${key} is not a boolean`);
  return ok({ exited: true, exitCode, signal, stdout: stdout.value, stderr: stderr.value, truncated });
}

function optionalInt(value: unknown): number | null | undefined {
  if (value === undefined) return null;
  return isSafeInt(value) ? value : undefined;
}

function optionalData(value: unknown, maxBytes: number): Result<Buffer, string> {
  if (value === undefined) return ok(Buffer.alloc(0));
  if (typeof value !== 'string') return err('not a string');
  return decodeBase64(value, maxBytes);
}
