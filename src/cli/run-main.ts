import { constants } from 'node:os';
import type { Command } from 'commander';
import type { Result } from '../common/result.js';
import { askDaemon, clientCommand, type ClientFlags } from './daemon-client.js';
import { CliFailure } from './failure.js';
import type { Interrupt } from './interrupt.js';
import { printJson, writeGuestOutput, type CliIo } from './output.js';
import { examples, integerOption, isUtf8 } from './vm-support.js';

interface RunMainFlags extends ClientFlags {
  timeout?: string;
}

/** The longest --timeout, in seconds (a week: an application's main may run for days). */
export const MAX_RUN_TIMEOUT_SECONDS = 7 * 24 * 3600;
/** With --json, at most this much of each stream is kept (the rest is counted as truncated). */
export const MAX_JSON_STREAM_BYTES = 8 * 1024 * 1024;

/** `psm run-main APP -- OBJECT [ARGS...]`: the application's main in its worker, through the gate. */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  clientCommand(
    program
      .command('run-main')
      .description(
        "Run application APP's main (OBJECT from /usr/local/popc/objects) in its worker, through the admin key's gate",
      )
      .argument('<app>', 'POP-C++ application ID (it holds a worker: psm reserve)')
      .argument('<object>', 'the executable under /usr/local/popc/objects/ in the worker')
      .argument(
        '[args...]',
        "the object's arguments (one word each; the worker's gate decides what it allows)",
      )
      .option(
        '--timeout <seconds>',
        'close the session (hanging up the object) after this long; default: none',
      ),
  )
    .addHelpText(
      'after',
      `
psm asks the daemon for APP's worker, logs in to it over SSH as the POP-C++ user with psm's admin
key (the worker must present its pinned host key), and the key's forced command, the admin
policy's gate, runs popcobjrun OBJECT ARGS. The object's stdout and stderr are streamed as they
arrive and psm exits with the object's exit code (128+N if it died of signal N); the daemon
records the start and the end of the run in the audit log (run-main.start, run-main.end). psm's own
failures are coded: no daemon 7, unknown application 3, a bad OBJECT or argument 2, the gate's
refusal 4 (RUN_GATE_REFUSED), a refused login 5. psm's options go before --; everything after
-- is the object's and its arguments (stdin is not forwarded).${examples([
        'psm run-main app-42 -- hello world',
        'psm run-main app-42 --timeout 600 -- hello -v a b',
        'psm run-main app-42 --json -- hello world   # {"app","worker","object","args","exitCode","stdout","stderr",...}',
      ])}`,
    )
    .action(async (app: string, object: string, args: string[], flags: RunMainFlags) => {
      const { parseRunMainRequest, runMain, runMainErrorCategory } = await import('../psm/run-main/index.js');
      const { failureOf } = await import('./failure.js');
      const { locationFrom } = await import('../vault/layout.js');
      const { orFail } = await import('./vault-options.js');
      const request = parseRunMainRequest(object, args);
      if (!request.ok) throw failureOf(request.error, runMainErrorCategory);
      const timeoutMs =
        flags.timeout === undefined
          ? 0
          : integerOption(flags.timeout, '--timeout', 1, MAX_RUN_TIMEOUT_SECONDS) * 1000;
      const location = orFail(locationFrom(flags.location));
      const found = (await askDaemon(flags, 'POST', '/v1/run-main', { app, object, args })) as {
        worker: string;
        run: string;
        ssh: { host: string; port: number } | null;
      };
      const json = flags.json === true;
      const stdout = new Collected();
      const stderr = new Collected();
      const ran = await runMain({
        location,
        worker: found.worker,
        ssh: found.ssh,
        request: request.value,
        onStdout: (chunk) => (json ? stdout.add(chunk) : streamTo(io.stdout, chunk)),
        onStderr: (chunk) => (json ? stderr.add(chunk) : streamTo(io.stderr, chunk)),
        timeoutMs,
        signal: interrupt.signal,
      });
      await recordRunEnd(flags, found.run, runEndOf(ran), io);
      if (!ran.ok) throw failureOf(ran.error, runMainErrorCategory);
      const { exitCode, signal } = ran.value;
      if (json) {
        const text = isUtf8(stdout.bytes()) && isUtf8(stderr.bytes());
        const enc = (b: Uint8Array): string => Buffer.from(b).toString(text ? 'utf8' : 'base64');
        printJson(io, {
          app,
          worker: found.worker,
          object,
          args,
          exitCode,
          signal,
          encoding: text ? 'utf8' : 'base64',
          stdout: enc(stdout.bytes()),
          stderr: enc(stderr.bytes()),
          truncated: stdout.truncated || stderr.truncated,
        });
      } else if (signal !== null) io.stderr.write(`psm: ${object} died of signal ${signal}\n`);
      process.exitCode = exitCode ?? 128 + signalNumber(signal);
    });
}

/**
 * Reports how the run ended to the daemon, which records it in the audit log (`run-main.end`).
 * The object's exit code stays psm's exit code either way: a report the daemon could not take
 * (it restarted while the run went on, say) is a warning, not a failure of the run.
 */
async function recordRunEnd(flags: RunMainFlags, run: string, end: RunEnd, io: CliIo): Promise<void> {
  try {
    await askDaemon(flags, 'POST', '/v1/run-main/end', { run, ...end });
  } catch (error) {
    if (!(error instanceof CliFailure)) throw error;
    io.stderr.write(
      `psm: warning: the end of run ${run} is not recorded in the audit log (${error.code}: ${error.message})\n`,
    );
  }
}

type RunEnd = { exitCode: number } | { signal: string } | { error: string };

function runEndOf(ran: Result<{ exitCode: number | null; signal: string | null }, { code: string }>): RunEnd {
  if (!ran.ok) return { error: ran.error.code };
  if (ran.value.exitCode !== null) return { exitCode: ran.value.exitCode };
  return { signal: ran.value.signal ?? 'SIGKILL' };
}

/** Writes like `psm vm exec`; when the pipe is full, the promise holds the session until it drains. */
function streamTo(stream: CliIo['stdout'], chunk: Uint8Array): void | Promise<void> {
  writeGuestOutput(stream, chunk);
  if (!stream.writableNeedDrain) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

/** Shells' convention for a process killed by a signal; an unknown name counts as SIGKILL. */
function signalNumber(name: string | null): number {
  const signals = constants.signals as Record<string, number | undefined>;
  return (name === null ? undefined : signals[name]) ?? signals.SIGKILL ?? 9;
}

/** One stream's output, kept up to MAX_JSON_STREAM_BYTES. */
class Collected {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;

  add(chunk: Uint8Array): void {
    const room = MAX_JSON_STREAM_BYTES - this.size;
    if (chunk.length > room) this.truncated = true;
    const kept = chunk.subarray(0, Math.max(0, room));
    this.chunks.push(kept);
    this.size += kept.length;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}
