import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GENESIS_PREV,
  auditKeysFromSecret,
  lineHash,
  sealEntry,
  signCheckpoint,
  verifyLogBytes,
  type AuditKeys,
  type NewEntry,
} from '../../src/psm/audit-log/index.js';
import { loadSodium } from '../../src/vault/sodium.js';

/**
 * "psm audit-log verify catches every single-entry edit, deletion, swap, insertion and a
 * truncation, and passes on an untouched log": over generated logs, each with a checkpoint
 * signed at its end, every such change must give a report that is not ok.
 */
let keys: AuditKeys;
let otherKeys: AuditKeys;

beforeAll(async () => {
  const sodium = await loadSodium();
  keys = auditKeysFromSecret(sodium, new Uint8Array(randomBytes(32)));
  otherKeys = auditKeysFromSecret(sodium, new Uint8Array(randomBytes(32)));
});

const word = fc.stringMatching(/^[a-z0-9][a-z0-9._:-]{0,20}$/);
const entryArb: fc.Arbitrary<NewEntry> = fc.record({
  action: fc.constantFrom(
    'key-exchange.write',
    'key-exchange.remove',
    'vault.set',
    'policy.render',
    'audit.run',
  ),
  subject: fc.dictionary(
    fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/),
    fc.oneof(word, fc.integer(), fc.boolean(), fc.array(word, { maxLength: 3 })),
    {
      maxKeys: 5,
    },
  ),
  actor: fc.record({
    user: fc.constantFrom('root', 'popc', 'alice'),
    uid: fc.nat(65535),
    pid: fc.nat(4_000_000),
  }),
  time: fc.date({
    min: new Date('2020-01-01T00:00:00Z'),
    max: new Date('2099-12-31T00:00:00Z'),
    noInvalidDate: true,
  }),
});

function buildLines(k: AuditKeys, entries: readonly NewEntry[]): string[] {
  const lines: string[] = [];
  let prev = GENESIS_PREV;
  entries.forEach((entry, seq) => {
    const line = sealEntry(k, seq, prev, entry);
    lines.push(line);
    prev = lineHash(line);
  });
  return lines;
}

function logOf(lines: readonly string[]): Uint8Array {
  return Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
}

function checkpointOf(lines: readonly string[]): string {
  return signCheckpoint(
    keys,
    lines.length,
    lines.length === 0 ? GENESIS_PREV : lineHash(lines[lines.length - 1] as string),
  );
}

const logArb = fc.array(entryArb, { minLength: 1, maxLength: 12 });
const RUNS = 2_000;

