import { timingSafeEqual } from 'node:crypto';
import { ok, type Result } from '../../common/result.js';
import { readKeyField, type PublicKey } from '../../authorized-keys/index.js';
import { hostKeyError, type HostKeyError } from './errors.js';
import { decodeUtf8Strict } from '../../common/utf8.js';

/**
 * Checks of what a guest says back. The guest is not trusted: prepare reads each installed `.pub`
 * back and pins only a key that is exactly the one psm made, so a guest that swaps, truncates or
 * floods the file gets a coded error and the pin store is never touched.
 */

/** A `.pub` line is a few hundred bytes (RSA 3072: ~570); anything near this is not one. */
export const MAX_GUEST_PUB_BYTES = 16 * 1024;

/** Parses a `.pub` file read back from the guest into its key (one line, optional comment). */
export function parseGuestPublicKey(data: Uint8Array, path: string): Result<PublicKey, HostKeyError> {
  if (data.length > MAX_GUEST_PUB_BYTES)
    return hostKeyError(
      'GUEST_ANSWER_TOO_LARGE',
      `${path} in the guest is ${data.length} bytes (at most ${MAX_GUEST_PUB_BYTES})`,
    );
  const text = decodeUtf8Strict(data);
  if (text === null) return hostKeyError('GUEST_KEY_INVALID', `${path} in the guest is not UTF-8 text`);
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body.includes('\n') || body.includes('\r') || body.includes('\0'))
    return hostKeyError('GUEST_KEY_INVALID', `${path} in the guest is not one line`);
  const read = readKeyField(body, 0);
  if (!read.ok) return hostKeyError('GUEST_KEY_INVALID', `${path} in the guest: ${read.error.message}`);
  if (read.value.key.certificate)
    return hostKeyError('GUEST_KEY_INVALID', `${path} in the guest holds a certificate, not a host key`);
  return ok(read.value.key);
}

/** The guest's `.pub` must be the very key psm installed (same blob), nothing else is pinned. */
export function checkGuestPublicKey(
  data: Uint8Array,
  path: string,
  expectedBlob: Uint8Array,
): Result<PublicKey, HostKeyError> {
  const parsed = parseGuestPublicKey(data, path);
  if (!parsed.ok) return parsed;
  const blob = parsed.value.blob;
  if (blob.length !== expectedBlob.length || !timingSafeEqual(blob, expectedBlob))
    return hostKeyError(
      'GUEST_KEY_MISMATCH',
      `${path} in the guest (${parsed.value.fingerprint}) is not the key psm installed`,
    );
  return parsed;
}
