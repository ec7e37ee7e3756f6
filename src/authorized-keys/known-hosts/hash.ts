/**
 * Hashed host names (`|1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>`), as hostfile.c host_hash
 * writes them and match_maybe_hashed checks them. HMAC-SHA1 here is OpenSSH's format, not a choice.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { decodeCanonicalBase64 } from '../../common/base64.js';
import { codedError, err, ok, type Err, type Result } from '../../common/result.js';
import type { KnownHostsError } from './errors.js';
import { HmacSha1 } from './hmac-sha1.js';

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

/** Where one run's salts are: each next() is the offset of a fresh 20-byte salt in `bytes`. */
export interface SaltDraw {
  readonly bytes: Uint8Array;
  next(): number;
}

/**
 * Random salts as randomSalt gives, drawn from the system a block at a time into one buffer that
 * is refilled: asking the system for each 20-byte salt cost more than hashing the name. A salt
 * stays in `bytes` only until the block is refilled; the draw belongs to its caller.
 */
export class RandomSaltDraw implements SaltDraw {
  readonly bytes = new Uint8Array(HASH_SALT_BYTES * SALTS_PER_DRAW);
  #at = this.bytes.length;

  next(): number {
    if (this.#at === this.bytes.length) {
      randomFillSync(this.bytes);
      this.#at = 0;
    }
    this.#at += HASH_SALT_BYTES;
    return this.#at - HASH_SALT_BYTES;
  }
}

/**
 * A salt source for hashing a whole file, over a RandomSaltDraw: each salt is its own copy; the
 * source belongs to its caller (no state shared between files).
 */
export function randomSalts(): SaltSource {
  const draw = new RandomSaltDraw();
  return () => {
    const at = draw.next();
    return draw.bytes.slice(at, at + HASH_SALT_BYTES);
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

/**
 * HMAC-SHA1 of one host name under salt after salt: a lookup checks the name against every
 * hashed line of a file, as ssh-keygen -F does (the arithmetic is in hmac-sha1.ts).
 */
export class HostNameHmac {
  readonly #hmac: HmacSha1;
  readonly #mac = Buffer.allocUnsafe(HASH_BYTES);

  constructor(name: string) {
    this.#hmac = new HmacSha1(Buffer.from(name, 'utf8'));
  }

  /** The HMAC as a latin1 ('binary') string of its 20 bytes, or as base64. */
  of(salt: Uint8Array, encoding: 'binary' | 'base64' = 'binary'): string {
    if (salt.length !== HASH_SALT_BYTES) throw new Error(`salt must be ${HASH_SALT_BYTES} bytes`);
    this.#hmac.compute(salt);
    this.#hmac.writeMac(this.#mac);
    return this.#mac.toString(encoding);
  }

  matches(hashed: HashedHost): boolean {
    if (hashed.salt.length !== HASH_SALT_BYTES || hashed.hash.length !== HASH_BYTES) return false;
    return this.#hmac.matches(hashed.salt, 0, hashed.hash, 0);
  }
}

/** Standard base64 with padding, accepted only if it re-encodes to the same text. */
function decodeCanonical(text: string, length: number): Uint8Array | null {
  const bytes = decodeCanonicalBase64(text);
  return bytes !== null && bytes.length === length ? bytes : null;
}