describe('audit log verify over generated logs', () => {
  it('passes on every untouched log, and on the empty log', () => {
    fc.assert(
      fc.property(logArb, (entries) => {
        const lines = buildLines(keys, entries);
        const report = verifyLogBytes(keys, logOf(lines), checkpointOf(lines));
        expect(report.findings).toEqual([]);
        expect(report.ok).toBe(true);
        expect(report.entries).toBe(lines.length);
      }),
      { numRuns: 500 },
    );
    expect(verifyLogBytes(keys, new Uint8Array(0), checkpointOf([])).ok).toBe(true);
    expect(verifyLogBytes(keys, new Uint8Array(0), null).ok).toBe(true);
  });

  it('catches any single-byte edit of any entry', () => {
    fc.assert(
      fc.property(
        logArb,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (entries, at, offset, delta) => {
          const lines = buildLines(keys, entries);
          const index = at % lines.length;
          const bytes = Buffer.from(lines[index] as string, 'utf8');
          const pos = offset % bytes.length;
          bytes[pos] = ((bytes[pos] as number) + delta) % 256;
          // a line break would split the line; that is an insertion, covered below
          fc.pre(bytes[pos] !== 0x0a);
          const edited = Buffer.concat(
            lines.map((l, i) =>
              Buffer.from(`${i === index ? bytes.toString('latin1') : l}\n`, i === index ? 'latin1' : 'utf8'),
            ),
          );
          expect(verifyLogBytes(keys, edited, checkpointOf(lines)).ok).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('catches an edit that keeps the JSON valid and re-chains every later entry (no key: MAC fails)', () => {
    fc.assert(
      fc.property(logArb, fc.nat(), entryArb, (entries, at, replacement) => {
        const lines = buildLines(keys, entries);
        const index = at % lines.length;
        // the intruder rewrites entry `index` and everything after it with a key that is not psm's
        const forged = [
          ...lines.slice(0, index),
          ...buildLines(otherKeys, [
            ...entries.slice(0, index),
            replacement,
            ...entries.slice(index + 1),
          ]).slice(index),
        ];
        fc.pre(forged[index] !== lines[index]);
        expect(verifyLogBytes(keys, logOf(forged), checkpointOf(lines)).ok).toBe(false);
        expect(verifyLogBytes(keys, logOf(forged), checkpointOf(forged)).ok).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('catches the removal of any one entry', () => {
    fc.assert(
      fc.property(logArb, fc.nat(), (entries, at) => {
        const lines = buildLines(keys, entries);
        const index = at % lines.length;
        const removed = lines.filter((_, i) => i !== index);
        expect(verifyLogBytes(keys, logOf(removed), checkpointOf(lines)).ok).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('catches a swap of any two entries', () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { minLength: 2, maxLength: 12 }),
        fc.nat(),
        fc.nat(),
        (entries, a, b) => {
          const lines = buildLines(keys, entries);
          const i = a % lines.length;
          const j = b % lines.length;
          fc.pre(i !== j);
          const swapped = [...lines];
          [swapped[i], swapped[j]] = [lines[j] as string, lines[i] as string];
          expect(verifyLogBytes(keys, logOf(swapped), checkpointOf(lines)).ok).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('catches an insertion anywhere: a copied entry, a forged one, or one from another log', () => {
    const inserted = (lines: string[], kind: number, source: number, entry: NewEntry): string => {
      if (kind === 0) return lines[source % lines.length] as string;
      if (kind === 1)
        return sealEntry(otherKeys, lines.length, lineHash(lines[lines.length - 1] as string), entry);
      return buildLines(otherKeys, [entry])[0] as string;
    };
    fc.assert(
      fc.property(logArb, fc.nat(), fc.nat(2), fc.nat(), entryArb, (entries, at, kind, source, entry) => {
        const lines = buildLines(keys, entries);
        const index = at % (lines.length + 1);
        const extra = inserted(lines, kind, source, entry);
        const longer = [...lines.slice(0, index), extra, ...lines.slice(index)];
        expect(verifyLogBytes(keys, logOf(longer), checkpointOf(lines)).ok).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('catches a truncation at any byte, with or without the newest checkpoint', () => {
    fc.assert(
      fc.property(logArb, fc.nat(), (entries, cut) => {
        const lines = buildLines(keys, entries);
        const bytes = logOf(lines);
        const at = cut % bytes.length;
        const report = verifyLogBytes(keys, bytes.subarray(0, at), checkpointOf(lines));
        expect(report.ok).toBe(false);
        // Cutting the checkpointed part is never "repairable": only a torn line after it is.
        expect(report.repairable).toBe(false);
        expect(verifyLogBytes(keys, bytes.subarray(0, at), null).ok).toBe(at === 0);
      }),
      { numRuns: RUNS },
    );
  });

  it('catches a replaced or forged checkpoint, and a torn line after the checkpoint is repairable', () => {
    fc.assert(
      fc.property(logArb, (entries) => {
        const lines = buildLines(keys, entries);
        const bytes = logOf(lines);
        const alien = signCheckpoint(otherKeys, lines.length, lineHash(lines[lines.length - 1] as string));
        expect(verifyLogBytes(keys, bytes, alien).ok).toBe(false);
        const shorter = checkpointOf(lines.slice(0, -1));
        // an older checkpoint is fine (the log only grows) ...
        expect(verifyLogBytes(keys, bytes, shorter).ok).toBe(true);
        // ... and a crash mid-write after it leaves a torn tail that is reported and repairable
        const torn = Buffer.concat([bytes, Buffer.from(lines[0]?.slice(0, 20) ?? 'x')]);
        const report = verifyLogBytes(keys, torn, checkpointOf(lines));
        expect(report.ok).toBe(false);
        expect(report.findings.map((f) => f.code)).toEqual(['AUDIT_TORN_TAIL']);
        expect(report.repairable).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
