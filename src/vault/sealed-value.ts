import { randomBytes } from 'node:crypto';
import { decodeCanonicalBase64 } from '../common/base64.js';
import { err, ok, type Result } from '../common/result.js';
import { vaultError, type VaultError } from './errors.js';
import type { Sodium } from './sodium.js';

/**
 * One sealed secret, stored as a one-line TOML string:
 *   psm-sealed:v1:<key id, 16 hex>:<nonce, base64 of 24 bytes>:<ciphertext+tag, base64>
 * XChaCha20-Poly1305; the associated data binds the format version, the file id, the key id and
 * the value's path, so a value copied to another field or another vault fails to open.
 */
export const SEALED_PREFIX = 'psm-sealed';
export const SEALED_VERSION = 'v1';
export const KEY_ID_HEX_LENGTH = 16;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
/** Longest secret psm seals; passwords and tokens are far shorter. */
export const MAX_SECRET_BYTES = 4096;
/** Longest sealed text accepted, checked before decoding anything. */
export const MAX_SEALED_TEXT = 64 + Math.ceil(((MAX_SECRET_BYTES + TAG_BYTES) * 4) / 3) + 8;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const KEY_ID = /^[0-9a-f]{16}$/;

export interface SealedValue {
  readonly keyId: string;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** Where a sealed value lives: what the associated data binds it to. */
export interface SealContext {
  readonly fileId: string;
  readonly path: string;
}

export function looksSealed(text: string): boolean {
  return text.startsWith(`${SEALED_PREFIX}:`);
}

/** Strict canonical base64: decoding and re-encoding gives the same text. */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  return decodeCanonicalBase64(text) ?? undefined;
}

export function parseSealed(text: string, path: string): Result<SealedValue, VaultError> {
  if (text.length > MAX_SEALED_TEXT)
    return err(vaultError('TAMPERED', `${path}: the sealed value is longer than psm ever writes`));
  const parts = text.split(':');
  if (parts[0] !== SEALED_PREFIX)
    return err(vaultError('PLAINTEXT_SECRET', `${path}: this is not a sealed value`));
  if (parts[1] !== SEALED_VERSION)
    return err(
      vaultError(
        'UNKNOWN_FORMAT_VERSION',
        `${path}: sealed with format "${(parts[1] ?? '').slice(0, 16)}", which this psm does not know (it knows ${SEALED_VERSION})`,
      ),
    );
  const [, , keyId, nonceText, cipherText] = parts;
  if (parts.length !== 5 || keyId === undefined || nonceText === undefined || cipherText === undefined)
    return err(vaultError('TAMPERED', `${path}: the sealed value does not have its five parts`));
  if (!KEY_ID.test(keyId))
    return err(vaultError('TAMPERED', `${path}: the key id in the sealed value is malformed`));
  const nonce = decodeBase64Strict(nonceText);
  if (nonce === undefined || nonce.length !== NONCE_BYTES)
    return err(vaultError('TAMPERED', `${path}: the nonce in the sealed value is malformed`));
  const ciphertext = decodeBase64Strict(cipherText);
  if (ciphertext === undefined || ciphertext.length <= TAG_BYTES)
    return err(vaultError('TAMPERED', `${path}: the ciphertext in the sealed value is malformed`));
  return ok({ keyId, nonce, ciphertext });
}

export function serializeSealed(value: SealedValue): string {
  return [
    SEALED_PREFIX,
    SEALED_VERSION,
    value.keyId,
    Buffer.from(value.nonce).toString('base64'),
    Buffer.from(value.ciphertext).toString('base64'),
  ].join(':');
}

function associatedData(keyId: string, context: SealContext): Uint8Array {
  return new TextEncoder().encode(
    `${SEALED_PREFIX}:${SEALED_VERSION}\n${context.fileId}\n${keyId}\n${context.path}`,
  );
}

/** Seals `secret` (not wiped here: the caller owns it). Throws only for bugs (bad key length). */
export function sealSecret(
  sodium: Sodium,
  key: Uint8Array,
  keyId: string,
  context: SealContext,
  secret: Uint8Array,
): string {
  if (secret.length === 0 || secret.length > MAX_SECRET_BYTES)
    throw new Error(`bug: secret length ${secret.length} not checked before sealing`);
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    secret,
    associatedData(keyId, context),
    null,
    nonce,
    key,
  );
  return serializeSealed({ keyId, nonce, ciphertext });
}

/** Opens a sealed value; the plaintext is the caller's to wipe. */
export function openSealed(
  sodium: Sodium,
  key: Uint8Array,
  keyId: string,
  context: SealContext,
  text: string,
): Result<Uint8Array, VaultError> {
  const parsed = parseSealed(text, context.path);
  if (!parsed.ok) return parsed;
  if (parsed.value.keyId !== keyId)
    return err(
      vaultError(
        'TAMPERED',
        `${context.path} was sealed with key ${parsed.value.keyId}, not this vault's key ${keyId}: it was altered or copied from another vault`,
      ),
    );
  try {
    return ok(
      sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        parsed.value.ciphertext,
        associatedData(keyId, context),
        parsed.value.nonce,
        key,
      ),
    );
  } catch {
    return err(
      vaultError(
        'TAMPERED',
        `${context.path} failed authentication: the sealed value was altered, truncated, or moved from another field or file`,
      ),
    );
  }
}
