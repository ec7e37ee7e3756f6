import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { err, ok, type Result } from '../../common/result.js';
import { buildDataDisk } from './data-disk.js';
import { imageError, type ImageError } from './errors.js';
import { buildInitramfs } from './initramfs.js';
import { collectInputs, type BuildInputs } from './inputs.js';
import {
  canRefreshPackageLists,
  fetchKernelPackage,
  refreshPackageLists,
  unpackKernelPackage,
} from './kernel-package.js';
import { moduleLoadOrder } from './kernel-modules.js';
import {
  readWorkerImageManifest,
  serializeWorkerImageManifest,
  WORKER_IMAGE_FORMAT,
  WORKER_IMAGE_MANIFEST_FILE,
  type WorkerImageManifest,
} from './manifest.js';
import {
  ALLOWED_RPCS,
  DHCP_RENEW,
  GUEST_MODULES,
  GUEST_USER,
  IMAGE_FILES,
  KERNEL_APPEND,
  QGA_PORT_NAME,
} from './recipe.js';
import { extractVmlinux } from './vmlinux.js';

export type BuildStep =
  'inputs' | 'kernel-fetch' | 'kernel-unpack' | 'vmlinux' | 'initramfs' | 'data-disk' | 'install';

export interface BuildOptions {
  /** The image directory to create or update. */
  readonly out: string;
  /** Where the kernel .deb is kept between builds and scratch space lives. */
  readonly cache: string;
  /** A POP-C++ build (scripts/popc-build.mjs) whose worker side goes into the image. */
  readonly popc?: string;
  /** Rebuild even when the existing image's inputs are current. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (step: BuildStep) => void;
}

export interface BuildOutcome {
  readonly dir: string;
  readonly manifest: WorkerImageManifest;
  /** false when the existing image was already up to date. */
  readonly rebuilt: boolean;
}

/**
 * Builds the worker image into `out`, or leaves it alone when its recorded inputs match. The new
 * image is assembled in a sibling staging directory and swapped in by rename, so `out` is always
 * either the old complete image or the new complete one.
 */
export async function buildWorkerImage(options: BuildOptions): Promise<Result<BuildOutcome, ImageError>> {
  const first = await guardIo(options);
  // A package list older than the mirror names a kernel .deb the mirror no longer has: refresh
  // the lists once and start over (the kernel version, and so the inputs, may change).
  if (!first.ok && first.error.code === 'IMAGE_KERNEL_UNAVAILABLE' && canRefreshPackageLists()) {
    const refreshed = await refreshPackageLists(options.signal);
    if (!refreshed.ok) return refreshed;
    return guardIo(options);
  }
  return first;
}

/** A file system refusal (EACCES, ENOSPC, EROFS...) is a coded failure, not a crash. */
async function guardIo(options: BuildOptions): Promise<Result<BuildOutcome, ImageError>> {
  try {
    return await buildOnce(options);
  } catch (error) {
    const io = error as NodeJS.ErrnoException;
    if (typeof io.code !== 'string' || typeof io.syscall !== 'string') throw error;
    const where = io.path === undefined ? '' : ` ${io.path}`;
    return err(imageError('IMAGE_IO_FAILED', `cannot ${io.syscall}${where}: ${io.code}`, io.path));
  }
}

