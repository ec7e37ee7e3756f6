import type { Server } from 'node:http';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { readRegularFile } from '../../common/bounded-read.js';
import { errnoOf } from '../../common/errno.js';
import { err, ok, type Result } from '../../common/result.js';
import type { DaemonError } from './errors.js';

/** The socket's mode: the daemon's user and group may connect, nobody else. */
export const SOCKET_MODE = 0o660;
const MAX_GROUP_FILE_BYTES = 4 * 1024 * 1024;

function fail(message: string): Result<never, DaemonError> {
  return err({ code: 'SOCKET_IO', message });
}

/** A group given as a number or a name from /etc/group (Node has no getgrnam). */
export async function resolveGroup(
  group: string,
  groupFile = '/etc/group',
): Promise<Result<number, DaemonError>> {
  if (/^\d{1,10}$/.test(group)) return ok(Number(group));
  const read = await readRegularFile(groupFile, MAX_GROUP_FILE_BYTES);
  if (!read.ok) return fail(`cannot read ${groupFile} to find the group ${JSON.stringify(group)}`);
  for (const line of Buffer.from(read.value).toString('utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d{1,10}$/.test(gid)) return ok(Number(gid));
  }
  return fail(`no group ${JSON.stringify(group.slice(0, 64))} in ${groupFile}`);
}

/**
 * Listens on `path` with mode 0660 (and `gid` as its group). The caller holds the daemon's pid
 * lock, so a socket already there is a dead daemon's and is replaced; anything else in its place
 * is refused. The umask is tightened while the socket is made, so it is never reachable with
 * wider permissions, not even between bind and chmod.
 */
export async function listenOnSocket(
  server: Server,
  path: string,
  gid: number | undefined,
): Promise<Result<void, DaemonError>> {
  try {
    const info = await lstat(path);
    if (!info.isSocket()) return fail(`${path} exists and is not a socket; remove it`);
    await unlink(path);
  } catch (error) {
    if (errnoOf(error, 'error') !== 'ENOENT')
      return fail(`cannot replace ${path} (${errnoOf(error, 'error')})`);
  }
  const before = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    return fail(`cannot listen on ${path} (${errnoOf(error, 'error')})`);
  } finally {
    process.umask(before);
  }
  try {
    if (gid !== undefined) await chown(path, -1, gid);
    await chmod(path, SOCKET_MODE);
  } catch (error) {
    server.close();
    return fail(`cannot set the group or mode of ${path} (${errnoOf(error, 'error')})`);
  }
  return ok(undefined);
}
