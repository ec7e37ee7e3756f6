import type { OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import { ok, type Result } from '../../common/result.js';
import { compareKeyFile, type KeyFileFinding } from './check-file.js';
import { keyxError, type KeyExchangeError } from './errors.js';
import { AUTHORIZED_KEYS_MODE, GUEST_AUTHORIZED_KEYS, ROOT_OWNER } from './guest-paths.js';
import { MAX_GUEST_AUTHORIZED_KEYS_BYTES } from './limits.js';
import type { RenderedFile } from './render-file.js';

/** Findings that do not make a write wrong: a line psm wrote a while ago may have expired since. */
const TOLERATED_AFTER_WRITE = new Set<KeyFileFinding['code']>(['EXPIRED_LINE']);

/**
 * Replaces the worker's whole authorized_keys with `file` (the agent writes a temp file, sets
 * root ownership and 0644, and renames it over), then reads it back and parses it with psm's
 * engine: the change counts only if the file now means exactly the intended lines, root-owned
 * with that mode. Never the agent's guest-ssh-add-authorized-keys (blocked in psm's image).
 */
export async function writeAuthorizedKeys(
  worker: Worker,
  file: RenderedFile,
  now: Date,
  ops: OpOptions = {},
): Promise<Result<void, KeyExchangeError>> {
  const written = await worker.copyToGuest(Buffer.from(file.text, 'utf8'), GUEST_AUTHORIZED_KEYS, {
    ...ops,
    mode: AUTHORIZED_KEYS_MODE,
    owner: ROOT_OWNER,
  });
  if (!written.ok)
    return keyxError(
      'KEYX_GUEST',
      `writing ${GUEST_AUTHORIZED_KEYS} on ${worker.name}: ${written.error.code}: ${written.error.message}`,
    );
  return verifyAuthorizedKeys(worker, file, now, ops);
}

export async function verifyAuthorizedKeys(
  worker: Worker,
  file: RenderedFile,
  now: Date,
  ops: OpOptions = {},
): Promise<Result<void, KeyExchangeError>> {
  const read = await worker.copyFromGuest(GUEST_AUTHORIZED_KEYS, ops);
  if (!read.ok)
    return keyxError(
      'KEYX_GUEST',
      `reading ${GUEST_AUTHORIZED_KEYS} back from ${worker.name}: ${read.error.code}: ${read.error.message}`,
    );
  const { data, mode, owner } = read.value;
  if (data.length > MAX_GUEST_AUTHORIZED_KEYS_BYTES)
    return keyxError(
      'KEYX_VERIFY_FAILED',
      `${GUEST_AUTHORIZED_KEYS} on ${worker.name} is ${data.length} bytes, larger than psm writes`,
    );
  if (mode !== AUTHORIZED_KEYS_MODE || owner.uid !== ROOT_OWNER.uid || owner.gid !== ROOT_OWNER.gid)
    return keyxError(
      'KEYX_VERIFY_FAILED',
      `${GUEST_AUTHORIZED_KEYS} on ${worker.name} is mode ${mode.toString(8)} owner ${owner.uid}:${owner.gid}, not 644 root:root`,
    );
  const wrong = compareKeyFile(data, file.lines, now).filter((f) => !TOLERATED_AFTER_WRITE.has(f.code));
  if (wrong.length > 0)
    return keyxError(
      'KEYX_VERIFY_FAILED',
      `${GUEST_AUTHORIZED_KEYS} on ${worker.name} does not mean the intended keys: ${wrong
        .slice(0, 4)
        .map((f) => `${f.code} ${f.message}`)
        .join('; ')}`,
    );
  return ok(undefined);
}
