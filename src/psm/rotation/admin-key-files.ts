import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../../common/atomic-write.js';
import { ok, type Result } from '../../common/result.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import { generateSshKeyPair, wipeKeyPair } from '../../authorized-keys/keys/index.js';
import { readPublicKeyFile } from '../public-key-file.js';
import { layoutOf } from '../../vault/index.js';
import { rotationError, type RotationError } from './errors.js';

/**
 * psm's admin key pair on the admin VM during a rotation: the active pair (`admin_ed25519`, what
 * every other psm command uses), the next pair (`.next`) made before any worker sees it, and the
 * previous pair (`.prev`) kept until the last worker has dropped it. At every moment psm holds
 * every private key some worker may still accept.
 */
export interface AdminKeyPaths {
  readonly active: string;
  readonly next: string;
  readonly prev: string;
}

export function adminKeyPaths(location: string): AdminKeyPaths {
  const active = layoutOf(location).adminKey;
  return { active, next: `${active}.next`, prev: `${active}.prev` };
}

export interface HeldKey {
  readonly key: PublicKey;
  /** The private key file (OpenSSH format) psm logs in with. */
  readonly file: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The pair at `file` (+ `.pub`), or null when either half is missing. */
export async function readPair(file: string): Promise<Result<HeldKey | null, RotationError>> {
  if (!(await exists(file)) || !(await exists(`${file}.pub`))) return ok(null);
  const key = await readPublicKeyFile(`${file}.pub`);
  if (!key.ok) return rotationError('ROTATE_IO', key.error.message);
  return ok({ key: key.value, file });
}

/** The next pair, made now unless a pair from an interrupted run is there (it never reached a worker without the journal). */
export async function makeNextPair(
  paths: AdminKeyPaths,
  comment: string,
): Promise<Result<HeldKey, RotationError>> {
  const pair = generateSshKeyPair('ed25519', comment);
  try {
    await writeFileAtomic(paths.next, pair.privateKey, { mode: 0o600 });
    await writeFileAtomic(`${paths.next}.pub`, pair.publicKey, { mode: 0o644 });
  } catch (error) {
    return rotationError('ROTATE_IO', `cannot write ${paths.next}: ${(error as Error).message}`);
  } finally {
    wipeKeyPair(pair);
  }
  const held = await readPair(paths.next);
  if (!held.ok) return held;
  if (held.value === null) return rotationError('ROTATE_IO', `${paths.next} vanished`);
  return ok(held.value);
}

/**
 * Makes the next pair psm's active one: the active pair is first copied to `.prev`, then `.next`
 * is renamed over it (private half first). Repeating it after a crash finishes it.
 */
export async function switchActive(
  paths: AdminKeyPaths,
  oldFingerprint: string,
): Promise<Result<void, RotationError>> {
  try {
    const prev = await readPair(paths.prev);
    if (!prev.ok) return prev;
    if (prev.value?.key.fingerprint !== oldFingerprint) {
      const active = await readPair(paths.active);
      if (!active.ok) return active;
      if (active.value?.key.fingerprint !== oldFingerprint)
        return rotationError(
          'ROTATE_JOURNAL_INVALID',
          `neither ${paths.active} nor ${paths.prev} holds the old key ${oldFingerprint}`,
        );
      await copyAtomic(paths.active, paths.prev, 0o600);
      await copyAtomic(`${paths.active}.pub`, `${paths.prev}.pub`, 0o644);
    }
    if (await exists(paths.next)) await rename(paths.next, paths.active);
    if (await exists(`${paths.next}.pub`)) await rename(`${paths.next}.pub`, `${paths.active}.pub`);
    await fsyncDirectory(dirname(paths.active));
    return ok(undefined);
  } catch (error) {
    return rotationError('ROTATE_IO', `cannot switch the admin key: ${(error as Error).message}`);
  }
}

/** The old pair goes once no worker accepts it any more: overwritten, then removed. */
export async function dropPrevious(paths: AdminKeyPaths): Promise<Result<void, RotationError>> {
  try {
    if (await exists(paths.prev)) {
      const handle = await open(paths.prev, 'r+');
      try {
        const size = (await handle.stat()).size;
        await handle.write(Buffer.alloc(size), 0, size, 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await rm(paths.prev, { force: true });
    await rm(`${paths.prev}.pub`, { force: true });
    await fsyncDirectory(dirname(paths.prev));
    return ok(undefined);
  } catch (error) {
    return rotationError('ROTATE_IO', `cannot remove ${paths.prev}: ${(error as Error).message}`);
  }
}

async function copyAtomic(from: string, to: string, mode: number): Promise<void> {
  const data = await readFile(from);
  try {
    await writeFileAtomic(to, data, { mode });
  } finally {
    data.fill(0);
  }
}
