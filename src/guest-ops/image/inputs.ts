import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { err, ok, type Result } from '../../common/result.js';
import { imageError, type ImageError } from './errors.js';
import { guestEtcFiles } from './guest-etc.js';
import { popcStandInFiles } from './guest-popc.js';
import { popcFilesDigest, popcWorkerFiles, type GuestBinaryFile } from './guest-popc-build.js';
import {
  initScript,
  startAgentScript,
  POWER_BUTTON_SCRIPT,
  START_SSHD_SCRIPT,
  SHUTDOWN_COMMAND,
  SHUTDOWN_SCRIPT,
  UDHCPC_SCRIPT,
} from './guest-init.js';
import { parseAppletList } from './initramfs.js';
import { resolveKernelPackage, type KernelPackage } from './kernel-package.js';
import { runTool } from './host-tools.js';
import {
  ALLOWED_RPCS,
  BUSYBOX,
  GUEST_BINARIES,
  GUEST_MODULES,
  KERNEL_APPEND,
  RECIPE_VERSION,
  RECORDED_PACKAGES,
} from './recipe.js';
import { sharedLibrariesOf } from './shared-libraries.js';
import { WORKER_IMAGE_FORMAT } from './manifest.js';

/**
 * Everything the image is made from, gathered cheaply (no download, no unpacking), and the
 * `inputs` record that decides whether an existing image is up to date: the kernel package
 * version, a digest of every host file copied in, and a digest of psm's own recipe.
 */
export interface BuildInputs {
  readonly kernel: KernelPackage;
  readonly libraries: readonly string[];
  readonly applets: readonly string[];
  readonly blockedRpcs: readonly string[];
  /** POP-C++'s worker side (popcobjrun, runtime env, code files), when built with a POP-C++ tree. */
  readonly popcFiles: readonly GuestBinaryFile[];
  readonly record: Record<string, string>;
}

const QUICK_TIMEOUT_MS = 30_000;

export async function collectInputs(
  signal?: AbortSignal,
  popcDir?: string,
): Promise<Result<BuildInputs, ImageError>> {
  const kernel = await resolveKernelPackage(signal);
  if (!kernel.ok) return kernel;
  const libraries = await sharedLibrariesOf(GUEST_BINARIES, signal);
  if (!libraries.ok) return libraries;
  const applets = await busyboxApplets(signal);
  if (!applets.ok) return applets;
  const blocked = await blockedRpcs(signal);
  if (!blocked.ok) return blocked;
  const versions = await packageVersions(signal);
  if (!versions.ok) return versions;
  const popc = popcDir === undefined ? ok([]) : await popcWorkerFiles(popcDir);
  if (!popc.ok) return popc;

  const files = createHash('sha256');
  for (const path of [BUSYBOX, ...GUEST_BINARIES, ...libraries.value]) {
    files.update(`${path}\0`);
    files.update(await readFile(path));
  }
  const recipe = createHash('sha256');
  const texts = [
    initScript(),
    startAgentScript(blocked.value),
    START_SSHD_SCRIPT,
    SHUTDOWN_SCRIPT,
    SHUTDOWN_COMMAND,
    POWER_BUTTON_SCRIPT,
    UDHCPC_SCRIPT,
  ];
  for (const file of [...guestEtcFiles(), ...popcStandInFiles()])
    texts.push(`${file.path}\0${file.mode}\0${file.text}`);
  texts.push(RECIPE_VERSION, KERNEL_APPEND, GUEST_MODULES.join(','), applets.value.join(','));
  for (const text of texts) recipe.update(`${text}\0`);

  return ok({
    kernel: kernel.value,
    libraries: libraries.value,
    applets: applets.value,
    blockedRpcs: blocked.value,
    popcFiles: popc.value,
    record: {
      format: WORKER_IMAGE_FORMAT,
      kernelPackage: `${kernel.value.name}=${kernel.value.packageVersion}`,
      hostFilesSha256: files.digest('hex'),
      recipeSha256: recipe.digest('hex'),
      ...(popc.value.length > 0 ? { popcFilesSha256: popcFilesDigest(popc.value) } : {}),
      ...versions.value,
    },
  });
}

async function busyboxApplets(signal?: AbortSignal): Promise<Result<string[], ImageError>> {
  const run = await runTool(BUSYBOX, ['--list-full'], { timeoutMs: QUICK_TIMEOUT_MS, signal });
  if (!run.ok) return run;
  const applets = parseAppletList(run.value.stdout.toString('utf8'));
  if (applets === undefined)
    return err(imageError('IMAGE_TOOL_FAILED', 'unexpected busybox --list-full output'));
  return ok(applets);
}

/** Every RPC the installed qemu-ga knows, minus ALLOWED_RPCS; fails if an allowed one is missing. */
export async function blockedRpcs(signal?: AbortSignal): Promise<Result<string[], ImageError>> {
  const run = await runTool('/usr/sbin/qemu-ga', ['--block-rpcs', 'help'], {
    timeoutMs: QUICK_TIMEOUT_MS,
    signal,
  });
  if (!run.ok) return run;
  const known = parseRpcList(run.value.stdout.toString('utf8'));
  if (known === undefined)
    return err(imageError('IMAGE_TOOL_FAILED', 'unexpected qemu-ga --block-rpcs help output'));
  const missing = ALLOWED_RPCS.filter((rpc) => !known.includes(rpc));
  if (missing.length > 0)
    return err(
      imageError('IMAGE_TOOL_FAILED', `the installed qemu-ga lacks RPCs psm needs: ${missing.join(', ')}`),
    );
  return ok(known.filter((rpc) => !(ALLOWED_RPCS as readonly string[]).includes(rpc)));
}

export function parseRpcList(text: string): string[] | undefined {
  const names = text.split(/\s+/).filter((n) => n !== '');
  return names.length > 0 && names.every((n) => /^guest-[a-z0-9-]+$/.test(n)) ? names : undefined;
}

async function packageVersions(signal?: AbortSignal): Promise<Result<Record<string, string>, ImageError>> {
  const run = await runTool('dpkg-query', ['-W', '-f', '${Package}=${Version}\\n', ...RECORDED_PACKAGES], {
    timeoutMs: QUICK_TIMEOUT_MS,
    signal,
  });
  if (!run.ok) return run;
  const out: Record<string, string> = {};
  for (const line of run.value.stdout.toString('utf8').split('\n')) {
    const [name, version] = line.split('=');
    if (name && version) out[name] = version;
  }
  return ok(out);
}
