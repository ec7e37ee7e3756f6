import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openSecret, openVault } from '../../src/vault/vault.js';
import { runPsm, tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/**
 * Issue 9, defect 2: concurrent `psm vault set` of distinct fields, as real processes. Every
 * writer must report success and every value must be there afterwards, round after round. The
 * red-team's check is 40 writers x 20 rounds (PSM_STRESS_WRITERS=40); the suite runs a lighter
 * 10 x 20 on the 2 shared cores.
 */
const WRITERS = Number(process.env.PSM_STRESS_WRITERS ?? 10);
const ROUNDS = Number(process.env.PSM_STRESS_ROUNDS ?? 20);
vi.setConfig({ testTimeout: 60_000 + WRITERS * ROUNDS * 3_000 });

let temp: TempLocation;
beforeAll(() => {
  temp = tempLocation();
});
afterAll(() => temp.cleanup());

describe('concurrent vault writers', () => {
  it(`lose nothing: ${WRITERS} writers x ${ROUNDS} rounds`, async () => {
    const loc = ['--location', temp.location];
    expect((await runPsm(['init', ...loc, '--json'])).code).toBe(0);
    const expected = new Map<string, string>();
    for (let round = 0; round < ROUNDS; round += 1) {
      const runs = await Promise.all(
        Array.from({ length: WRITERS }, (_, writer) => {
          const path = `secrets.r${round}-w${writer}`;
          const value = `value ${round}/${writer} ${'x'.repeat(writer)}`;
          expected.set(path, value);
          return runPsm(['vault', 'set', path, ...loc, '--json'], { input: value, timeoutMs: 120_000 });
        }),
      );
      const failed = runs.filter((run) => run.code !== 0).map((run) => run.stderr.trim());
      expect(failed, `round ${round}`).toEqual([]);
      const vault = await openVault(temp.location, {});
      if (!vault.ok) throw new Error(vault.error.message);
      try {
        const missing: string[] = [];
        for (const [path, value] of expected) {
          const opened = openSecret(vault.value, path);
          if (!opened.ok || Buffer.from(opened.value).toString('utf8') !== value) missing.push(path);
        }
        expect(missing, `lost after round ${round}`).toEqual([]);
      } finally {
        vault.value.close();
      }
    }
    expect(expected.size).toBe(WRITERS * ROUNDS);
  });
});
