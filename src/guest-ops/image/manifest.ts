import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { imageError, type ImageError } from './errors.js';

/**
 * The worker image's manifest (`manifest.json` in the image directory): the contract between the
 * image builder and the QEMU driver, which boots the image with exactly these files and settings.
 */
export const WORKER_IMAGE_FORMAT = 'psm-worker-image/v1';
export const WORKER_IMAGE_MANIFEST_FILE = 'manifest.json';
/** Environment variable that points tests and the driver at another image directory. */
export const WORKER_IMAGE_ENV = 'PSM_WORKER_IMAGE';
/** The image directory tests use unless WORKER_IMAGE_ENV says otherwise (relative to the repo). */
export const DEFAULT_WORKER_IMAGE_DIR = '.cache/worker-image';

/** A manifest is a few hundred bytes; anything near this is not one of ours. */
export const MAX_MANIFEST_BYTES = 64 * 1024;
const MAX_STRING_CHARS = 4096;
const MAX_LIST_ENTRIES = 256;

export interface WorkerImageManifest {
  readonly format: typeof WORKER_IMAGE_FORMAT;
  /** File name inside the image dir: the uncompressed vmlinux. */
  readonly kernel: string;
  /** File name: the initramfs (cpio, gzip-compressed or not). */
  readonly initrd: string;
  /** File name: qcow2 base of the per-clone /persist ext4 data disk. */
  readonly baseDisk: string;
  /** Kernel command line. */
  readonly append: string;
  readonly kernelVersion: string;
  /** The account sshd accepts keys for (password field '*'). */
  readonly guestUser: string;
  /** virtio-serial port name qemu-ga listens on. */
  readonly qgaPortName: string;
  /** Run via guest-exec to renew the DHCP lease (after a snapshot revert). */
  readonly dhcpRenew: { readonly path: string; readonly argv: readonly string[] };
  /** The RPCs qemu-ga in the image allows; every other RPC it knows is blocked. */
  readonly allowedRpcs: readonly string[];
  /** ISO 8601 time of the build. */
  readonly builtAt: string;
  /** Package versions, file digests etc.: when these change, the image is rebuilt. */
  readonly inputs: Record<string, string>;
}

const KEYS = [
  'format',
  'kernel',
  'initrd',
  'baseDisk',
  'append',
  'kernelVersion',
  'guestUser',
  'qgaPortName',
  'dhcpRenew',
  'allowedRpcs',
  'builtAt',
  'inputs',
] as const;

