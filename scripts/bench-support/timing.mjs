// What the benchmarks in scripts/bench/ share: loading psm's built modules and median timings.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Imports a module of the build (`npm run build` first), e.g. load('vault/index.js'). */
export const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function timeMs(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The median of `count` timed runs of `fn`, in milliseconds. */
export async function samples(count, fn) {
  const out = [];
  for (let i = 0; i < count; i += 1) out.push(await timeMs(fn));
  return median(out);
}

let runCounter = 0;

/**
 * One whole-process run of `command args`, as a user starts it: wall milliseconds from spawn to
 * exit, its output read through a pipe and thrown away, and its peak resident memory in MiB
 * (through GNU time, when /usr/bin/time exists; null otherwise). `setup` runs first, untimed.
 */
export async function wholeProcess(command, args, setup) {
  const { spawn } = await import('node:child_process');
  const { existsSync } = await import('node:fs');
  const { readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  if (setup) await setup();
  const timeFile = join(tmpdir(), `psm-bench-time-${process.pid}-${(runCounter += 1)}`);
  const gnuTime = existsSync('/usr/bin/time');
  const [file, argv] = gnuTime
    ? ['/usr/bin/time', ['-f', '%M', '-o', timeFile, command, ...args]]
    : [command, args];
  const start = process.hrtime.bigint();
  const exitCode = await new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  let peakMiB = null;
  if (gnuTime) {
    const kib = Number((await readFile(timeFile, 'utf8')).trim().split('\n').pop());
    peakMiB = Number.isFinite(kib) ? kib / 1024 : null;
    await rm(timeFile, { force: true });
  }
  return { ms, peakMiB, exitCode };
}

/**
 * Paired whole-process runs: each round runs every command once, in turn, so a machine that
 * speeds up or slows down during the bench moves all of them alike. Returns, per command name,
 * the median wall ms and peak MiB, and the median of the per-round ratios to `baseline`.
 */
export async function pairedRuns(rounds, commands, baseline) {
  const names = Object.keys(commands);
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round += 1)
    for (const name of names) {
      const { command, args, setup } = commands[name];
      runs[name].push(await wholeProcess(command, args, setup));
    }
  const out = {};
  for (const name of names) {
    const list = runs[name];
    const peaks = list.map((r) => r.peakMiB).filter((p) => p !== null);
    out[name] = {
      ms: median(list.map((r) => r.ms)),
      peakMiB: peaks.length === 0 ? null : median(peaks),
      maxPeakMiB: peaks.length === 0 ? null : Math.max(...peaks),
      exitCodes: [...new Set(list.map((r) => r.exitCode))],
      ratio: median(list.map((r, i) => r.ms / runs[baseline][i].ms)),
    };
  }
  return out;
}
