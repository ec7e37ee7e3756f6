import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { ok, type Result } from '../../common/result.js';
import { fail, type GuestOpsError } from '../errors.js';
import type { FileOwner, GuestFile } from '../guest-ops.js';
import { checkGuestPath, checkMode, checkOwnerId } from '../qga/guest-input.js';
import { Deadline } from '../wire/deadline.js';
import { el, type XmlElement } from './envelope.js';
import { returnval, type GuestCaller } from './guest-call.js';
import { getGuestFile, putGuestFile } from './guest-transfer.js';
import type { Endpoint } from './transport.js';
import { child, textOf } from './xml.js';

/**
 * Host→guest and guest→host copies through the FileManager. A copy in never writes the target
 * directly: CreateTemporaryDirectoryInGuest makes a fresh 0700 directory beside it,
 * InitiateFileTransferToGuest writes the file there (mode and owner asked for, and set again
 * with ChangeFileAttributesInGuest), MoveFileInGuest renames it over the target, and the
 * directory is removed. A reader in the guest sees the old file or the complete new one with its
 * final mode, and nobody can open it while its mode is not yet set (as for the QEMU driver).
 * Copies back are bounded by the size the hypervisor announces, and must match it.
 */

/** Files psm moves are keys, configs and small payloads (as for the QEMU driver). */
export const MAX_VSPHERE_COPY_BYTES = 64 * 1024 * 1024;
/** Removing the staging directory gets its own budget: the operation's may be spent. */
const CLEANUP_MS = 5_000;

export function checkTarget(guestPath: string): Result<string, GuestOpsError> {
  const target = checkGuestPath(guestPath, 'the guest path');
  if (!target.ok) return fail('INVALID_ARGUMENT', target.error);
  if (target.value === '/') return fail('INVALID_ARGUMENT', 'the guest path must name a file');
  return ok(target.value);
}

function posixAttributes(mode: number | undefined, owner: FileOwner | undefined): XmlElement[] {
  return [
    ...(owner === undefined ? [] : [el('ownerId', owner.uid), el('groupId', owner.gid)]),
    ...(mode === undefined ? [] : [el('permissions', mode)]),
  ];
}

export interface UploadRequest {
  readonly data: Uint8Array;
  readonly guestPath: string;
  readonly mode: number;
  readonly owner?: FileOwner;
}

/** Writes `data` to `guestPath` atomically with the given mode and owner. */
export async function uploadFile(
  guest: GuestCaller,
  endpoint: Endpoint,
  request: UploadRequest,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const target = checkTarget(request.guestPath);
  if (!target.ok) return target;
  const mode = checkMode(request.mode);
  if (!mode.ok) return fail('INVALID_ARGUMENT', mode.error);
  for (const [id, what] of request.owner === undefined
    ? []
    : ([
        [request.owner.uid, 'the owner uid'],
        [request.owner.gid, 'the owner gid'],
      ] as const)) {
    const checked = checkOwnerId(id, what);
    if (!checked.ok) return fail('INVALID_ARGUMENT', checked.error);
  }
  if (request.data.length > MAX_VSPHERE_COPY_BYTES)
    return fail('TOO_LARGE', `the file is larger than ${MAX_VSPHERE_COPY_BYTES} bytes`);
  const made = await guest.call(
    'fileManager',
    'CreateTemporaryDirectoryInGuest',
    [el('prefix', '.psm-copy-'), el('suffix', ''), el('directoryPath', posix.dirname(target.value))],
    deadline,
  );
  if (!made.ok) return made;
  const dir = returnval(made.value, 'CreateTemporaryDirectoryInGuest');
  if (!dir.ok) return dir;
  const stageDir = checkGuestPath(dir.value.text, 'the temporary directory');
  if (!stageDir.ok || posix.dirname(stageDir.value) !== posix.dirname(target.value))
    return fail(
      'HYPERVISOR_PROTOCOL',
      'CreateTemporaryDirectoryInGuest: the directory is not beside the target',
    );
  try {
    return await stageAndPlace(
      guest,
      endpoint,
      request.data,
      stageDir.value,
      target.value,
      request,
      deadline,
    );
  } finally {
    await guest.call(
      'fileManager',
      'DeleteDirectoryInGuest',
      [el('directoryPath', stageDir.value), el('recursive', true)],
      new Deadline(CLEANUP_MS),
    );
  }
}

