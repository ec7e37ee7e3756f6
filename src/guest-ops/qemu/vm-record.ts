import { writeFileAtomic } from '../../common/atomic-write.js';
import {
  parseJsonRecord,
  readJsonRecordFile,
  serializeJsonRecord,
  type JsonRecordError,
  type JsonRecordSpec,
} from '../../common/json-record.js';
import { assertNever, err, ok, type Result } from '../../common/result.js';
import { guestOpsError, reasonOf, type GuestOpsError } from '../errors.js';
import type { GuestCommand, WorkerTemplate } from '../guest-ops.js';
import { MAX_MEMORY_MIB, MIN_MEMORY_MIB } from '../limits.js';
import { hasOnlyKeys, isRecord, isSafeInt } from '../wire/untrusted-json.js';

/**
 * vm.json: what psm knows about one QEMU worker. Written atomically by psm only; parsed strictly
 * (a record psm did not write is refused, and then psm also refuses to delete the directory).
 */

export const VM_RECORD_FORMAT = 'psm-qemu-vm/v1';
const SPEC: JsonRecordSpec = {
  format: VM_RECORD_FORMAT,
  keys: ['format', 'name', 'createdAt', 'memoryMiB', 'cpus', 'template', 'sshPort'],
  maxBytes: 64 * 1024,
};

export interface VmRecord {
  readonly format: typeof VM_RECORD_FORMAT;
  readonly name: string;
  readonly createdAt: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly template: WorkerTemplate;
  /** The host port forwarded to the guest's port 22 on the last start (null before the first). */
  readonly sshPort: number | null;
}

export function serializeVmRecord(record: VmRecord): string {
  return serializeJsonRecord({ ...record }, SPEC);
}

export function parseVmRecord(text: string): Result<VmRecord, string> {
  const parsed = parseJsonRecord(text, SPEC);
  return parsed.ok ? checkFields(parsed.value) : err(parsed.error.message);
}

/** The values of a record whose shape and format parseJsonRecord has checked. */
function checkFields(value: Record<string, unknown>): Result<VmRecord, string> {
  const { name, createdAt, memoryMiB, cpus, sshPort } = value;
  if (typeof name !== 'string' || typeof createdAt !== 'string') return err('name or createdAt missing');
  if (!isSafeInt(memoryMiB) || memoryMiB < MIN_MEMORY_MIB || memoryMiB > MAX_MEMORY_MIB)
    return err('memoryMiB out of range');
  if (!isSafeInt(cpus) || cpus < 1 || cpus > 64) return err('cpus out of range');
  if (!(sshPort === null || (isSafeInt(sshPort) && sshPort > 0 && sshPort < 65536)))
    return err('sshPort out of range');
  const template = parseTemplate(value.template);
  if (!template.ok) return template;
  return ok({
    format: VM_RECORD_FORMAT,
    name,
    createdAt,
    memoryMiB,
    cpus,
    template: template.value,
    sshPort,
  });
}

function parseTemplate(value: unknown): Result<WorkerTemplate, string> {
  if (!isRecord(value)) return err('template missing');
  const renew = parseCommand(value.dhcpRenew);
  if (!renew.ok) return renew;
  const extra = renew.value === undefined ? {} : { dhcpRenew: renew.value };
  if (value.kind === 'kernel') {
    if (!hasOnlyKeys(value, ['kind', 'kernel', 'initrd', 'append', 'baseDisk', 'dhcpRenew']))
      return err('template has unknown keys');
    const { kernel, initrd, append, baseDisk } = value;
    if (![kernel, initrd, baseDisk].every(isAbsolutePath) || typeof append !== 'string')
      return err('template paths must be absolute');
    return ok({
      kind: 'kernel',
      kernel: kernel as string,
      initrd: initrd as string,
      append,
      baseDisk: baseDisk as string,
      ...extra,
    });
  }
  if (value.kind === 'disk') {
    if (!hasOnlyKeys(value, ['kind', 'bootDisk', 'dhcpRenew'])) return err('template has unknown keys');
    if (!isAbsolutePath(value.bootDisk)) return err('template paths must be absolute');
    return ok({ kind: 'disk', bootDisk: value.bootDisk, ...extra });
  }
  return err('template kind is not kernel or disk');
}

function parseCommand(value: unknown): Result<GuestCommand | undefined, string> {
  if (value === undefined) return ok(undefined);
  if (!isRecord(value) || !hasOnlyKeys(value, ['path', 'argv']) || !isAbsolutePath(value.path))
    return err('bad dhcpRenew');
  const argv = value.argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) return err('bad dhcpRenew argv');
  return ok({ path: value.path, argv: argv as string[] });
}

function isAbsolutePath(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('/') && value.length < 4096;
}

export async function readVmRecord(path: string): Promise<Result<VmRecord, GuestOpsError>> {
  const read = await readJsonRecordFile(path, SPEC);
  if (!read.ok) return err(recordError(read.error, path));
  const checked = checkFields(read.value);
  if (!checked.ok)
    return err(guestOpsError('WORKER_STATE_INVALID', `the worker record is invalid: ${checked.error}`, path));
  return checked;
}

function recordError(error: JsonRecordError, path: string): GuestOpsError {
  switch (error.code) {
    case 'RECORD_MISSING':
      return guestOpsError('WORKER_NOT_FOUND', 'no such worker', path);
    case 'RECORD_UNREADABLE':
      return guestOpsError('HOST_IO', `the worker record ${error.message}`, path);
    case 'RECORD_TOO_LARGE':
    case 'RECORD_INVALID':
      return guestOpsError('WORKER_STATE_INVALID', `the worker record ${error.message}`, path);
    default:
      return assertNever(error.code);
  }
}

export async function writeVmRecord(path: string, record: VmRecord): Promise<Result<void, GuestOpsError>> {
  try {
    await writeFileAtomic(path, serializeVmRecord(record), { mode: 0o600 });
    return ok(undefined);
  } catch (error) {
    return err(guestOpsError('HOST_IO', `cannot write the worker record (${reasonOf(error)})`, path));
  }
}
