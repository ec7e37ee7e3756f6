import { ok, type Result } from '../../common/result.js';
import { readKeyField, type PublicKey } from '../../authorized-keys/index.js';
import { keyxError, type KeyExchangeError } from './errors.js';
import { isValidId, MAX_ID_LENGTH, MAX_INITIATORS_PER_APP, MAX_PUBLIC_KEY_TEXT } from './limits.js';

/** Checks of what callers (the job manager, the CLI, a daemon request) hand to key exchange. */

export function checkId(value: unknown, what: string): Result<string, KeyExchangeError> {
  if (typeof value === 'string' && isValidId(value)) return ok(value);
  return keyxError(
    'KEYX_BAD_ID',
    `the ${what} must be 1-${MAX_ID_LENGTH} letters, digits and . _ : @ - (starting with a letter or digit)`,
  );
}

/** One OpenSSH public key, "type base64 [comment]" on one line; certificates are refused. */
export function parseCallerKey(value: unknown, what: string): Result<PublicKey, KeyExchangeError> {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PUBLIC_KEY_TEXT)
    return keyxError(
      'KEYX_BAD_KEY',
      `the ${what} key must be one public key line of at most ${MAX_PUBLIC_KEY_TEXT} characters`,
    );
  const text = value.endsWith('\n') ? value.slice(0, -1) : value;
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\x00-\x1f\x7f]/.test(text))
    return keyxError('KEYX_BAD_KEY', `the ${what} key must be one line without control characters`);
  const read = readKeyField(text, 0);
  if (!read.ok) return keyxError('KEYX_BAD_KEY', `the ${what} key: ${read.error.message}`);
  if (read.value.key.certificate)
    return keyxError('KEYX_BAD_KEY', `the ${what} key is a certificate; give its plain public key`);
  return ok(read.value.key);
}

export interface ApplicationKeys {
  /** The main node's public key ("ssh-ed25519 AAAA... comment"). */
  readonly mainNode: string;
  /** The application's job initiators' public keys (may be empty). */
  readonly initiator: readonly string[];
}

export function parseApplicationKeys(
  keys: ApplicationKeys,
): Result<{ mainNode: PublicKey; initiators: PublicKey[] }, KeyExchangeError> {
  const mainNode = parseCallerKey(keys.mainNode, 'main node');
  if (!mainNode.ok) return mainNode;
  if (!Array.isArray(keys.initiator) || keys.initiator.length > MAX_INITIATORS_PER_APP)
    return keyxError('KEYX_TOO_MANY', `an application has at most ${MAX_INITIATORS_PER_APP} initiator keys`);
  const initiators: PublicKey[] = [];
  for (const [i, text] of keys.initiator.entries()) {
    const key = parseCallerKey(text, `initiator ${i + 1}`);
    if (!key.ok) return key;
    initiators.push(key.value);
  }
  return ok({ mainNode: mainNode.value, initiators });
}
