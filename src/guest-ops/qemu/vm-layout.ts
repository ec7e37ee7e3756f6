import { isAbsolute, join, resolve } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';

/**
 * One directory per VM under the VM root, holding everything the VM has on the host:
 *
 *   <root>/<name>/vm.json      psm's record of the VM (template, memory, forwarded port)
 *   <root>/<name>/disk.qcow2   the linked clone (copy-on-write overlay over the template's disk)
 *   <root>/<name>/qmp.sock     QEMU's monitor (QMP) socket, while running
 *   <root>/<name>/qga.sock     the guest agent's virtio-serial channel, while running
 *   <root>/<name>/qemu.pid     QEMU's pidfile, while running
 *   <root>/<name>/console.log  the guest's serial console
 *
 * The directory is the whole state between psm invocations: no daemon keeps anything in memory.
 */

export const VM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
/** sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export interface VmLayout {
  readonly name: string;
  readonly dir: string;
  readonly record: string;
  readonly overlay: string;
  readonly qmpSocket: string;
  readonly qgaSocket: string;
  readonly pidfile: string;
  readonly consoleLog: string;
}

export function checkVmName(name: string): Result<string, GuestOpsError> {
  if (!VM_NAME_PATTERN.test(name))
    return err(
      guestOpsError(
        'INVALID_ARGUMENT',
        'a worker name is 1-63 characters from A-Z, a-z, 0-9, _ and -, starting with a letter or digit',
      ),
    );
  return ok(name);
}

/**
 * Paths go into QEMU option strings (`-drive file=...,format=...`), where a comma separates
 * options: refused rather than escaped, like control characters.
 */
export function checkHostPath(path: string, what: string): Result<string, GuestOpsError> {
  if (path.length === 0 || path.includes(',') || hasControl(path))
    return err(
      guestOpsError('INVALID_ARGUMENT', `${what} must not be empty or contain commas or control characters`),
    );
  return ok(path);
}

export function vmLayout(root: string, name: string): Result<VmLayout, GuestOpsError> {
  const checkedName = checkVmName(name);
  if (!checkedName.ok) return checkedName;
  const absoluteRoot = isAbsolute(root) ? root : resolve(root);
  const checkedRoot = checkHostPath(absoluteRoot, 'the VM directory');
  if (!checkedRoot.ok) return checkedRoot;
  const dir = join(absoluteRoot, name);
  const layout: VmLayout = {
    name,
    dir,
    record: join(dir, 'vm.json'),
    overlay: join(dir, 'disk.qcow2'),
    qmpSocket: join(dir, 'qmp.sock'),
    qgaSocket: join(dir, 'qga.sock'),
    pidfile: join(dir, 'qemu.pid'),
    consoleLog: join(dir, 'console.log'),
  };
  for (const socket of [layout.qmpSocket, layout.qgaSocket]) {
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES)
      return err(
        guestOpsError(
          'INVALID_ARGUMENT',
          `${socket} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket path may have; use a shorter --vm-dir or name`,
        ),
      );
  }
  return ok(layout);
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
