import { Option, type Command } from 'commander';
import type { Result } from '../common/result.js';
import { vaultErrorCategory } from '../vault/errors.js';
import { MAX_LOCK_WAIT_SECONDS } from '../vault/lock.js';
import type { KeyOptions, VaultError, VaultErrorCode } from '../vault/index.js';
import { exitCodeForCategory, type ExitCode } from './exit-codes.js';
import { CliFailure } from './failure.js';
import type { CliIo } from './output.js';
import { promptSecret, readSecretFd, readSecretFile, type PromptError } from './prompt.js';

/**
 * Options and error mapping shared by `psm vault ...` and `psm init`. Kept free of heavy imports
 * (types only from the vault library) so registering the commands costs nothing at start-up.
 */
export interface KeyFlags {
  readonly location?: string;
  readonly keyFile?: string;
  readonly passphraseFile?: string;
  readonly passphraseFd?: number;
  readonly json?: boolean;
  /** Seconds to wait for another writer (--lock-wait). */
  readonly lockWait?: number;
}

export function parseLockWait(value: string): number {
  const seconds = /^[0-9]{1,4}(\.[0-9]{1,3})?$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds <= MAX_LOCK_WAIT_SECONDS))
    throw new CliFailure(
      'BAD_LOCK_WAIT',
      `--lock-wait takes seconds from 0 to ${MAX_LOCK_WAIT_SECONDS}`,
      'usage',
    );
  return seconds;
}

/** For commands that write the vault: how long to wait for another writer before LOCKED. */
export function addLockWaitOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--lock-wait <seconds>',
      'wait this long for another psm writing the vault, then stop with LOCKED (0: do not wait)',
    )
      .argParser(parseLockWait)
      .default(30, '30'),
  );
}

export function writeOptions(flags: KeyFlags): { lockWaitMs?: number } {
  return flags.lockWait === undefined ? {} : { lockWaitMs: Math.round(flags.lockWait * 1000) };
}

export function parseFd(value: string): number {
  if (!/^[0-9]{1,7}$/.test(value))
    throw new CliFailure('BAD_FD', `${value} is not a file descriptor number`, 'usage');
  return Number.parseInt(value, 10);
}

export function addLocationOption(command: Command): Command {
  return command.option(
    '--location <dir>',
    'POP-C++ location (default: $POPC_LOCATION, else /usr/local/popc)',
  );
}

export function addKeyOptions(command: Command): Command {
  return command
    .option(
      '--key-file <path>',
      'master key file (default: $CREDENTIALS_DIRECTORY/psm.key, else LOCATION/etc/psm.key)',
    )
    .addOption(
      new Option('--passphrase-file <path>', 'read the vault passphrase from this file').conflicts(
        'passphraseFd',
      ),
    )
    .addOption(
      new Option('--passphrase-fd <n>', 'read the vault passphrase from this open descriptor').argParser(
        parseFd,
      ),
    );
}

/** The exit code for a vault error code (through its category). */
export function vaultExitCode(code: VaultErrorCode): ExitCode {
  return exitCodeForCategory(vaultErrorCategory(code));
}

/** Unwraps a vault result or throws the CLI failure for its code ("file:line: message"). */
export function orFail<T>(result: Result<T, VaultError>): T {
  if (result.ok) return result.value;
  const { code, file, line } = result.error;
  const place = file === undefined ? '' : line === undefined ? `${file}: ` : `${file}:${line}: `;
  throw new CliFailure(code, `${place}${result.error.message}`, vaultErrorCategory(code));
}

export function promptFailure(error: PromptError, what: string): CliFailure {
  if (error.code === 'NO_TTY')
    return new CliFailure(
      'NO_TTY',
      `${what}: no terminal to ask on; give it through a file or descriptor option`,
      'usage',
    );
  return new CliFailure(
    `INPUT_${error.code}`,
    `${what}: ${error.message}`,
    error.code === 'CANCELLED' ? 'usage' : 'input',
  );
}

/** Reads a passphrase from --*-file, --*-fd, or the terminal (asked twice when `confirm`). */
export async function readPassphrase(
  io: CliIo,
  source: { file?: string; fd?: number },
  label: string,
  confirm: boolean,
): Promise<Result<Uint8Array, PromptError>> {
  if (source.file !== undefined) return readSecretFile(source.file, label);
  if (source.fd !== undefined) return readSecretFd(source.fd, label);
  const first = await promptSecret(io, `${label}: `);
  if (!first.ok || !confirm) return first;
  const second = await promptSecret(io, `${label} (again): `);
  if (!second.ok) {
    first.value.fill(0);
    return second;
  }
  const same =
    first.value.length === second.value.length && first.value.every((b, i) => b === second.value[i]);
  second.value.fill(0);
  if (same) return first;
  first.value.fill(0);
  return { ok: false, error: { code: 'CANCELLED', message: 'the two answers differ' } };
}

export function keyOptions(io: CliIo, flags: KeyFlags): KeyOptions {
  return {
    ...(flags.keyFile === undefined ? {} : { keyFile: flags.keyFile }),
    passphrase: async () => {
      const read = await readPassphrase(
        io,
        { file: flags.passphraseFile, fd: flags.passphraseFd },
        'vault passphrase',
        false,
      );
      if (read.ok) return read;
      return {
        ok: false,
        error: { code: 'KEY_MISSING', message: `the vault passphrase: ${read.error.message}` },
      };
    },
  };
}

/**
 * keyOptions for a command that unlocks the vault more than once (an act, then its audit entry):
 * the passphrase is asked for once, kept for the command and handed out as a fresh copy each
 * time (the vault wipes what it is given); `wipe()` clears the kept copy when the command ends.
 */
export function onceKeyOptions(io: CliIo, flags: KeyFlags): { options: KeyOptions; wipe(): void } {
  const base = keyOptions(io, flags);
  let kept: Uint8Array | undefined;
  const ask = base.passphrase;
  return {
    options: {
      ...base,
      ...(ask === undefined
        ? {}
        : {
            passphrase: async () => {
              if (kept === undefined) {
                const read = await ask();
                if (!read.ok) return read;
                kept = read.value;
              }
              return { ok: true, value: Uint8Array.from(kept) };
            },
          }),
    },
    wipe: () => kept?.fill(0),
  };
}
