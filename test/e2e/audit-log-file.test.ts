/**
 * The audit log on disk, in a real psm location (psm init): appends through the vault-sealed key,
 * concurrent writer processes that must never fork the chain, and what verify says after the
 * newest entries are deleted or a write is torn. The byte-level tampering is covered by
 * test/property/audit-log-tamper.test.ts; this is the file, lock and checkpoint path.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEntry, auditPaths, openAuditLog } from '../../src/psm/audit-log/index.js';
import { runPsm, tempLocation, type TempLocation } from '../helpers/vault-harness.js';

const WRITERS = 6;
const ENTRIES_PER_WRITER = 5;
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

/** One writer process appending `count` entries, each through its own open/append/close. */
function writer(id: number, count: number): Promise<number | null> {
  const script = `
    const { appendAuditEntry } = await import(${JSON.stringify(DIST_AUDIT_LOG)});
    for (let i = 0; i < ${count}; i += 1) {
      const done = await appendAuditEntry(${JSON.stringify(temp.location)}, {
        action: 'test.append', subject: { writer: 'w${id}', n: String(i) },
      });
      if (!done.ok) { console.error(done.error.code, done.error.message); process.exit(1); }
    }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code));
  });
}

describe('the audit log in a psm location', () => {
  it('psm audit-log verify before anything was logged: a coded error, and the vault is not written', async () => {
    const conf = readFileSync(join(temp.location, 'etc', 'virtual.conf'));
    const run = await runPsm(['audit-log', 'verify', '--location', temp.location]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('AUDIT_KEY_UNAVAILABLE');
    expect(readFileSync(join(temp.location, 'etc', 'virtual.conf'))).toStrictEqual(conf);
  }, 60_000);

  it('appends through the sealed key and verifies', async () => {
    for (const n of ['1', '2', '3']) {
      const done = await appendAuditEntry(temp.location, { action: 'test.append', subject: { n } });
      expect(done.ok).toBe(true);
    }
    const report = await verify();
    expect(report).toMatchObject({ ok: true, entries: 3, tornBytes: 0 });
    expect(report.checkpoint?.count).toBe(3);
    const run = await runPsm(['audit-log', 'verify', '--location', temp.location, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, entries: 3, tornBytes: 0, findings: [] });
  }, 60_000);

  it(`${WRITERS} writer processes at once: every entry lands once, in one unforked chain`, async () => {
    const before = (await verify()).entries;
    const codes = await Promise.all(
      Array.from({ length: WRITERS }, (_, id) => writer(id, ENTRIES_PER_WRITER)),
    );
    expect(codes).toStrictEqual(Array.from({ length: WRITERS }, () => 0));
    const report = await verify();
    expect(report).toMatchObject({ ok: true, entries: before + WRITERS * ENTRIES_PER_WRITER });
    const lines = readFileSync(auditPaths(temp.location).log, 'utf8').trim().split('\n');
    const seqs = lines.map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(seqs).toStrictEqual(seqs.map((_, i) => seqs[0]! + i));
    const written = lines
      .map((line) => (JSON.parse(line) as { subject: Record<string, string> }).subject)
      .filter((subject) => subject.writer !== undefined)
      .map((subject) => `${subject.writer}/${subject.n}`)
      .sort();
    expect(new Set(written).size).toBe(WRITERS * ENTRIES_PER_WRITER);
  }, 120_000);

  it('a torn last write is reported, never accepted, and repaired on the record', async () => {
    const paths = auditPaths(temp.location);
    const entries = (await verify()).entries;
    appendFileSync(paths.log, '{"v":1,"seq":');
    const torn = await verify();
    expect(torn).toMatchObject({ ok: false, tornBytes: 13, repairable: true });
    expect(torn.findings.map((f) => f.code)).toContain('AUDIT_TORN_TAIL');
    const reported = await runPsm(['audit-log', 'verify', '--location', temp.location]);
    expect(reported.code).toBe(1);
    expect(reported.stdout).toContain('AUDIT_TORN_TAIL');
    const repaired = await runPsm(['audit-log', 'verify', '--repair', '--location', temp.location, '--json']);
    expect(repaired.code).toBe(0);
    expect(JSON.parse(repaired.stdout)).toMatchObject({ ok: true, repaired: true });
    // The torn bytes are gone and one entry records the repair.
    expect(await verify()).toMatchObject({ ok: true, entries: entries + 1, tornBytes: 0 });
  }, 60_000);

  it('deleting the newest entries shows against the checkpoint, and appends are refused', async () => {
    const paths = auditPaths(temp.location);
    const lines = readFileSync(paths.log, 'utf8').trim().split('\n');
    writeFileSync(paths.log, `${lines.slice(0, -2).join('\n')}\n`);
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.findings.length).toBeGreaterThan(0);
    const run = await runPsm(['audit-log', 'verify', '--location', temp.location, '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false });
    const refused = await appendAuditEntry(temp.location, { action: 'test.append', subject: { n: 'x' } });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('AUDIT_TAMPERED');
  }, 60_000);
});
