import { readdir } from 'node:fs/promises';
import { ok, type Result } from '../../common/result.js';
import { readIntendedKeys, workersDir } from '../key-exchange/index.js';
import { rotationError, type RotationError } from './errors.js';

const RECORD = /^([A-Za-z0-9][A-Za-z0-9._:@-]{0,127})\.keys\.json$/;

/** The workers a rotation covers: every worker psm wrote an admin key to (by its intended-keys record). */
export async function preparedWorkers(location: string): Promise<Result<string[], RotationError>> {
  let names: string[];
  try {
    names = await readdir(workersDir(location));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ok([]);
    return rotationError('ROTATE_IO', `cannot list ${workersDir(location)}: ${(error as Error).message}`);
  }
  const out: string[] = [];
  for (const file of names.sort()) {
    const name = RECORD.exec(file)?.[1];
    if (name === undefined) continue;
    const record = await readIntendedKeys(location, name);
    if (!record.ok) return rotationError('ROTATE_IO', record.error.message);
    if (record.value.admin.length > 0) out.push(name);
  }
  return ok(out);
}

/** Runs `work` on every item, at most `limit` at once, in order of the list. */
export async function inPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
