import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { imageError, type ImageError } from './errors.js';
import { runTool } from './host-tools.js';
import { KERNEL_METAPACKAGE } from './recipe.js';

/**
 * The Debian kernel package: which one the metapackage points at, fetched with `apt-get download`
 * into psm's cache and unpacked with `dpkg-deb -x` into a scratch directory. Nothing is installed
 * on the host (its /boot and /lib/modules are never touched).
 */
const APT_TIMEOUT_MS = 10 * 60_000;
const UNPACK_TIMEOUT_MS = 5 * 60_000;
const PACKAGE_NAME = /^linux-image-(\d+\.\d+\.\d+-\d+-amd64)$/;

export interface KernelPackage {
  /** e.g. linux-image-6.1.0-56-amd64 */
  readonly name: string;
  /** e.g. 6.1.0-56-amd64 (the modules directory name) */
  readonly kernelVersion: string;
  /** Debian package version, e.g. 6.1.192-2 */
  readonly packageVersion: string;
}

/**
 * Parses `apt-cache show --no-all-versions linux-image-amd64`: its Depends names exactly one
 * versioned kernel package, pinned with "(= VERSION)".
 */
export function parseKernelMetapackage(text: string): Result<KernelPackage, ImageError> {
  const depends = /^Depends: (.+)$/m.exec(text)?.[1];
  const kernels = (depends ?? '')
    .split(',')
    .map((part) => /^\s*(linux-image-\S+) \(= ([0-9A-Za-z.+~:-]+)\)\s*$/.exec(part))
    .filter((m): m is RegExpExecArray => m !== null && PACKAGE_NAME.test(m[1] ?? ''));
  const only = kernels.length === 1 ? kernels[0] : undefined;
  if (only?.[1] === undefined || only[2] === undefined)
    return err(
      imageError('IMAGE_KERNEL_UNAVAILABLE', `${KERNEL_METAPACKAGE} does not depend on exactly one kernel`),
    );
  const kernelVersion = PACKAGE_NAME.exec(only[1])?.[1] ?? '';
  return ok({ name: only[1], kernelVersion, packageVersion: only[2] });
}

/** Finds the kernel to use; runs `apt-get update` once if the package lists are empty (root only). */
export async function resolveKernelPackage(signal?: AbortSignal): Promise<Result<KernelPackage, ImageError>> {
  let found = await lookUp(signal);
  if (!found.ok && found.error.code === 'IMAGE_KERNEL_UNAVAILABLE' && canRefreshPackageLists()) {
    const update = await refreshPackageLists(signal);
    if (!update.ok) return update;
    found = await lookUp(signal);
  }
  return found;
}

/** apt-get update needs root; without it a stale or empty list is reported, not fixed. */
export function canRefreshPackageLists(): boolean {
  return process.getuid?.() === 0;
}

export async function refreshPackageLists(signal?: AbortSignal): Promise<Result<void, ImageError>> {
  const update = await runTool('apt-get', ['update', '-qq'], { timeoutMs: APT_TIMEOUT_MS, signal });
  return update.ok ? ok(undefined) : update;
}

async function lookUp(signal?: AbortSignal): Promise<Result<KernelPackage, ImageError>> {
  const show = await runTool('apt-cache', ['show', '--no-all-versions', KERNEL_METAPACKAGE], {
    timeoutMs: 60_000,
    signal,
  });
  if (!show.ok)
    return show.error.code === 'IMAGE_TOOL_FAILED'
      ? err(imageError('IMAGE_KERNEL_UNAVAILABLE', `apt-cache knows no ${KERNEL_METAPACKAGE}`))
      : show;
  return parseKernelMetapackage(show.value.stdout.toString('utf8'));
}

/** The .deb in `cacheDir`, downloaded unless this exact version is already there. */
export async function fetchKernelPackage(
  pkg: KernelPackage,
  cacheDir: string,
  signal?: AbortSignal,
): Promise<Result<string, ImageError>> {
  await mkdir(cacheDir, { recursive: true });
  // apt writes epochs as %3a in file names; Debian kernel versions have none.
  const fileName = `${pkg.name}_${pkg.packageVersion}_amd64.deb`;
  const present = async (): Promise<boolean> => (await readdir(cacheDir)).includes(fileName);
  if (await present()) return ok(join(cacheDir, fileName));
  const download = await runTool('apt-get', ['download', '-qq', `${pkg.name}=${pkg.packageVersion}`], {
    timeoutMs: APT_TIMEOUT_MS,
    cwd: cacheDir,
    signal,
  });
  if (!download.ok)
    return download.error.code === 'IMAGE_TOOL_FAILED'
      ? err(
          imageError(
            'IMAGE_KERNEL_UNAVAILABLE',
            `apt-get download ${pkg.name} failed: ${download.error.message}`,
          ),
        )
      : download;
  if (!(await present()))
    return err(
      imageError('IMAGE_KERNEL_UNAVAILABLE', `apt-get download did not leave ${fileName} in ${cacheDir}`),
    );
  return ok(join(cacheDir, fileName));
}

/** Unpacks the .deb into `root` and writes modules.dep there (depmod -b), for modprobe -d. */
export async function unpackKernelPackage(
  deb: string,
  pkg: KernelPackage,
  root: string,
  signal?: AbortSignal,
): Promise<Result<void, ImageError>> {
  const unpack = await runTool('dpkg-deb', ['-x', deb, root], { timeoutMs: UNPACK_TIMEOUT_MS, signal });
  if (!unpack.ok) return unpack;
  const depmod = await runTool('depmod', ['-b', root, pkg.kernelVersion], {
    timeoutMs: UNPACK_TIMEOUT_MS,
    signal,
  });
  if (!depmod.ok) return depmod;
  return ok(undefined);
}
