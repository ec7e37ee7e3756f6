import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readFileChunks,
  readRegularFile,
  readStream,
  readStreamChunks,
  withoutLineEnd,
  type ReadError,
} from '../../src/common/bounded-read.js';
import type { Result } from '../../src/common/result.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('withoutLineEnd', () => {
  it('drops exactly one trailing \\n or \\r\\n and nothing else', () => {
    const cases: [string, string][] = [
      ['abc\n', 'abc'],
      ['abc\r\n', 'abc'],
      ['abc\r', 'abc\r'],
      ['abc\n\n', 'abc\n'],
      ['abc\r\r\n', 'abc\r'],
      ['\n', ''],
      ['', ''],
      [' a \n', ' a '],
    ];
    for (const [input, expected] of cases)
      expect(text(withoutLineEnd(Buffer.from(input, 'latin1'))), JSON.stringify(input)).toBe(expected);
  });
});

describe('readRegularFile and readStream', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('bounded-read');
  });
  afterAll(() => dir.remove());

  it('reads a file up to its limit and refuses one byte more, before reading', async () => {
    const file = join(dir.path, 'f');
    await writeFile(file, 'x'.repeat(10));
    const fits = await readRegularFile(file, 10);
    expect(fits.ok && text(fits.value)).toBe('x'.repeat(10));
    expect(await readRegularFile(file, 9)).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
  });

  it('refuses a directory, reports a missing file, and refuses a symlink only when asked', async () => {
    await mkdir(join(dir.path, 'd'));
    expect(await readRegularFile(join(dir.path, 'd'), 10)).toMatchObject({
      ok: false,
      error: { code: 'NOT_REGULAR' },
    });
    expect(await readRegularFile(join(dir.path, 'none'), 10)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    await writeFile(join(dir.path, 'target'), 'ok');
    await symlink(join(dir.path, 'target'), join(dir.path, 'link'));
    expect((await readRegularFile(join(dir.path, 'link'), 10)).ok).toBe(true);
    expect(await readRegularFile(join(dir.path, 'link'), 10, { noFollow: true })).toMatchObject({
      ok: false,
      error: { code: 'SYMLINK' },
    });
  });

  it('bounds a stream: the limit is fine, one byte more is refused', async () => {
    const ok = new PassThrough();
    ok.end('abcd');
    const read = await readStream(ok, 4, 'input', { wipe: true });
    expect(read.ok && text(read.value)).toBe('abcd');
    const long = new PassThrough();
    long.end('abcde');
    expect(await readStream(long, 4, 'input')).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
  });

  async function collect(chunks: AsyncIterable<Result<Uint8Array, ReadError>>): Promise<string | string[]> {
    const out: Uint8Array[] = [];
    for await (const chunk of chunks) {
      if (!chunk.ok) return [chunk.error.code];
      out.push(chunk.value);
    }
    return text(Buffer.concat(out));
  }

  it('reads a file in chunks with the same checks as readRegularFile', async () => {
    const file = join(dir.path, 'chunks');
    const content = 'abcdefgh'.repeat(20_000); // several chunks
    await writeFile(file, content);
    expect(await collect(readFileChunks(file, content.length))).toBe(content);
    expect(await collect(readFileChunks(file, content.length - 1))).toEqual(['TOO_LARGE']);
    expect(await collect(readFileChunks(join(dir.path, 'missing'), 10))).toEqual(['NOT_FOUND']);
    expect(await collect(readFileChunks(dir.path, 10))).toEqual(['NOT_REGULAR']);
  });

  it('reads a stream in chunks up to its limit and ends with TOO_LARGE past it', async () => {
    const stream = (): PassThrough => {
      const s = new PassThrough();
      s.end('0123456789');
      return s;
    };
    expect(await collect(readStreamChunks(stream(), 10, 'input'))).toBe('0123456789');
    expect(await collect(readStreamChunks(stream(), 9, 'input'))).toEqual(['TOO_LARGE']);
  });
});
