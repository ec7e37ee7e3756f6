import { open, readFile, unlink } from 'node:fs/promises';
import { err, ok, type Result } from '../common/result.js';
import { errnoCode, vaultError, type VaultError } from './errors.js';

/** How many times a stale lock (its process is gone) is taken over before giving up. */
const MAX_LOCK_ATTEMPTS = 3;

export type Unlock = () => Promise<void>;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/**
 * One writer at a time: an exclusive-create lock file holding the writer's pid. A lock whose
 * process is gone (killed mid-write) is stale and is taken over; a live one refuses with LOCKED.
 */
export async function acquireLock(path: string): Promise<Result<Unlock, VaultError>> {
  for (let attempt = 0; attempt < MAX_LOCK_ATTEMPTS; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return ok(async () => {
        await unlink(path).catch(() => undefined);
      });
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST')
        return err(
          vaultError('IO_FAILED', `cannot create the lock ${path} (${errnoCode(error)})`, { file: path }),
        );
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder))
      return err(
        vaultError(
          'LOCKED',
          `another psm (pid ${holder}) is changing the vault; try again when it has finished`,
          {
            file: path,
          },
        ),
      );
    await unlink(path).catch(() => undefined);
  }
  return err(vaultError('LOCKED', `cannot take the lock ${path}: it keeps coming back`, { file: path }));
}
