/**
 * Hashed host names (`|1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>`), as hostfile.c host_hash
 * writes them and match_maybe_hashed checks them. HMAC-SHA1 here is OpenSSH's format, not a choice.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeCanonicalBase64 } from '../../common/base64.js';
import { codedError, err, ok, type Err, type Result } from '../../common/result.js';
import type { KnownHostsError } from './errors.js';

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

/** Salts drawn from the system's random source this many at a time (one call per block). */
const SALTS_PER_DRAW = 1024;

/**
 * A salt source for hashing a whole file: random salts as randomSalt gives, drawn a block at a
 * time, since asking the system for each 20-byte salt cost more than hashing the name. Each salt
 * is its own copy; the source belongs to its caller (no state shared between files).
 */
export function randomSalts(): SaltSource {
  let block = new Uint8Array(0);
  let next = 0;
  return () => {
    if (next === block.length) {
      block = new Uint8Array(randomBytes(HASH_SALT_BYTES * SALTS_PER_DRAW));
      next = 0;
    }
    next += HASH_SALT_BYTES;
    return block.slice(next - HASH_SALT_BYTES, next);
  };
}

/** Parses a whole host field that starts with `|`; `start` is its offset in the line. */
export function parseHashedHost(field: string, start = 0): Result<HashedHost, KnownHostsError> {
  if (!field.startsWith(HASH_MAGIC)) return badHashedHost('does not start with |1|', start);
  const bar = field.indexOf('|', HASH_MAGIC.length);
  if (bar === -1 || field.includes('|', bar + 1))
    return badHashedHost('does not have exactly two |-separated parts after |1|', start);
  const salt = decodeCanonical(field.slice(HASH_MAGIC.length, bar), HASH_SALT_BYTES);
  if (salt === null) return badHashedHost('salt is not canonical base64 of 20 bytes', start);
  const mac = decodeCanonical(field.slice(bar + 1), HASH_BYTES);
  if (mac === null) return badHashedHost('hash is not canonical base64 of 20 bytes', start);
  return ok({ salt, hash: mac });
}

function badHashedHost(why: string, start: number): Err<KnownHostsError> {
  return err(codedError('BAD_HASHED_HOST', `hashed host ${why} (want |1|<salt>|<hash>)`, start + 1));
}

export function serializeHashedHost(hashed: HashedHost): string {
  return `${HASH_MAGIC}${Buffer.from(hashed.salt).toString('base64')}|${Buffer.from(hashed.hash).toString('base64')}`;
}

/** HMAC-SHA1 keyed with the salt over the name exactly as given (callers lowercase first). */
export function hashHostName(name: string, salt: Uint8Array): HashedHost {
  const mac = new HostNameHmac(name).of(salt);
  return { salt: Uint8Array.from(salt), hash: new Uint8Array(Buffer.from(mac, 'latin1')) };
}

export function hashedHostMatches(name: string, hashed: HashedHost): boolean {
  return new HostNameHmac(name).matches(hashed);
}

const SHA1_BLOCK_BYTES = 64;
const INNER_PAD = 0x36;
const OUTER_PAD = 0x5c;

/**
 * HMAC-SHA1 (RFC 2104) of one host name under salt after salt: a lookup checks the name against
 * every hashed line of a file, as ssh-keygen -F does. Spelled out over node:crypto's one-shot
 * SHA-1 because createHmac sets up a new OpenSSL context for every line, which costs more than
 * the two hashes; test/unit/known-hosts-hash.test.ts holds it to createHmac. Each instance owns
 * its two pad blocks, so lookups never share state.
 */
export class HostNameHmac {
  /** (salt ^ ipad) || name: the salt is 20 bytes, so the rest of the block stays ipad ^ 0. */
  readonly #inner: Buffer;
  /** (salt ^ opad) || inner hash. */
  readonly #outer: Buffer;
  readonly #mac = Buffer.allocUnsafe(HASH_BYTES);

  constructor(name: string) {
    const message = Buffer.from(name, 'utf8');
    // Every byte of both blocks is set here or in of() before it is hashed.
    this.#inner = Buffer.allocUnsafe(SHA1_BLOCK_BYTES + message.length).fill(INNER_PAD);
    message.copy(this.#inner, SHA1_BLOCK_BYTES);
    this.#outer = Buffer.allocUnsafe(SHA1_BLOCK_BYTES + HASH_BYTES).fill(OUTER_PAD);
  }

  /** The HMAC as a latin1 ('binary') string of its 20 bytes, or as base64. */
  of(salt: Uint8Array, encoding: 'binary' | 'base64' = 'binary'): string {
    if (salt.length !== HASH_SALT_BYTES) throw new Error(`salt must be ${HASH_SALT_BYTES} bytes`);
    for (let i = 0; i < HASH_SALT_BYTES; i++) {
      const byte = salt[i] as number;
      this.#inner[i] = byte ^ INNER_PAD;
      this.#outer[i] = byte ^ OUTER_PAD;
    }
    this.#outer.write(hash('sha1', this.#inner, 'binary'), SHA1_BLOCK_BYTES, 'latin1');
    return hash('sha1', this.#outer, encoding);
  }

  matches(hashed: HashedHost): boolean {
    this.#mac.write(this.of(hashed.salt), 0, 'latin1');
    return timingSafeEqual(this.#mac, hashed.hash);
  }
}

/** Standard base64 with padding, accepted only if it re-encodes to the same text. */
function decodeCanonical(text: string, length: number): Uint8Array | null {
  const bytes = decodeCanonicalBase64(text);
  return bytes !== null && bytes.length === length ? bytes : null;
}
