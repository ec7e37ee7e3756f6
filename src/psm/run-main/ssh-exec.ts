import { timingSafeEqual } from 'node:crypto';
import { Client, type ClientChannel } from 'ssh2';
import { ok, type Result } from '../../common/result.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import { GATE_REFUSED_EXIT } from '../gate/index.js';
import { runMainFail, type RunMainError } from './errors.js';

/** A TCG guest's sshd answers slowly; a dead one never. */
export const SSH_LOGIN_TIMEOUT_MS = 30_000;
/** What every gate refusal starts its stderr line with (src/psm/gate/generate.ts). */
export const GATE_REFUSAL_PREFIX = 'psm-gate: refused';
/** How much of the start of stderr is kept to read a gate refusal's reason. */
const REFUSAL_BYTES = 512;

export interface SshExecInput {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The worker's pinned host keys: the only keys the server may present. */
  readonly pins: readonly PublicKey[];
  /** The private key in memory (OpenSSH format); the caller wipes it. */
  readonly privateKey: Uint8Array;
  readonly command: string;
  /** Where output goes; a sink that returns a promise (a full pipe) holds the stream until it settles. */
  readonly onStdout: OutputSink;
  readonly onStderr: OutputSink;
  /** 0: no limit. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export type OutputSink = (chunk: Uint8Array) => void | Promise<void>;

/** How the remote command ended: an exit code, or the signal that killed it. */
export type SshExit =
  { readonly exitCode: number; readonly signal: null } | { readonly exitCode: null; readonly signal: string };

/**
 * One SSH session that runs `command` (no terminal, stdin closed at once) and streams its output
 * as it arrives. The server must present a pinned host key, or nothing is sent. A gate refusal
 * (exit 126 with the gate's own stderr line) is an error, with the gate's reason; every other exit
 * is the command's own and is returned.
 */
export function sshExec(input: SshExecInput): Promise<Result<SshExit, RunMainError>> {
  return new Promise((resolve) => {
    const client = new Client();
    let hostKeyOk = false;
    let hostKeySeen = false;
    let authenticated = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => finish(runMainFail('RUN_ABORTED', 'interrupted: the session was closed'));
    const finish = (outcome: Result<SshExit, RunMainError>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onAbort);
      client.end();
      client.destroy();
      resolve(outcome);
    };
    if (input.signal?.aborted === true) return onAbort();
    input.signal?.addEventListener('abort', onAbort, { once: true });
    const where = `${input.host}:${input.port}`;
    client.on('ready', () => {
      authenticated = true;
      if (input.timeoutMs > 0)
        timer = setTimeout(
          () =>
            finish(
              runMainFail(
                'RUN_TIMEOUT',
                `the object did not end within ${input.timeoutMs / 1000} s; the session was closed`,
              ),
            ),
          input.timeoutMs,
        );
      client.exec(input.command, {}, (error, channel) => {
        if (error)
          return finish(
            runMainFail('RUN_SSH_FAILED', `${where}: the session was refused (${error.message})`),
          );
        follow(channel, input, (outcome) => finish(outcome));
      });
    });
    client.on('error', (error: Error & { level?: string }) => {
      if (hostKeyOk && !authenticated && error.level === 'client-authentication')
        finish(runMainFail('RUN_LOGIN_REFUSED', `${where} refused psm's admin key`));
      else if (hostKeySeen && !hostKeyOk)
        finish(
          runMainFail(
            'RUN_HOST_KEY_MISMATCH',
            `${where} did not present a host key pinned for the worker (${error.message})`,
          ),
        );
      else finish(runMainFail('RUN_SSH_FAILED', `${where}: ${error.message}`));
    });
    client.on('close', () =>
      finish(runMainFail('RUN_SSH_FAILED', `${where} closed the connection before the object ended`)),
    );
    try {
      client.connect({
        host: input.host,
        port: input.port,
        username: input.user,
        privateKey: Buffer.from(
          input.privateKey.buffer,
          input.privateKey.byteOffset,
          input.privateKey.byteLength,
        ),
        readyTimeout: SSH_LOGIN_TIMEOUT_MS,
        tryKeyboard: false,
        agent: undefined,
        hostVerifier: (key: Buffer) => {
          hostKeySeen = true;
          hostKeyOk = input.pins.some(
            (pin) => pin.blob.length === key.length && timingSafeEqual(pin.blob, key),
          );
          return hostKeyOk;
        },
      });
    } catch (error) {
      // ssh2 throws at once on a key it cannot parse (an encrypted or foreign key file).
      finish(
        runMainFail(
          'RUN_ADMIN_KEY_UNREADABLE',
          `psm's admin key cannot be used (${(error as Error).message})`,
        ),
      );
    }
  });
}

/** Streams one channel's output; ends with its exit once the channel has closed (all output read). */
function follow(
  channel: ClientChannel,
  input: SshExecInput,
  done: (outcome: Result<SshExit, RunMainError>) => void,
): void {
  let exit: SshExit | undefined;
  let head = Buffer.alloc(0);
  channel.on('data', (chunk: Buffer) => deliver(channel, input.onStdout(chunk)));
  channel.stderr.on('data', (chunk: Buffer) => {
    if (head.length < REFUSAL_BYTES) head = Buffer.concat([head, chunk]).subarray(0, REFUSAL_BYTES);
    deliver(channel.stderr, input.onStderr(chunk));
  });
  channel.on('exit', (code: number | null, signal?: string) => {
    exit = code === null ? { exitCode: null, signal: signalName(signal) } : { exitCode: code, signal: null };
  });
  channel.on('close', () => {
    if (exit === undefined)
      return done(runMainFail('RUN_SSH_FAILED', 'the session closed without an exit status'));
    // sshd may write first (a missing home directory); the gate's line is its only output.
    const refusal = head
      .toString('utf8')
      .split('\n')
      .find((line) => line.startsWith(GATE_REFUSAL_PREFIX));
    if (exit.exitCode === GATE_REFUSED_EXIT && refusal !== undefined)
      return done(
        runMainFail(
          'RUN_GATE_REFUSED',
          `the worker's gate refused it: ${refusal.slice(GATE_REFUSAL_PREFIX.length).replace(/^ by /, '')}`,
        ),
      );
    done(ok(exit));
  });
  channel.end();
}

/** The signal as Node names it (`SIGTERM`); servers send `TERM` (RFC 4254), ssh2 may add the prefix. */
function signalName(signal: string | undefined): string {
  if (signal === undefined || !/^[A-Z0-9]{1,16}$/.test(signal)) return 'SIGUNKNOWN';
  return signal.startsWith('SIG') ? signal : `SIG${signal}`;
}

/** Backpressure: a stream whose sink is full is paused (SSH flow control then holds the object). */
function deliver(stream: { pause(): unknown; resume(): unknown }, written: void | Promise<void>): void {
  if (written === undefined) return;
  stream.pause();
  void written.then(
    () => stream.resume(),
    () => stream.resume(),
  );
}
