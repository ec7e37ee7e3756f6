/**
 * Hashed host names (`|1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>`), as hostfile.c host_hash
 * writes them and match_maybe_hashed checks them. HMAC-SHA1 here is OpenSSH's format, not a choice.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeCanonicalBase64 } from '../common/base64.js';
import { ok, type Result } from '../common/result.js';
import { knownHostsError, type KnownHostsError } from './known-hosts-errors.js';

export const HASH_MAGIC = '|1|';
/** SHA_DIGEST_LENGTH: both the salt and the HMAC are 20 bytes. */
export const HASH_SALT_BYTES = 20;
const HASH_BYTES = 20;

export interface HashedHost {
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
}

/** Where salts come from: random in production, injected in tests for deterministic output. */
export type SaltSource = () => Uint8Array;

export const randomSalt: SaltSource = () => new Uint8Array(randomBytes(HASH_SALT_BYTES));

/** Parses a whole host field that starts with `|`; `start` is its offset in the line. */
export function parseHashedHost(field: string, start = 0): Result<HashedHost, KnownHostsError> {
  const bad = (why: string): ReturnType<typeof knownHostsError> =>
    knownHostsError('BAD_HASHED_HOST', `hashed host ${why} (want |1|<salt>|<hash>)`, start);
  if (!field.startsWith(HASH_MAGIC)) return bad('does not start with |1|');
  const parts = field.slice(HASH_MAGIC.length).split('|');
  if (parts.length !== 2) return bad('does not have exactly two |-separated parts after |1|');
  const salt = decodeCanonical(parts[0] ?? '', HASH_SALT_BYTES);
  if (salt === null) return bad('salt is not canonical base64 of 20 bytes');
  const hash = decodeCanonical(parts[1] ?? '', HASH_BYTES);
  if (hash === null) return bad('hash is not canonical base64 of 20 bytes');
  return ok({ salt, hash });
}

export function serializeHashedHost(hashed: HashedHost): string {
  return `${HASH_MAGIC}${Buffer.from(hashed.salt).toString('base64')}|${Buffer.from(hashed.hash).toString('base64')}`;
}

/** HMAC-SHA1 keyed with the salt over the name exactly as given (callers lowercase first). */
export function hashHostName(name: string, salt: Uint8Array): HashedHost {
  if (salt.length !== HASH_SALT_BYTES) throw new Error(`salt must be ${HASH_SALT_BYTES} bytes`);
  const hash = new Uint8Array(createHmac('sha1', salt).update(name, 'utf8').digest());
  return { salt: Uint8Array.from(salt), hash };
}

export function hashedHostMatches(name: string, hashed: HashedHost): boolean {
  const candidate = hashHostName(name, hashed.salt);
  return timingSafeEqual(candidate.hash, hashed.hash);
}

/** Standard base64 with padding, accepted only if it re-encodes to the same text. */
function decodeCanonical(text: string, length: number): Uint8Array | null {
  const bytes = decodeCanonicalBase64(text);
  return bytes !== null && bytes.length === length ? bytes : null;
}
