import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/vault/config.js';
import { initVault } from '../../src/vault/init.js';
import { layoutOf } from '../../src/vault/layout.js';
import { setSecret } from '../../src/vault/set-secret.js';
import { unlockKey } from '../../src/vault/unlock.js';
import { openSecret, openVault, type OpenVault } from '../../src/vault/vault.js';
import { tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/**
 * "Flipping any single byte of a sealed value, or swapping two sealed values, is always
 * detected": detected means the vault never hands out a plaintext other than the one sealed at
 * that path; the altered value fails with a coded error (tampered, malformed, or bad config).
 */
const SECRETS: Record<string, string> = {
  'hypervisor.password': 'esx-root-password',
  'worker.guest_password': 'guest pass with spaces',
  'secrets.alpha': 'a',
  'secrets.beta': 'b'.repeat(300),
};

let temp: TempLocation;
let vault: OpenVault;
let text: string;
let spans: { path: string; start: number; end: number }[];

async function makeVault(location: string): Promise<void> {
  const made = await initVault({ location, force: false, kind: 'qemu', kdfCost: 'min' });
  if (!made.ok) throw new Error(made.error.message);
  for (const [path, secret] of Object.entries(SECRETS)) {
    const set = await setSecret(location, path, new TextEncoder().encode(secret), {});
    if (!set.ok) throw new Error(set.error.message);
  }
}

beforeAll(async () => {
  temp = tempLocation();
  await makeVault(temp.location);
  const opened = await openVault(temp.location, {});
  if (!opened.ok) throw new Error(opened.error.message);
  vault = opened.value;
  text = readFileSync(vault.conf.file, 'utf8');
  spans = [...vault.conf.sealed.values()].map((field) => {
    const start = text.indexOf(field.text);
    return { path: field.path, start, end: start + field.text.length };
  });
}, 60_000);

afterAll(() => {
  vault?.close();
  temp?.cleanup();
});

type Outcome = { detected: true; code: string } | { detected: false };

/** Loads mutated file bytes as psm would and checks every secret it would hand out. */
function outcome(bytes: Uint8Array, changedPaths: readonly string[]): Outcome {
  let mutated: string;
  try {
    mutated = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { detected: true, code: 'CONFIG_INVALID' };
  }
  const conf = parseConfigText(mutated, vault.conf.file, temp.location);
  if (!conf.ok) return { detected: true, code: conf.error.code };
  const view = { ...vault, conf: conf.value };
  let detectedCode: string | undefined;
  for (const path of Object.keys(SECRETS)) {
    const opened = openSecret(view, path);
    if (opened.ok) {
      // An untouched value still opens, and only ever to its own plaintext.
      expect(Buffer.from(opened.value).toString('utf8')).toBe(SECRETS[path]);
      if (changedPaths.includes(path)) return { detected: false };
    } else if (changedPaths.includes(path)) detectedCode = opened.error.code;
  }
  return detectedCode === undefined ? { detected: false } : { detected: true, code: detectedCode };
}

function flip(position: number, mask: number): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
  bytes[position] = (bytes[position] ?? 0) ^ mask;
  return bytes;
}

describe('vault tamper detection', () => {
  it('detects every single-byte flip of every sealed value (exhaustive over positions, three masks)', () => {
    let checked = 0;
    const codes = new Set<string>();
    for (const span of spans)
      for (let position = span.start; position < span.end; position += 1)
        for (const mask of [0x01, 0x20, 0xff]) {
          const result = outcome(flip(position, mask), [span.path]);
          expect(result.detected, `${span.path} byte ${position - span.start} ^ ${mask}`).toBe(true);
          if (result.detected) codes.add(result.code);
          checked += 1;
        }
    expect(checked).toBeGreaterThan(1000);
    expect(codes).toContain('TAMPERED');
  });

  it('detects a flip of any byte with any mask (random)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (which, offset, mask) => {
          const span = spans[which % spans.length]!;
          const position = span.start + (offset % (span.end - span.start));
          expect(outcome(flip(position, mask), [span.path]).detected).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('detects any swap of two sealed values', () => {
    for (const a of spans)
      for (const b of spans) {
        if (a === b) continue;
        const valueA = text.slice(a.start, a.end);
        const valueB = text.slice(b.start, b.end);
        const swapped = text.replace(valueA, '\u0000A').replace(valueB, valueA).replace('\u0000A', valueB);
        const result = outcome(new Uint8Array(Buffer.from(swapped, 'utf8')), [a.path, b.path]);
        expect(result).toEqual({ detected: true, code: 'TAMPERED' });
      }
  });

  it('a flip anywhere in the [vault] header never yields a wrong plaintext', async () => {
    const start = text.indexOf('[vault]');
    const end = text.indexOf('[hypervisor]');
    let refused = 0;
    for (let position = start; position < end; position += 1)
      for (const mask of [0x01, 0x20]) {
        let mutated: string;
        try {
          mutated = new TextDecoder('utf-8', { fatal: true }).decode(flip(position, mask));
        } catch {
          refused += 1;
          continue;
        }
        const conf = parseConfigText(mutated, vault.conf.file, temp.location);
        if (!conf.ok) {
          refused += 1;
          continue;
        }
        const key = await unlockKey(conf.value, {});
        if (!key.ok) {
          expect(key.error.code).toBe('WRONG_KEY');
          refused += 1;
          continue;
        }
        const view = { ...vault, conf: conf.value, key: key.value };
        for (const [path, secret] of Object.entries(SECRETS)) {
          const opened = openSecret(view, path);
          if (opened.ok) expect(Buffer.from(opened.value).toString('utf8')).toBe(secret);
          else expect(opened.error.code).toBe('TAMPERED');
        }
        key.value.sodium.memzero(key.value.key);
      }
    expect(refused).toBeGreaterThan(100);
  }, 60_000);

  it('detects a sealed value copied from another vault file sealed with the same key', async () => {
    const other = join(temp.root, 'other');
    mkdirSync(join(other, 'etc'), { recursive: true, mode: 0o700 });
    copyFileSync(layoutOf(temp.location).keyFile, layoutOf(other).keyFile);
    await makeVault(other);
    const otherText = readFileSync(layoutOf(other).configFile, 'utf8');
    const foreign = /^password = "(psm-sealed:[^"]+)"$/m.exec(otherText)?.[1];
    const own = spans.find((s) => s.path === 'hypervisor.password')!;
    expect(foreign).toBeDefined();
    const moved = text.slice(0, own.start) + foreign + text.slice(own.end);
    expect(outcome(new Uint8Array(Buffer.from(moved, 'utf8')), ['hypervisor.password'])).toEqual({
      detected: true,
      code: 'TAMPERED',
    });
  }, 60_000);
});