/** Canonical text: keys in the fixed order above, two-space indent, trailing newline. */
export function serializeWorkerImageManifest(manifest: WorkerImageManifest): string {
  const ordered: Record<string, unknown> = {};
  for (const key of KEYS) ordered[key] = manifest[key];
  ordered.dhcpRenew = { path: manifest.dhcpRenew.path, argv: [...manifest.dhcpRenew.argv] };
  ordered.inputs = Object.fromEntries(Object.entries(manifest.inputs).sort(([a], [b]) => compare(a, b)));
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Strict: unknown or missing keys, wrong types, or file names with a path in them are refused. */
export function parseWorkerImageManifest(text: string): Result<WorkerImageManifest, ImageError> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('the manifest is not JSON');
  }
  if (!isRecord(value)) return invalid('the manifest is not a JSON object');
  const extra = Object.keys(value).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (extra.length > 0) return invalid(`unknown manifest key ${JSON.stringify(extra[0])}`);
  if (value.format !== WORKER_IMAGE_FORMAT)
    return invalid(`format must be ${JSON.stringify(WORKER_IMAGE_FORMAT)}`);
  const strings: Record<string, string> = {};
  for (const key of [
    'kernel',
    'initrd',
    'baseDisk',
    'append',
    'kernelVersion',
    'guestUser',
    'qgaPortName',
    'builtAt',
  ]) {
    const v = value[key];
    if (!isText(v)) return invalid(`${key} must be a non-empty string without control characters`);
    strings[key] = v;
  }
  for (const key of ['kernel', 'initrd', 'baseDisk']) {
    if (!isPlainFileName(strings[key] ?? ''))
      return invalid(`${key} must be a plain file name inside the image directory`);
  }
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(strings.guestUser ?? ''))
    return invalid('guestUser is not a valid user name');
  if (Number.isNaN(Date.parse(strings.builtAt ?? ''))) return invalid('builtAt is not an ISO time');
  const renew = value.dhcpRenew;
  if (!isRecord(renew) || Object.keys(renew).sort().join(',') !== 'argv,path')
    return invalid('dhcpRenew must be {path, argv}');
  if (!isText(renew.path) || !renew.path.startsWith('/'))
    return invalid('dhcpRenew.path must be an absolute path');
  const argv = textList(renew.argv, true);
  if (argv === undefined) return invalid('dhcpRenew.argv must be a list of strings');
  const allowedRpcs = textList(value.allowedRpcs, false);
  if (allowedRpcs === undefined || allowedRpcs.some((r) => !/^guest-[a-z0-9-]+$/.test(r)))
    return invalid('allowedRpcs must be a list of guest-* RPC names');
  const inputs = value.inputs;
  if (!isRecord(inputs) || Object.keys(inputs).length > MAX_LIST_ENTRIES)
    return invalid('inputs must be an object');
  for (const [k, v] of Object.entries(inputs)) {
    if (!isText(k) || !isText(v)) return invalid(`inputs.${k} must be a non-empty string`);
  }
  return ok({
    format: WORKER_IMAGE_FORMAT,
    kernel: strings.kernel ?? '',
    initrd: strings.initrd ?? '',
    baseDisk: strings.baseDisk ?? '',
    append: strings.append ?? '',
    kernelVersion: strings.kernelVersion ?? '',
    guestUser: strings.guestUser ?? '',
    qgaPortName: strings.qgaPortName ?? '',
    dhcpRenew: { path: renew.path, argv },
    allowedRpcs,
    builtAt: strings.builtAt ?? '',
    inputs: { ...(inputs as Record<string, string>) },
  });
}

/**
 * Reads `<dir>/manifest.json` and checks that the kernel, initrd and base disk it names exist as
 * regular files, so a caller that gets `ok` can boot the image.
 */
export async function readWorkerImageManifest(dir: string): Promise<Result<WorkerImageManifest, ImageError>> {
  const path = join(dir, WORKER_IMAGE_MANIFEST_FILE);
  const text = await readBounded(path);
  if (!text.ok) return text;
  const parsed = parseWorkerImageManifest(text.value);
  if (!parsed.ok) return err({ ...parsed.error, file: path });
  for (const name of [parsed.value.kernel, parsed.value.initrd, parsed.value.baseDisk]) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info === undefined || !info.isFile())
      return err(
        imageError('IMAGE_FILE_MISSING', `the image directory has no file ${name}`, join(dir, name)),
      );
  }
  return parsed;
}

async function readBounded(path: string): Promise<Result<string, ImageError>> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return err(imageError('IMAGE_MANIFEST_UNREADABLE', `cannot open the image manifest (${code})`, path));
  }
  try {
    const info = await handle.stat();
    if (!info.isFile())
      return err(imageError('IMAGE_MANIFEST_UNREADABLE', 'the manifest is not a regular file', path));
    if (info.size > MAX_MANIFEST_BYTES)
      return err(
        imageError('IMAGE_MANIFEST_INVALID', `the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, path),
      );
    const bytes = await handle.readFile();
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    try {
      return ok(text.decode(bytes));
    } catch {
      return err(imageError('IMAGE_MANIFEST_INVALID', 'the manifest is not valid UTF-8', path));
    }
  } finally {
    await handle.close();
  }
}

function invalid(message: string): Result<never, ImageError> {
  return err(imageError('IMAGE_MANIFEST_INVALID', message));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_STRING_CHARS) return false;
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

function isPlainFileName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.startsWith('.');
}

function textList(value: unknown, allowEmptyStrings: boolean): string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_LIST_ENTRIES) return undefined;
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') return undefined;
    if (!(isText(item) || (allowEmptyStrings && item === ''))) return undefined;
    out.push(item);
  }
  return out;
}
