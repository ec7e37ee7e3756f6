#!/usr/bin/env node
// `npm run demo`: psm's main job on a throwaway grid node with real QEMU worker VMs (see
// scripts/demo/scenario.mjs for the nine steps). Exit 0 when every check passed, 1 when one
// failed, 130/143 after Ctrl-C/SIGTERM (cleaned up either way). `--report FILE` also writes the
// run as JSON (the e2e test reads it).
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDisplay } from './demo/display.mjs';
import { interruption } from './demo/processes.mjs';
import { runScenario } from './demo/scenario.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const reportAt = args.indexOf('--report');
const reportFile = reportAt >= 0 ? args[reportAt + 1] : undefined;
if (
  (reportAt >= 0 && reportFile === undefined) ||
  args.some((a, i) => a !== '--report' && i !== reportAt + 1)
) {
  console.error('usage: node scripts/demo.mjs [--report FILE]');
  process.exit(2);
}
const image = resolve(process.env.PSM_WORKER_IMAGE ?? join(root, '.cache', 'worker-image'));
const stop = interruption();
process.on('SIGINT', () => stop.trip('SIGINT'));
process.on('SIGTERM', () => stop.trip('SIGTERM'));

const report = await runScenario({ root, image, display: createDisplay(), stop });
if (reportFile !== undefined) await writeFile(reportFile, `${JSON.stringify(report, null, 2)}\n`);
if (report.interrupted !== undefined) process.exit(report.interrupted === 'SIGINT' ? 130 : 143);
process.exit(report.ok ? 0 : 1);
