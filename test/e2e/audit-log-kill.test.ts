/**
 * SIGKILL during audit log appends: a writer process appends as fast as it can and is killed at
 * a random moment. Afterwards the log verifies (at worst a torn last line, reported and repaired
 * on the record, never silently accepted), every entry the writer was told was written is there,
 * and the next append works.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEntry, auditPaths, openAuditLog } from '../../src/psm/audit-log/index.js';
import { runPsm, tempLocation, type TempLocation } from '../helpers/vault-harness.js';

const TRIALS = 12;
const DIST_AUDIT_LOG = pathToFileURL(
  join(import.meta.dirname, '..', '..', 'dist', 'psm', 'audit-log', 'index.js'),
).href;

let temp: TempLocation;

beforeAll(async () => {
  temp = tempLocation();
  const init = await runPsm(['init', '--location', temp.location, '--json']);
  expect(init.code).toBe(0);
}, 60_000);

afterAll(() => temp?.cleanup());

/** Appends until killed; prints the seq of every append it was told is durable. */
function startWriter(trial: number): { acknowledged: number[]; killAfter: (ms: number) => Promise<void> } {
  const script = `
    const { openAuditLog } = await import(${JSON.stringify(DIST_AUDIT_LOG)});
    const log = await openAuditLog(${JSON.stringify(temp.location)});
    if (!log.ok) { console.error(log.error.message); process.exit(1); }
    const names = Array.from({ length: 24 }, (_, i) => 'worker-' + i + '-' + 'node-'.repeat(60));
    for (let n = 0; ; n += 1) {
      const done = await log.value.append({ action: 'test.kill', subject: { trial: ${trial}, n, names } });
      if (!done.ok) { console.error(done.error.code, done.error.message); process.exit(1); }
      process.stdout.write(done.value.seqs.join(',') + '\\n');
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acknowledged: number[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) for (const seq of line.split(',')) acknowledged.push(Number(seq));
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  return {
    acknowledged,
    /** Kills `ms` after the writer's first durable append (so every kill lands among appends). */
    async killAfter(ms) {
      for (let waited = 0; acknowledged.length === 0 && waited < 30_000; waited += 20) await sleep(20);
      await sleep(ms);
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function verify() {
  const log = await openAuditLog(temp.location);
  if (!log.ok) throw new Error(log.error.message);
  try {
    const report = await log.value.verify();
    if (!report.ok) throw new Error(report.error.message);
    return report.value;
  } finally {
    log.value.close();
  }
}

describe('the audit log under SIGKILL', () => {
  it(`verifies after ${TRIALS} kills during appends, keeps every acknowledged entry, and appends again`, async () => {
    let seed = 0x2a;
    const rand = (): number => ((seed = (seed * 1664525 + 1013904223) >>> 0), seed / 2 ** 32);
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const writer = startWriter(trial);
      await writer.killAfter(Math.floor(rand() * 400));
      const report = await verify();
      const codes = report.findings.map((f) => f.code);
      if (!report.ok) {
        // The only thing a kill may leave is a torn last line, and it is reported, not accepted.
        expect([codes, report.repairable], `trial ${trial}`).toEqual([['AUDIT_TORN_TAIL'], true]);
        const repaired = await runPsm([
          'audit-log',
          'verify',
          '--repair',
          '--location',
          temp.location,
          '--json',
        ]);
        expect(repaired.code, repaired.stderr).toBe(0);
      }
      const seqs = new Set(
        readFileSync(auditPaths(temp.location).log, 'utf8')
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { seq: number }).seq),
      );
      expect(
        writer.acknowledged.length,
        `trial ${trial}: the writer appended nothing before the kill`,
      ).toBeGreaterThan(0);
      expect(
        writer.acknowledged.filter((seq) => !seqs.has(seq)),
        `trial ${trial}`,
      ).toEqual([]);
      const next = await appendAuditEntry(temp.location, { action: 'test.after-kill', subject: { trial } });
      expect(next.ok, next.ok ? '' : next.error.message).toBe(true);
      expect((await verify()).ok).toBe(true);
    }
  }, 300_000);
});
