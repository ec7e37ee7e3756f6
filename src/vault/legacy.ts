import { readRegularFile } from '../common/bounded-read.js';
import { assertNever, err, ok, type Result } from '../common/result.js';
import { vaultError, type VaultError } from './errors.js';
import { MAX_SECRET_BYTES } from './sealed-value.js';
import { decodeUtf8Strict } from '../common/utf8.js';

/**
 * The 2010 VirtualJobMgr's virtual.conf: one `key value` per line, split at the first space
 * (psm also accepts `key = value`), keys popc_esx_* (the shorter popc_* spellings too).
 * Parsed on bytes so the two passwords never become JavaScript strings; the caller wipes them.
 * The 2010 AES-encrypted form is not read: psm does not ship the key that was compiled into it.
 */
export const MAX_LEGACY_BYTES = 64 * 1024;

export interface LegacyConf {
  readonly uri: string;
  readonly username: string;
  readonly datastore: string | undefined;
  readonly maxVms: number | undefined;
  readonly numClone: number | undefined;
  readonly workerName: string | undefined;
  readonly hostUser: string | undefined;
  readonly snapshot: string | undefined;
  readonly password: Uint8Array | undefined;
  readonly hostPass: Uint8Array | undefined;
  /** Things the admin should look at; never contain secrets. */
  readonly warnings: readonly string[];
}

const KEYS = [
  'uri',
  'username',
  'password',
  'datastore',
  'maxvm',
  'num_clone',
  'worker_name',
  'hostuser',
  'hostpass',
  'snapshot',
] as const;
type LegacyKey = (typeof KEYS)[number];
const SECRET_KEYS: readonly LegacyKey[] = ['password', 'hostpass'];

function legacyKey(raw: string): LegacyKey | undefined {
  const name = raw.replace(/^popc_esx_/, '').replace(/^popc_/, '');
  return (KEYS as readonly string[]).includes(name) ? (name as LegacyKey) : undefined;
}

/**
 * `key value` is split at the first space exactly as the 2010 reader did (the value keeps any
 * further spaces, a password may contain them); `key = value` trims the spaces around '='.
 * Only a trailing CR (a file edited on Windows) is removed.
 */
function splitLine(line: Uint8Array): { key: string; value: Uint8Array } | undefined {
  const separator = line.findIndex((b) => b === 0x20 || b === 0x3d || b === 0x09);
  if (separator <= 0) return undefined;
  const key = Buffer.from(line.subarray(0, separator)).toString('latin1');
  let start = separator;
  let probe = separator;
  while (probe < line.length && (line[probe] === 0x20 || line[probe] === 0x09)) probe += 1;
  if (line[probe] === 0x3d) {
    start = probe + 1;
    while (start < line.length && (line[start] === 0x20 || line[start] === 0x09)) start += 1;
  } else start = separator + 1;
  let end = line.length;
  if (end > start && line[end - 1] === 0x0d) end -= 1;
  return { key, value: line.subarray(start, end) };
}

function isPlainText(bytes: Uint8Array): boolean {
  if (bytes.some((b) => b === 0x7f || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d))) return false;
  return decodeUtf8Strict(bytes) !== null;
}

function fail(file: string, line: number, message: string): Result<LegacyConf, VaultError> {
  return err(vaultError('LEGACY_INVALID', message, { file, line }));
}