async function buildOnce(options: BuildOptions): Promise<Result<BuildOutcome, ImageError>> {
  const out = resolve(options.out);
  const cache = resolve(options.cache);
  const progress = options.onProgress ?? (() => undefined);
  const existing = await inspectOut(out);
  if (!existing.ok) return existing;

  progress('inputs');
  const inputs = await collectInputs(
    options.signal,
    options.popc === undefined ? undefined : resolve(options.popc),
  );
  if (!inputs.ok) return inputs;
  const current = existing.value;
  if (current !== undefined && options.force !== true && sameInputs(current.inputs, inputs.value.record))
    return ok({ dir: out, manifest: current, rebuilt: false });

  await mkdir(cache, { recursive: true });
  await mkdir(dirname(out), { recursive: true });
  const scratch = await mkdtemp(join(cache, 'scratch-'));
  const staging = join(dirname(out), `.${basename(out)}.staging-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(staging, { mode: 0o755 });
    const built = await assemble(inputs.value, scratch, staging, { ...options, cache }, progress);
    if (!built.ok) return built;
    progress('install');
    await writeFileAtomic(
      join(staging, WORKER_IMAGE_MANIFEST_FILE),
      serializeWorkerImageManifest(built.value),
      {
        mode: 0o644,
      },
    );
    await swapIn(staging, out);
    return ok({ dir: out, manifest: built.value, rebuilt: true });
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
  }
}

async function assemble(
  inputs: BuildInputs,
  scratch: string,
  staging: string,
  options: BuildOptions,
  progress: (step: BuildStep) => void,
): Promise<Result<WorkerImageManifest, ImageError>> {
  const { kernel } = inputs;
  progress('kernel-fetch');
  const deb = await fetchKernelPackage(kernel, join(options.cache, 'debs'), options.signal);
  if (!deb.ok) return deb;
  progress('kernel-unpack');
  const root = join(scratch, 'kernel');
  const unpacked = await unpackKernelPackage(deb.value, kernel, root, options.signal);
  if (!unpacked.ok) return unpacked;

  progress('vmlinux');
  const vmlinuz = await readFile(join(root, 'boot', `vmlinuz-${kernel.kernelVersion}`)).catch(
    () => undefined,
  );
  if (vmlinuz === undefined)
    return err(imageError('IMAGE_KERNEL_FORMAT', `${kernel.name} has no boot/vmlinuz`));
  const vmlinux = await extractVmlinux(vmlinuz);
  if (!vmlinux.ok) return vmlinux;
  await writeFileAtomic(join(staging, IMAGE_FILES.kernel), vmlinux.value, { mode: 0o644 });

  progress('initramfs');
  const modules = await moduleLoadOrder(root, kernel.kernelVersion, GUEST_MODULES, options.signal);
  if (!modules.ok) return modules;
  const initrd = await buildInitramfs({
    applets: inputs.applets,
    libraries: inputs.libraries,
    modules: modules.value,
    kernelRoot: root,
    blockedRpcs: inputs.blockedRpcs,
    popcFiles: inputs.popcFiles,
  });
  await writeFileAtomic(join(staging, IMAGE_FILES.initrd), initrd, { mode: 0o644 });

  progress('data-disk');
  const baseDisk = baseDiskName(inputs.record);
  const disk = await buildDataDisk(scratch, join(staging, baseDisk), options.signal);
  if (!disk.ok) return disk;

  return ok({
    format: WORKER_IMAGE_FORMAT,
    kernel: IMAGE_FILES.kernel,
    initrd: IMAGE_FILES.initrd,
    baseDisk,
    append: KERNEL_APPEND,
    kernelVersion: kernel.kernelVersion,
    guestUser: GUEST_USER,
    qgaPortName: QGA_PORT_NAME,
    dhcpRenew: { path: DHCP_RENEW.path, argv: [...DHCP_RENEW.argv] },
    allowedRpcs: [...ALLOWED_RPCS],
    builtAt: new Date().toISOString(),
    inputs: inputs.record,
  });
}

/**
 * The current image in `out`, undefined when there is none, or a refusal when `out` holds
 * something that is not a psm worker image (psm never replaces what it did not make).
 */
async function inspectOut(out: string): Promise<Result<WorkerImageManifest | undefined, ImageError>> {
  const info = await stat(out).catch(() => undefined);
  if (info === undefined) return ok(undefined);
  if (!info.isDirectory())
    return err(imageError('IMAGE_OUT_INVALID', `${out} exists and is not a directory`, out));
  const manifest = await readWorkerImageManifest(out);
  if (manifest.ok) return ok(manifest.value);
  if (manifest.error.code === 'IMAGE_FILE_MISSING') return ok(undefined);
  const hasManifest = await stat(join(out, WORKER_IMAGE_MANIFEST_FILE)).catch(() => undefined);
  if (hasManifest === undefined && (await readdir(out)).length === 0) return ok(undefined);
  return err(
    imageError(
      'IMAGE_OUT_INVALID',
      `${out} is not a psm worker image (${manifest.error.message}); refusing to replace it`,
      out,
    ),
  );
}

/**
 * The base disk's name carries a digest of the inputs: clones refer to their backing file by path,
 * so after a rebuild an old clone fails to open (missing backing file) instead of silently reading
 * a different base under its overlay.
 */
function baseDiskName(inputs: Record<string, string>): string {
  const digest = createHash('sha256');
  for (const key of Object.keys(inputs).sort()) digest.update(`${key}\0${inputs[key] ?? ''}\0`);
  return `${IMAGE_FILES.baseDiskStem}-${digest.digest('hex').slice(0, 12)}.qcow2`;
}

function sameInputs(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a).sort();
  return keys.join('\0') === Object.keys(b).sort().join('\0') && keys.every((k) => a[k] === b[k]);
}

/** Replaces `out` with `staging`: old image aside, new one in, old one removed. */
async function swapIn(staging: string, out: string): Promise<void> {
  const old = `${staging}.old`;
  const hadOld = await stat(out).then(
    () => true,
    () => false,
  );
  if (hadOld) await rename(out, old);
  try {
    await rename(staging, out);
  } catch (error) {
    if (hadOld) await rename(old, out);
    throw error;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}
