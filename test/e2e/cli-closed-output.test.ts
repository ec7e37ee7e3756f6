/**
 * Issue 9, defect 9: a reader that goes away (`psm vm clone --help | head -1`) made psm crash
 * with an EPIPE stack trace. psm now stops printing quietly and exits 141, like a program killed
 * by SIGPIPE (src/cli/closed-output.ts says why not 0). The real process, a real pipe.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';
import { PSM_BIN } from '../helpers/vault-harness.js';

vi.setConfig({ testTimeout: 60_000 });

/**
 * Runs psm, reads its first chunk of stdout, then closes the pipe as `head -1` does; with
 * `before`, closes it before psm has written anything (a reader that is already gone).
 */
function runClosingAfterFirstChunk(
  args: string[],
  before = false,
): Promise<{ code: number | null; stderr: string; first: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PSM_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '';
    const errs: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => errs.push(chunk));
    if (before) child.stdout.destroy();
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString('utf8').split('\n')[0] ?? '';
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr: Buffer.concat(errs).toString('utf8'), first }));
  });
}

describe('a closed stdout', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('epipe');
  });
  afterAll(() => dir.remove());

  it('psm vm clone --help | head -1: exit 141, no stack trace', async () => {
    const run = await runClosingAfterFirstChunk(['vm', 'clone', '--help'], true);
    expect(run.code).toBe(141);
    expect(run.stderr).toBe('');
  });

  it('psm keys inspect big | head -1: exit 141, no stack trace', async () => {
    const ed = readFileSync('test/vectors/authorized-keys/keys.txt', 'utf8')
      .split('\n')
      .find((line) => line.startsWith('ed '))!
      .split(' ')
      .slice(1, 3)
      .join(' ');
    const file = join(dir.path, 'big');
    await writeFile(file, `${ed} user@host\n`.repeat(50_000));
    const run = await runClosingAfterFirstChunk(['keys', 'inspect', file]);
    expect(run.first).toMatch(/^LINE/);
    expect(run.code).toBe(141);
    expect(run.stderr).toBe('');
  });
});
