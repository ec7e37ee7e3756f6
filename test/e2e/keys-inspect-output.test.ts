/**
 * `psm keys inspect` prints exactly what it printed before its writer was restructured (the
 * vectors in test/vectors/keys-inspect/), in process and as a real process writing a report of
 * many output chunks into a pipe and into a file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { runPsmInProcess } from '../helpers/run-psm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const VECTORS = 'test/vectors/keys-inspect';
const MIXED = join(VECTORS, 'mixed.authorized_keys');

/** The mixed file's lines `times` over (its last line has no line break, so one is added). */
function repeated(times: number): Buffer {
  const data = readFileSync(MIXED);
  return Buffer.concat(Array.from({ length: times }, () => Buffer.concat([data, Buffer.from('\n')])));
}

/** bin/psm.js with stdout into a file, as `psm keys inspect ... > file` does. */
async function runIntoFile(args: readonly string[], path: string): Promise<number> {
  const handle = await open(path, 'w');
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/psm.js', ...args], {
        stdio: ['ignore', handle.fd, 'ignore'],
      });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? -1));
    });
  } finally {
    await handle.close();
  }
}

describe('psm keys inspect output', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('ak-output');
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('prints the recorded JSON lines and table for the mixed file', async () => {
    for (const [args, expected] of [
      [['--json'], 'mixed.authorized_keys.json'],
      [[], 'mixed.authorized_keys.table'],
    ] as const) {
      const run = await runPsmInProcess(['keys', 'inspect', ...args, MIXED]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe(readFileSync(join(VECTORS, expected), 'utf8'));
      expect(run.stderr).toBe('');
    }
  });

  it('writes the same bytes as a real process into a pipe and into a file, over many chunks', async () => {
    if (!existsSync('dist/cli/main.js')) throw new Error('run npm run build first (npm test does)');
    const file = join(dir.path, 'big');
    await writeFile(file, repeated(60));
    for (const args of [['--json'], []]) {
      const inProcess = await runPsmInProcess(['keys', 'inspect', ...args, file]);
      expect(inProcess.stdout.length).toBeGreaterThan(16 * 65_536);
      const piped = await runProgram(process.execPath, ['bin/psm.js', 'keys', 'inspect', ...args, file], {
        timeoutMs: 60_000,
      });
      expect(piped.exitCode).toBe(1);
      expect(piped.stdout.toString('utf8')).toBe(inProcess.stdout);
      const output = join(dir.path, 'out');
      expect(await runIntoFile(['keys', 'inspect', ...args, file], output)).toBe(1);
      expect(await readFile(output, 'utf8')).toBe(inProcess.stdout);
    }
  });
});
