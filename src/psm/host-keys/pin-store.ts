import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { readRegularFile } from '../../common/bounded-read.js';
import { assertNever, ok, type Result } from '../../common/result.js';
import {
  hashedHostMatches,
  hashHostName,
  lookupName,
  matchHostPatterns,
  MAX_KNOWN_HOSTS_FILE_BYTES,
  parseKnownHostsFile,
  randomSalt,
  serializeHashedHost,
  type KnownHostsEntry,
  type PublicKey,
} from '../../authorized-keys/index.js';
import { hostKeyError, type HostKeyError } from './errors.js';

/**
 * psm's own known_hosts, `$POPC_LOCATION/var/psm/known_hosts`: the pins of every prepared
 * worker, under its name (for ssh's HostKeyAlias) and under the `[host]:port` psm reaches it at.
 * Every change is one atomic rewrite (a crash leaves the old file or the new one), and a file
 * psm cannot read entirely is never rewritten (fail closed: nothing in it is lost).
 */
export function knownHostsPath(location: string): string {
  return join(location, 'var', 'psm', 'known_hosts');
}

export interface PinTarget {
  readonly worker: string;
  readonly host: string;
  readonly port: number;
}

/** One pinned key: its ssh type and base64 blob, as a `.pub` line holds them. */
export interface PinnedKey {
  readonly type: string;
  readonly base64: string;
}

async function readPins(path: string): Promise<Result<KnownHostsEntryLine[], HostKeyError>> {
  // The common reader: bounded before reading, and a FIFO in its place cannot hang psm.
  const read = await readRegularFile(path, MAX_KNOWN_HOSTS_FILE_BYTES);
  if (!read.ok) {
    switch (read.error.code) {
      case 'NOT_FOUND':
        return ok([]);
      case 'TOO_LARGE':
        return hostKeyError('PIN_STORE_INVALID', read.error.message);
      case 'NOT_REGULAR':
      case 'SYMLINK':
      case 'UNREADABLE':
        return hostKeyError('PIN_STORE_IO', read.error.message);
      default:
        return assertNever(read.error.code);
    }
  }
  const out: KnownHostsEntryLine[] = [];
  for (const line of parseKnownHostsFile(read.value)) {
    if (!line.result.ok)
      return hostKeyError('PIN_STORE_INVALID', `${path} line ${line.line}: ${line.result.error.message}`);
    out.push({ text: line.text, entry: line.result.value.kind === 'entry' ? line.result.value : null });
  }
  return ok(out);
}

interface KnownHostsEntryLine {
  readonly text: string;
  readonly entry: KnownHostsEntry | null;
}

function names(target: PinTarget): Result<string[], HostKeyError> {
  const byName = lookupName(target.worker);
  const byAddress = lookupName(target.host, target.port);
  if (!byName.ok || !byAddress.ok)
    return hostKeyError(
      'BAD_WORKER_NAME',
      `"${target.worker.slice(0, 64)}" / ${target.host}:${target.port} cannot be known_hosts names`,
    );
  return ok([byName.value, byAddress.value]);
}

/**
 * Which lines are the worker's: those naming it or the address given, and every line holding a
 * key pinned under its name (so the `[host]:port` of an earlier boot goes with it, even hashed).
 * Keys are made fresh for each prepare, so a key names one worker only.
 */
function workerLines(
  lines: readonly KnownHostsEntryLine[],
  lookups: readonly string[],
): (line: KnownHostsEntryLine) => boolean {
  const [workerName] = lookups;
  const earlier = new Set(
    lines.flatMap(({ entry }) =>
      entry !== null && workerName !== undefined && entryNames(entry, workerName)
        ? [Buffer.from(entry.key.blob).toString('base64')]
        : [],
    ),
  );
  return ({ entry }) =>
    entry !== null &&
    (lookups.some((name) => entryNames(entry, name)) ||
      earlier.has(Buffer.from(entry.key.blob).toString('base64')));
}

function entryNames(entry: KnownHostsEntry, name: string): boolean {
  return entry.hosts.kind === 'hashed'
    ? hashedHostMatches(name, entry.hosts.hashed)
    : matchHostPatterns(name, entry.hosts.patterns) === 'positive';
}

async function rewrite(path: string, lines: readonly string[]): Promise<Result<void, HostKeyError>> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, lines.map((line) => `${line}\n`).join(''), { mode: 0o644 });
    return ok(undefined);
  } catch (error) {
    return hostKeyError('PIN_STORE_IO', `cannot write ${path}: ${(error as Error).message}`);
  }
}

/**
 * Replaces every earlier pin of the worker (by name or by its address) with `keys`, one line per
 * name and key, names hashed when asked.
 */
export async function pinWorker(
  location: string,
  target: PinTarget,
  keys: readonly PinnedKey[],
  options: { readonly hashNames: boolean },
): Promise<Result<void, HostKeyError>> {
  const lookups = names(target);
  if (!lookups.ok) return lookups;
  const path = knownHostsPath(location);
  const existing = await readPins(path);
  if (!existing.ok) return existing;
  const isWorkers = workerLines(existing.value, lookups.value);
  const kept = existing.value.filter((line) => !isWorkers(line)).map(({ text }) => text);
  const added = lookups.value.flatMap((name) =>
    keys.map((key) => {
      const field = options.hashNames ? serializeHashedHost(hashHostName(name, randomSalt())) : name;
      return `${field} ${key.type} ${key.base64}`;
    }),
  );
  return rewrite(path, [...kept, ...added]);
}

/**
 * Removes every pin of the worker (its name, the address given if any, and every line with a key
 * pinned under its name); NOT_PINNED when there was none.
 */
export async function unpinWorker(
  location: string,
  target: { readonly worker: string; readonly host?: string; readonly port?: number },
): Promise<Result<number, HostKeyError>> {
  const lookups =
    target.host === undefined || target.port === undefined
      ? nameOnly(target.worker)
      : names({ worker: target.worker, host: target.host, port: target.port });
  if (!lookups.ok) return lookups;
  const path = knownHostsPath(location);
  const existing = await readPins(path);
  if (!existing.ok) return existing;
  const matches = workerLines(existing.value, lookups.value);
  const removed = existing.value.filter(matches).length;
  if (removed === 0) return hostKeyError('NOT_PINNED', `no pin for ${target.worker} in ${path}`);
  const written = await rewrite(
    path,
    existing.value.filter((line) => !matches(line)).map(({ text }) => text),
  );
  return written.ok ? ok(removed) : written;
}

function nameOnly(worker: string): Result<string[], HostKeyError> {
  const name = lookupName(worker);
  return name.ok
    ? ok([name.value])
    : hostKeyError('BAD_WORKER_NAME', `"${worker.slice(0, 64)}" cannot be a known_hosts name`);
}

/** The keys pinned under the worker's name (what a verifier accepts, and nothing else). */
export async function pinnedKeys(
  location: string,
  worker: string,
): Promise<Result<PublicKey[], HostKeyError>> {
  const name = lookupName(worker);
  if (!name.ok)
    return hostKeyError('BAD_WORKER_NAME', `"${worker.slice(0, 64)}" cannot be a known_hosts name`);
  const path = knownHostsPath(location);
  const existing = await readPins(path);
  if (!existing.ok) return existing;
  const keys = existing.value.flatMap(({ entry }) =>
    entry !== null && entry.marker === null && entryNames(entry, name.value) ? [entry.key] : [],
  );
  if (keys.length === 0) return hostKeyError('NOT_PINNED', `no pin for ${worker} in ${path}`);
  return ok(keys);
}
