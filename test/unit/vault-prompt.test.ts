import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/output.js';
import { MAX_SECRET_INPUT, promptSecret, readSecretStdin } from '../../src/cli/prompt.js';

/**
 * The no-echo prompt's key handling, on a stand-in terminal stream (raw mode recorded). The real
 * terminal was checked by hand in tmux (docs/vault.md); this pins the byte-level behaviour.
 */
function fakeTerminal() {
  const stdin = Object.assign(new PassThrough(), {
    isTTY: true,
    rawModes: [] as boolean[],
    setRawMode(mode: boolean) {
      this.rawModes.push(mode);
      return this;
    },
  });
  let shown = '';
  const stderr = new Writable({
    write(chunk: Buffer, _enc, done) {
      shown += chunk.toString();
      done();
    },
  });
  const io = { stdin, stdout: stderr, stderr } as unknown as CliIo;
  return { io, stdin, shown: () => shown };
}

async function answer(keys: (string | number[])[]) {
  const t = fakeTerminal();
  const pending = promptSecret(t.io, 'secret: ');
  for (const key of keys) t.stdin.write(typeof key === 'string' ? Buffer.from(key) : Buffer.from(key));
  const result = await pending;
  return { result, shown: t.shown(), rawModes: t.stdin.rawModes };
}

describe('promptSecret', () => {
  it('reads up to Enter, echoes nothing, and restores the terminal', async () => {
    const { result, shown, rawModes } = await answer(['hunter', '2\r']);
    expect(result.ok && Buffer.from(result.value).toString()).toBe('hunter2');
    expect(shown).toBe('secret: \n');
    expect(rawModes).toEqual([true, false]);
  });

  it('handles Backspace and Ctrl-U', async () => {
    const { result } = await answer(['abx', [0x7f], 'c', [0x15], 'xyz\n']);
    expect(result.ok && Buffer.from(result.value).toString()).toBe('xyz');
  });

  it('cancels on Ctrl-C, and on Ctrl-D at an empty line', async () => {
    for (const key of [[0x61, 0x03], [0x04]]) {
      const { result, rawModes } = await answer([key]);
      expect(result.ok ? 'ok' : result.error.code).toBe('CANCELLED');
      expect(rawModes.at(-1)).toBe(false);
    }
  });

  it('refuses an empty answer and one over the limit', async () => {
    expect((await answer(['\r'])).result).toMatchObject({ ok: false, error: { code: 'EMPTY' } });
    const long = await answer(['a'.repeat(MAX_SECRET_INPUT + 1)]);
    expect(long.result).toMatchObject({ ok: false, error: { code: 'TOO_LONG' } });
  });

  it('says NO_TTY when stdin is not a terminal', async () => {
    const io = {
      stdin: new PassThrough(),
      stdout: new PassThrough(),
      stderr: new PassThrough(),
    } as unknown as CliIo;
    expect(await promptSecret(io, 'x: ')).toMatchObject({ ok: false, error: { code: 'NO_TTY' } });
  });
});

describe('readSecretStdin', () => {
  it('drops one trailing newline and keeps everything else', async () => {
    const stdin = new PassThrough();
    const io = { stdin, stdout: new PassThrough(), stderr: new PassThrough() } as unknown as CliIo;
    const pending = readSecretStdin(io, 'secret');
    stdin.end(' two  spaces \n');
    const result = await pending;
    expect(result.ok && Buffer.from(result.value).toString()).toBe(' two  spaces ');
  });
});
