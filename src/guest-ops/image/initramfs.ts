import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { writeCpio, type CpioEntry } from './cpio.js';
import { guestEtcFiles } from './guest-etc.js';
import { popcStandInAt, popcStandInFiles } from './guest-popc.js';
import { POPC_POPCOBJRUN, type GuestBinaryFile } from './guest-popc-build.js';
import {
  initScript,
  startAgentScript,
  POWER_BUTTON_SCRIPT,
  START_SSHD_SCRIPT,
  SHUTDOWN_COMMAND,
  SHUTDOWN_SCRIPT,
  UDHCPC_SCRIPT,
} from './guest-init.js';
import { BUSYBOX, GUEST_BINARIES } from './recipe.js';

/** Everything the initramfs is made of, gathered from the host before it is written. */
export interface InitramfsParts {
  /** busybox applet paths (`busybox --list-full`, relative), linked to /bin/busybox. */
  readonly applets: readonly string[];
  /** Absolute host paths of the libraries and the loader; stored at the same guest path. */
  readonly libraries: readonly string[];
  /** Absolute host paths of module files under `kernelRoot`, in load order. */
  readonly modules: readonly string[];
  /** The unpacked kernel package (modules are stored relative to it). */
  readonly kernelRoot: string;
  readonly blockedRpcs: readonly string[];
  /** POP-C++'s worker side, when the image is built with a POP-C++ tree. */
  readonly popcFiles?: readonly GuestBinaryFile[];
}

const DIRECTORIES: ReadonlyArray<readonly [string, number]> = [
  // Without this the initramfs root is 1777, and sshd's StrictModes refuses every key file.
  ['.', 0o755],
  ['proc', 0o555],
  ['sys', 0o555],
  ['dev', 0o755],
  ['run', 0o755],
  ['tmp', 0o1777],
  ['root', 0o700],
  ['persist', 0o755],
  ['var', 0o755],
  ['var/log', 0o755],
  ['etc/psm', 0o755],
];

/** The initramfs as an uncompressed newc cpio (the kernel unpacks it faster than gzip under TCG). */
export async function buildInitramfs(parts: InitramfsParts): Promise<Buffer> {
  const entries = new Map<string, CpioEntry>();
  const add = (entry: CpioEntry): void => {
    for (let dir = posix.dirname(entry.path); dir !== '.'; dir = posix.dirname(dir))
      if (!entries.has(dir)) entries.set(dir, { kind: 'dir', path: dir, mode: 0o755 });
    entries.set(entry.path, entry);
  };
  for (const [path, mode] of DIRECTORIES) add({ kind: 'dir', path, mode });
  add({ kind: 'symlink', path: 'var/run', target: '../run' });
  // The kernel opens /dev/console before /init runs, before devtmpfs is mounted.
  add({ kind: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 });
  add({ kind: 'chardev', path: 'dev/null', mode: 0o666, major: 1, minor: 3 });

  for (const host of [BUSYBOX, ...GUEST_BINARIES, ...parts.libraries])
    add({ kind: 'file', path: host.slice(1), mode: 0o755, data: await readFile(host) });
  for (const module of parts.modules)
    add({
      kind: 'file',
      path: guestModulePath(parts.kernelRoot, module),
      mode: 0o644,
      data: await readFile(module),
    });

  const text = (path: string, mode: number, content: string): void =>
    add({ kind: 'file', path, mode, data: Buffer.from(content, 'utf8') });
  text('init', 0o755, initScript());
  text('etc/psm/shutdown', 0o755, SHUTDOWN_SCRIPT);
  text('etc/psm/start-agent', 0o755, startAgentScript(parts.blockedRpcs));
  text('etc/psm/start-sshd', 0o755, START_SSHD_SCRIPT);
  text('sbin/shutdown', 0o755, SHUTDOWN_COMMAND);
  text('etc/acpi/PWRF/00000080', 0o755, POWER_BUTTON_SCRIPT);
  text('usr/share/udhcpc/default.script', 0o755, UDHCPC_SCRIPT);
  text(
    'etc/psm/modules',
    0o644,
    parts.modules.map((m) => `/${guestModulePath(parts.kernelRoot, m)}\n`).join(''),
  );
  for (const file of [...guestEtcFiles(), ...popcStandInFiles()]) text(file.path, file.mode, file.text);
  for (const file of parts.popcFiles ?? [])
    add({ kind: 'file', path: file.path, mode: file.mode, data: file.data });
  // Without a POP-C++ build the policies' popcobjrun path still runs something: the stand-in.
  if (!entries.has(POPC_POPCOBJRUN.slice(1))) {
    const standIn = popcStandInAt(POPC_POPCOBJRUN.slice(1));
    text(standIn.path, standIn.mode, standIn.text);
  }

  // Applet links last, and only where no real program or script sits (e.g. sbin/shutdown).
  for (const applet of parts.applets)
    if (!entries.has(applet)) add({ kind: 'symlink', path: applet, target: BUSYBOX });
  return writeCpio([...entries.values()]);
}

/** lib/modules/VERSION/... for a module file under the unpacked kernel package. */
export function guestModulePath(kernelRoot: string, module: string): string {
  const relative = posix.relative(kernelRoot, module);
  if (!relative.startsWith('lib/modules/') || relative.includes('..'))
    throw new Error(`module ${module} is not under ${kernelRoot}/lib/modules`);
  return relative;
}

/** Parses `busybox --list-full`: relative paths such as bin/sh, sbin/udhcpc. */
export function parseAppletList(text: string): string[] | undefined {
  // linuxrc is for the old initrd boot path; the initramfs has /init.
  const applets = text.split('\n').filter((line) => line !== '' && line !== 'linuxrc');
  return applets.every((a) => /^(?:usr\/)?s?bin\/[a-z0-9._[\]-]+$/.test(a)) ? applets : undefined;
}
