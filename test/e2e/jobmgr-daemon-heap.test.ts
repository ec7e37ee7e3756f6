/**
 * A daemon runs for years: 10,000 reserve -> release -> end cycles (each a new application ID)
 * must not grow its heap. Measured in a child process started with --expose-gc, so a forced GC
 * gives comparable figures; runs the built daemon (dist/, made by `npm test`'s set-up).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';

const ROOT = join(__dirname, '..', '..');

describe('psm daemon memory', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('jobmgr-heap');
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('the heap after 10,000 cycles is within 10% of the heap after the first 1,000', async () => {
    expect(existsSync(join(ROOT, 'dist', 'jobmgr', 'daemon', 'run.js')), 'run npm run build first').toBe(
      true,
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', join(ROOT, 'test', 'helpers', 'daemon-heap-child.mjs'), dir.path],
      { timeout: 240_000, maxBuffer: 1024 * 1024 },
    );
    const { after1000, after10000 } = JSON.parse(stdout) as { after1000: number; after10000: number };
    expect(after1000).toBeGreaterThan(0);
    expect(after10000 / after1000, `heap ${after1000} -> ${after10000} bytes`).toBeLessThanOrEqual(1.1);
  }, 300_000);
});
