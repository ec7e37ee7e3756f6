import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  isJsonObject as isRecord,
  parseJsonRecord,
  readJsonRecordFile,
  serializeJsonRecord,
  type JsonRecordError,
  type JsonRecordSpec,
} from '../../common/json-record.js';
import { assertNever, err, ok, type Result } from '../../common/result.js';
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

/** Where `psm image build` keeps the kernel package between builds: $XDG_CACHE_HOME/psm/worker-image. */
export function defaultImageCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'psm', 'worker-image');
}

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

const SPEC: JsonRecordSpec = { format: WORKER_IMAGE_FORMAT, keys: KEYS, maxBytes: MAX_MANIFEST_BYTES };

/** Canonical text: keys in the fixed order above, two-space indent, trailing newline. */
export function serializeWorkerImageManifest(manifest: WorkerImageManifest): string {
  return serializeJsonRecord(
    {
      ...manifest,
      dhcpRenew: { path: manifest.dhcpRenew.path, argv: [...manifest.dhcpRenew.argv] },
      inputs: Object.fromEntries(Object.entries(manifest.inputs).sort(([a], [b]) => compare(a, b))),
    },
    SPEC,
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Strict: unknown or missing keys, wrong types, or file names with a path in them are refused. */
export function parseWorkerImageManifest(text: string): Result<WorkerImageManifest, ImageError> {
  const parsed = parseJsonRecord(text, SPEC);
  return parsed.ok ? checkFields(parsed.value) : invalid(`the manifest ${parsed.error.message}`);
}

/** The values of a manifest whose shape and format parseJsonRecord has checked. */
function checkFields(value: Record<string, unknown>): Result<WorkerImageManifest, ImageError> {
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
  const read = await readJsonRecordFile(path, SPEC);
  if (!read.ok) return err(manifestError(read.error, path));
  const parsed = checkFields(read.value);
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

function manifestError(error: JsonRecordError, path: string): ImageError {
  switch (error.code) {
    case 'RECORD_MISSING':
    case 'RECORD_UNREADABLE':
      return imageError('IMAGE_MANIFEST_UNREADABLE', `the image manifest ${error.message}`, path);
    case 'RECORD_TOO_LARGE':
    case 'RECORD_INVALID':
      return imageError('IMAGE_MANIFEST_INVALID', `the manifest ${error.message}`, path);
    default:
      return assertNever(error.code);
  }
}

function invalid(message: string): Result<never, ImageError> {
  return err(imageError('IMAGE_MANIFEST_INVALID', message));
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
