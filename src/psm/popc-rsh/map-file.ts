import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { errnoOf } from '../../common/errno.js';
import { ok, type Result } from '../../common/result.js';
import { MAX_TUNNEL_MAP_BYTES, type TunnelWorker } from './config.js';
import { popcRshError, type PopcRshError } from './errors.js';
import { addToTunnelMap } from './map-entry.js';

/**
 * Adds `entry` to the tunnel map in `file` (created when missing), or puts it in place of the
 * entry of the same name: read bounded, checked, written atomically with mode 0600. A map that
 * cannot be read or is not one psm's POPC_RSH accepts is left as it is.
 */
export async function addToTunnelMapFile(
  file: string,
  entry: TunnelWorker,
): Promise<Result<void, PopcRshError>> {
  let before: Buffer | undefined;
  try {
    before = await readFile(file);
  } catch (error) {
    const why = errnoOf(error);
    if (why !== 'ENOENT') return popcRshError('POPC_RSH_MAP_IO', `cannot read ${file} (${why})`);
  }
  if (before !== undefined && before.length > MAX_TUNNEL_MAP_BYTES)
    return popcRshError('POPC_RSH_CONFIG_INVALID', `${file} is larger than ${MAX_TUNNEL_MAP_BYTES} bytes`);
  const text = addToTunnelMap(before?.toString('utf8'), entry);
  if (!text.ok) return popcRshError(text.error.code, `${file}: ${text.error.message}`);
  try {
    await writeFileAtomic(file, text.value, { mode: 0o600 });
  } catch (error) {
    return popcRshError('POPC_RSH_MAP_IO', `cannot write ${file} (${errnoOf(error)})`);
  }
  return ok(undefined);
}
