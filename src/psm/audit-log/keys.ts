import { err, ok, type Result } from '../../common/result.js';
import { ensureSecret, openExistingSecret, type KeyOptions } from '../../vault/index.js';
import { loadSodium, type Sodium } from '../../vault/sodium.js';
import { auditError, type AuditLogError } from './errors.js';

/**
 * The audit log's keys: one 32-byte secret sealed in the vault (`secrets.psm-audit`), from which
 * libsodium's KDF derives the entry MAC key (HMAC-SHA-256) and the checkpoint's Ed25519 key. An
 * intruder without the vault can neither forge an entry nor sign a checkpoint.
 */
export const AUDIT_SECRET_PATH = 'secrets.psm-audit';
const SECRET_BYTES = 32;
const KDF_CONTEXT = 'psmaudit';
const MAC_SUBKEY = 1;
const SIGNING_SUBKEY = 2;
/** Domain separation: an entry MAC can never be mistaken for a MAC over anything else. */
const MAC_DOMAIN = 'psm-audit-entry-v1\n';

export interface AuditKeys {
  readonly sodium: Sodium;
  /** HMAC-SHA-256 (hex) of an entry body. */
  mac(body: string): string;
  /** Constant-time check of a MAC (hex) over an entry body. */
  macMatches(body: string, macHex: string): boolean;
  sign(message: Uint8Array): Uint8Array;
  readonly publicKey: Uint8Array;
  /** Wipes the MAC and signing keys. */
  close(): void;
}

export function auditKeysFromSecret(sodium: Sodium, secret: Uint8Array): AuditKeys {
  if (secret.length !== SECRET_BYTES) throw new Error('bug: the audit secret is 32 bytes');
  const macKey = sodium.crypto_kdf_derive_from_key(32, MAC_SUBKEY, KDF_CONTEXT, secret);
  const seed = sodium.crypto_kdf_derive_from_key(32, SIGNING_SUBKEY, KDF_CONTEXT, secret);
  const pair = sodium.crypto_sign_seed_keypair(seed);
  sodium.memzero(seed);
  const domain = new TextEncoder().encode(MAC_DOMAIN);
  const tagged = (body: string): Uint8Array => {
    const text = new TextEncoder().encode(body);
    const out = new Uint8Array(domain.length + text.length);
    out.set(domain, 0);
    out.set(text, domain.length);
    return out;
  };
  return {
    sodium,
    publicKey: pair.publicKey,
    mac: (body) => sodium.to_hex(sodium.crypto_auth_hmacsha256(tagged(body), macKey)),
    macMatches(body, macHex) {
      if (!/^[0-9a-f]{64}$/.test(macHex)) return false;
      return sodium.crypto_auth_hmacsha256_verify(sodium.from_hex(macHex), tagged(body), macKey);
    },
    sign: (message) => sodium.crypto_sign_detached(message, pair.privateKey),
    close() {
      sodium.memzero(macKey);
      sodium.memzero(pair.privateKey);
    },
  };
}

/**
 * Takes the audit secret from the vault, making it on first use when `create` (appends); a
 * reader (verify) never writes the vault and gets AUDIT_KEY_UNAVAILABLE when there is none.
 */
export async function openAuditKeys(
  location: string,
  options: KeyOptions,
  create = true,
  lockWaitMs?: number,
): Promise<Result<AuditKeys, AuditLogError>> {
  const sodium = await loadSodium();
  const secret = create
    ? await ensureSecret(
        location,
        AUDIT_SECRET_PATH,
        SECRET_BYTES,
        options,
        lockWaitMs === undefined ? {} : { lockWaitMs },
      )
    : await existingSecret(location, options);
  if (!secret.ok)
    return err(
      auditError(
        // Another writer holding the vault is a wait that ran out, not a missing key.
        secret.error.code === 'LOCKED' ? 'AUDIT_LOCKED' : 'AUDIT_KEY_UNAVAILABLE',
        `the audit key could not be taken from the vault: ${secret.error.code}: ${secret.error.message}`,
      ),
    );
  if (secret.value.value.length !== SECRET_BYTES) {
    secret.value.value.fill(0);
    return err(
      auditError('AUDIT_KEY_UNAVAILABLE', `${AUDIT_SECRET_PATH} in the vault is not ${SECRET_BYTES} bytes`),
    );
  }
  try {
    return ok(auditKeysFromSecret(sodium, secret.value.value));
  } finally {
    secret.value.value.fill(0);
  }
}

async function existingSecret(
  location: string,
  options: KeyOptions,
): Promise<Result<{ value: Uint8Array }, { code: string; message: string }>> {
  const found = await openExistingSecret(location, AUDIT_SECRET_PATH, options);
  if (!found.ok) return found;
  if (found.value === null)
    return err({
      code: 'NO_SUCH_SECRET',
      message: `no ${AUDIT_SECRET_PATH} yet: psm has logged nothing here`,
    });
  return ok({ value: found.value });
}
