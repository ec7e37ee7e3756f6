// How the demo runs programs: execFile-style (argv, never a shell), with a timeout, stopped when
// the run is interrupted, and the daemon as a child in a process group of its own so that a
// terminal's Ctrl-C reaches only the demo, which then stops it in order.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long `run` waits for a program's output to close after the program exited. */
const EXIT_LINGER_MS = 5000;

/** Thrown when Ctrl-C or SIGTERM stopped the run; the demo cleans up and exits 130/143. */
export class Interrupted extends Error {
  constructor(signal) {
    super(`interrupted by ${signal}`);
    this.signal = signal;
  }
}

/** One flag for the whole run: set by SIGINT/SIGTERM, checked by every program start. */
export function interruption() {
  const waiters = new Set();
  const state = {
    signal: undefined,
    trip(signal) {
      if (state.signal !== undefined) return;
      state.signal = signal;
      for (const wake of waiters) wake();
    },
    throwIfTripped() {
      if (state.signal !== undefined) throw new Interrupted(state.signal);
    },
    onTrip(wake) {
      waiters.add(wake);
      return () => waiters.delete(wake);
    },
  };
  return state;
}

/**
 * Runs `file ARGS...` to its end (`input` on its stdin, else none); resolves {code, signal, stdout, stderr}. Killed (SIGKILL) after
 * `timeoutMs`; SIGTERM'd when the run is interrupted, which then rejects with Interrupted. With
 * `group`, the program and everything it starts (popcrun's client and its ssh sessions) run in a
 * process group of their own, and the signals go to the whole group.
 */
export function run(file, args, { timeoutMs = 300_000, env, stop, input, cwd, group = false } = {}) {
  stop?.throwIfTripped();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: env ?? process.env,
      cwd,
      detached: group,
    });
    const kill = (signal) => {
      try {
        if (group && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // already gone
      }
    };
    if (input !== undefined) child.stdin.end(input);
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    const timer = setTimeout(() => kill('SIGKILL'), timeoutMs);
    const off = stop?.onTrip(() => kill('SIGTERM')) ?? (() => {});
    let linger;
    let settled = false;
    const settle = (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(linger);
      off();
      if (stop?.signal !== undefined) return reject(new Interrupted(stop.signal));
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    };
    child.on('error', (error) => {
      settled = true;
      clearTimeout(timer);
      off();
      reject(error);
    });
    child.on('close', settle);
    // A program whose children outlive it can hold its stdout open after it exited (POP-C++
    // starts each $POPC_RSH in a process group of its own, and an interrupted client leaves
    // their ssh sessions up): settle a moment after its exit anyway, so that an interruption or a
    // timeout never waits on them; the cleanup stops them (cleanup.mjs, strayProcessesUnder).
    child.on('exit', (code, signal) => {
      linger = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        settle(code, signal);
      }, EXIT_LINGER_MS);
    });
  });
}

/**
 * Starts a long-running program (the daemon, an `ssh -L`) in a process group of its own and
 * resolves once its first stdout line arrives (when `firstLine`), or at once.
 */
export async function startChild(file, args, { env, firstLine = false, timeoutMs = 120_000 } = {}) {
  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ?? process.env,
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk.toString('utf8')));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const handle = {
    child,
    exited,
    stderr: () => stderr,
    async stop(signal = 'SIGTERM', waitMs = 90_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const done = await Promise.race([exited, sleep(waitMs).then(() => undefined)]);
      if (done !== undefined) return done;
      child.kill('SIGKILL');
      return exited;
    },
  };
  if (!firstLine) return { handle, line: undefined };
  // The handle is returned at once so that an interruption while waiting can still stop the child.
  const lines = createInterface({ input: child.stdout });
  const line = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file}: no output in ${timeoutMs} ms`)), timeoutMs);
    lines.once('line', (text) => {
      clearTimeout(timer);
      resolve(text);
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${file} ${args[1] ?? ''} exited with ${code}: ${stderr.trim()}`));
    });
  });
  return { handle, line };
}

/** `promise`, or Interrupted as soon as the run is interrupted. */
export function unlessInterrupted(promise, stop) {
  stop.throwIfTripped();
  return new Promise((resolve, reject) => {
    const off = stop.onTrip(() => reject(new Interrupted(stop.signal)));
    promise.then(
      (value) => {
        off();
        resolve(value);
      },
      (error) => {
        off();
        reject(error);
      },
    );
  });
}
