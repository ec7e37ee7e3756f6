#!/usr/bin/env node
// `npm run bench`: runs every benchmark in scripts/bench/ (each exports `async function run()`
// that prints its own figures and ratios against the tool a user would otherwise use).
// Benchmarks print; they never pass or fail on time. Name some to run only those:
//   npm run bench -- authorized-keys vault
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const wanted = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.mjs')).sort();
for (const file of files) {
  const name = file.replace(/\.mjs$/, '');
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name} ==`);
  const module = await import(pathToFileURL(join(here, file)).href);
  await module.run();
}
