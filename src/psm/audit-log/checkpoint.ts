import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../../common/result.js';
import { auditError, type AuditLogError } from './errors.js';
import type { AuditKeys } from './keys.js';

/**
 * The signed checkpoint, after C2SP tlog-checkpoint and signed-note: origin, entry count and
 * head hash, one per line, then a blank line and one Ed25519 note signature
 * ("— <name> base64(key id || signature)", key id = SHA-256(name || 0x0A || 0x01 || key)[:4]).
 * The head is the SHA-256 of the last counted line, not a Merkle root: psm's log is a hash chain.
 * Kept in its own file, so cutting the newest entries off the log shows.
 */
export const MAX_CHECKPOINT_BYTES = 4096;
const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_NOTE_TYPE = 0x01;

export interface Checkpoint {
  readonly origin: string;
  readonly count: number;
  /** SHA-256 (hex) of the line of entry count-1, or 64 zeros for an empty log. */
  readonly head: string;
}

/** The log's name: derived from its signing key, so a checkpoint of another log never fits. */
export function originOf(keys: AuditKeys): string {
  return `psm-audit/${createHash('sha256').update(keys.publicKey).digest('hex').slice(0, 16)}`;
}

function keyId(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_NOTE_TYPE]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

function noteBody(checkpoint: Checkpoint): string {
  return `${checkpoint.origin}\n${checkpoint.count}\n${Buffer.from(checkpoint.head, 'hex').toString('base64')}\n`;
}

export function signCheckpoint(keys: AuditKeys, count: number, head: string): string {
  const origin = originOf(keys);
  const body = noteBody({ origin, count, head });
  const signature = keys.sign(new TextEncoder().encode(body));
  const blob = Buffer.concat([keyId(origin, keys.publicKey), signature]).toString('base64');
  return `${body}\n${SIGNATURE_PREFIX}${origin} ${blob}\n`;
}

const COUNT = /^(0|[1-9][0-9]{0,15})$/;
const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

/** Parses and verifies a checkpoint against this log's key; anything else is refused. */
export function verifyCheckpoint(keys: AuditKeys, text: string): Result<Checkpoint, AuditLogError> {
  const invalid = (why: string): Result<never, AuditLogError> =>
    err(auditError('AUDIT_CHECKPOINT_INVALID', `the checkpoint ${why}`));
  if (text.length > MAX_CHECKPOINT_BYTES) return invalid('is too large');
  const split = text.indexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) return invalid('is not a signed note');
  const body = text.slice(0, split + 1);
  const signatures = text.slice(split + 2, -1).split('\n');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length !== 3 || signatures.length !== 1) return invalid('does not have the lines psm writes');
  const [origin, countText, headText] = lines as [string, string, string];
  const expected = originOf(keys);
  if (origin !== expected) return invalid(`is for ${origin}, not this log (${expected})`);
  if (!COUNT.test(countText) || !Number.isSafeInteger(Number(countText))) return invalid('has a bad count');
  if (!BASE64_32.test(headText) || Buffer.from(headText, 'base64').toString('base64') !== headText)
    return invalid('has a bad head hash');
  const signature = signatures[0] as string;
  const prefix = `${SIGNATURE_PREFIX}${expected} `;
  if (!signature.startsWith(prefix)) return invalid('is not signed by this log');
  const blob = Buffer.from(signature.slice(prefix.length), 'base64');
  if (blob.toString('base64') !== signature.slice(prefix.length) || blob.length !== 68)
    return invalid('signature is malformed');
  if (!blob.subarray(0, 4).equals(keyId(expected, keys.publicKey)))
    return invalid('is signed by another key');
  const valid = keys.sodium.crypto_sign_verify_detached(
    blob.subarray(4),
    new TextEncoder().encode(body),
    keys.publicKey,
  );
  if (!valid) return invalid('signature does not verify');
  return ok({ origin, count: Number(countText), head: Buffer.from(headText, 'base64').toString('hex') });
}