async function stageAndPlace(
  guest: GuestCaller,
  endpoint: Endpoint,
  data: Uint8Array,
  stageDir: string,
  target: string,
  request: UploadRequest,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const stage = `${stageDir}/${randomBytes(8).toString('hex')}`;
  const attributes = posixAttributes(request.mode, request.owner);
  const started = await guest.call(
    'fileManager',
    'InitiateFileTransferToGuest',
    [
      el('guestFilePath', stage),
      el('fileAttributes', attributes, 'GuestPosixFileAttributes'),
      el('fileSize', data.length),
      el('overwrite', false),
    ],
    deadline,
  );
  if (!started.ok) return started;
  const url = returnval(started.value, 'InitiateFileTransferToGuest');
  if (!url.ok) return url;
  const put = await putGuestFile(endpoint, url.value.text, data, deadline);
  if (!put.ok) return put;
  return placeStaged(guest, stage, target, attributes, deadline);
}

async function placeStaged(
  guest: GuestCaller,
  stage: string,
  target: string,
  attributes: XmlElement[],
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const changed = await guest.call(
    'fileManager',
    'ChangeFileAttributesInGuest',
    [el('guestFilePath', stage), el('fileAttributes', attributes, 'GuestPosixFileAttributes')],
    deadline,
  );
  if (!changed.ok) return changed;
  const moved = await guest.call(
    'fileManager',
    'MoveFileInGuest',
    [el('srcFilePath', stage), el('dstFilePath', target), el('overwrite', true)],
    deadline,
  );
  return moved.ok ? ok(undefined) : moved;
}

/** Reads a regular file of at most `maxBytes` with its mode and numeric owner. */
export async function downloadFile(
  guest: GuestCaller,
  endpoint: Endpoint,
  guestPath: string,
  maxBytes: number,
  deadline: Deadline,
): Promise<Result<GuestFile, GuestOpsError>> {
  const target = checkTarget(guestPath);
  if (!target.ok) return target;
  const started = await guest.call(
    'fileManager',
    'InitiateFileTransferFromGuest',
    [el('guestFilePath', target.value)],
    deadline,
  );
  if (!started.ok) return started;
  const info = returnval(started.value, 'InitiateFileTransferFromGuest');
  if (!info.ok) return info;
  const size = Number(textOf(info.value, 'size'));
  const attributes = child(info.value, 'attributes');
  const permissions = Number(textOf(attributes, 'permissions') ?? 'x');
  const uid = Number(textOf(attributes, 'ownerId') ?? 'x');
  const gid = Number(textOf(attributes, 'groupId') ?? 'x');
  const url = textOf(info.value, 'url');
  if (!Number.isSafeInteger(size) || size < 0 || url === undefined)
    return fail('HYPERVISOR_PROTOCOL', 'InitiateFileTransferFromGuest: no size or URL in the answer');
  if (![permissions, uid, gid].every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff))
    return fail(
      'HYPERVISOR_PROTOCOL',
      'InitiateFileTransferFromGuest: no POSIX mode and owner in the answer',
    );
  if (size > maxBytes) return fail('TOO_LARGE', `the guest file is larger than ${maxBytes} bytes`);
  const data = await getGuestFile(endpoint, url, size, deadline);
  if (!data.ok) return data;
  return ok({ data: data.value, mode: permissions & 0o7777, owner: { uid, gid } });
}

/** Removes a file psm made in the guest (its temp files); a missing one is not an error. */
export async function removeFile(guest: GuestCaller, guestPath: string, deadline: Deadline): Promise<void> {
  await guest.call('fileManager', 'DeleteFileInGuest', [el('filePath', guestPath)], deadline);
}