export function parseLegacy(bytes: Uint8Array, file: string): Result<LegacyConf, VaultError> {
  if (bytes.length > MAX_LEGACY_BYTES)
    return fail(file, 1, `larger than ${MAX_LEGACY_BYTES} bytes: not a 2010 virtual.conf`);
  if (!isPlainText(bytes))
    return fail(
      file,
      1,
      'not plain text: the 2010 AES-encrypted form is not read; decrypt it with the 2010 tools first',
    );
  const values = new Map<LegacyKey, Uint8Array>();
  const lines: number[] = [];
  let lineNo = 0;
  for (let start = 0; start <= bytes.length;) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    lineNo += 1;
    const line = bytes.subarray(start, end);
    start = end + 1;
    const trimmed = Buffer.from(line).toString('latin1').trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const split = splitLine(line);
    const key = split === undefined ? undefined : legacyKey(split.key);
    if (split === undefined || key === undefined)
      return fail(
        file,
        lineNo,
        `not a 2010 virtual.conf setting (expected popc_esx_KEY VALUE, KEY one of ${KEYS.join(', ')})`,
      );
    if (values.has(key)) return fail(file, lineNo, `${split.key} appears twice (psm imports one worker)`);
    if (split.value.length === 0) return fail(file, lineNo, `${split.key} has no value`);
    if (SECRET_KEYS.includes(key) && split.value.length > MAX_SECRET_BYTES)
      return fail(file, lineNo, `${split.key} is longer than ${MAX_SECRET_BYTES} bytes`);
    values.set(key, split.value);
    lines[KEYS.indexOf(key)] = lineNo;
  }
  const text = (key: LegacyKey): string | undefined => {
    const value = values.get(key);
    return value === undefined ? undefined : Buffer.from(value).toString('utf8');
  };
  const integer = (key: LegacyKey): Result<number | undefined, VaultError> => {
    const value = text(key);
    if (value === undefined) return ok(undefined);
    if (!/^-?[0-9]{1,6}$/.test(value))
      return err(
        vaultError('LEGACY_INVALID', `popc_esx_${key} must be a whole number`, {
          file,
          line: lines[KEYS.indexOf(key)],
        }),
      );
    return ok(Number.parseInt(value, 10));
  };
  const uri = text('uri');
  const username = text('username');
  if (uri === undefined) return fail(file, lineNo, 'popc_esx_uri is missing');
  if (username === undefined) return fail(file, lineNo, 'popc_esx_username is missing');
  const maxVms = integer('maxvm');
  if (!maxVms.ok) return maxVms;
  const numClone = integer('num_clone');
  if (!numClone.ok) return numClone;
  const warnings: string[] = [];
  if (/no_verify=1/.test(uri))
    warnings.push(
      'hypervisor.uri has no_verify=1 (TLS certificate checks off), kept as written: remove it once the certificate is trusted',
    );
  if (values.get('password') === undefined)
    warnings.push('popc_esx_password is missing: set it with psm vault set hypervisor.password');
  const copy = (key: LegacyKey): Uint8Array | undefined => {
    const value = values.get(key);
    return value === undefined ? undefined : new Uint8Array(value);
  };
  return ok({
    uri,
    username,
    datastore: text('datastore'),
    maxVms: maxVms.value,
    numClone: numClone.value,
    workerName: text('worker_name'),
    hostUser: text('hostuser'),
    snapshot: text('snapshot'),
    password: copy('password'),
    hostPass: copy('hostpass'),
    warnings,
  });
}

/**
 * Reads a 2010 virtual.conf for import: a regular file only (a FIFO is refused, not waited on),
 * at most MAX_LEGACY_BYTES. The caller wipes the bytes (they hold the 2010 passwords).
 */
export async function readLegacyFile(file: string): Promise<Result<Uint8Array, VaultError>> {
  const read = await readRegularFile(file, MAX_LEGACY_BYTES);
  if (read.ok) return read;
  switch (read.error.code) {
    case 'TOO_LARGE':
      return err(
        vaultError('LEGACY_INVALID', `larger than ${MAX_LEGACY_BYTES} bytes: not a 2010 virtual.conf`, {
          file,
          line: 1,
        }),
      );
    case 'NOT_REGULAR':
    case 'SYMLINK':
      return err(vaultError('LEGACY_INVALID', `${file} is not a regular file`, { file }));
    case 'NOT_FOUND':
    case 'UNREADABLE':
      return err(vaultError('FILE_UNREADABLE', read.error.message, { file }));
    default:
      return assertNever(read.error.code);
  }
}
