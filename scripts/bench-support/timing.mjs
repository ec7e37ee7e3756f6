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
