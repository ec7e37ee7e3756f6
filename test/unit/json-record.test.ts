import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseJsonRecord,
  readJsonRecordFile,
  serializeJsonRecord,
  type JsonRecordSpec,
} from '../../src/common/json-record.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const SPEC: JsonRecordSpec = { format: 'psm-test/v1', keys: ['format', 'name', 'size'], maxBytes: 256 };

describe('versioned JSON records', () => {
  let temp: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    temp = await makeTempDir('json-record');
  });
  afterAll(async () => temp.remove());

  it('writes the spec key order and reads it back', () => {
    const text = serializeJsonRecord({ size: 3, name: 'a', format: 'psm-test/v1' }, SPEC);
    expect(text).toBe('{\n  "format": "psm-test/v1",\n  "name": "a",\n  "size": 3\n}\n');
    expect(parseJsonRecord(text, SPEC)).toEqual({
      ok: true,
      value: { format: 'psm-test/v1', name: 'a', size: 3 },
    });
  });

  it.each([
    ['not JSON', '{', 'is not JSON'],
    ['an array', '[]', 'is not a JSON object'],
    ['null', 'null', 'is not a JSON object'],
    ['an unknown key', '{"format":"psm-test/v1","extra":1}', 'has an unknown key "extra"'],
    ['another version', '{"format":"psm-test/v2"}', 'is not format "psm-test/v1"'],
    ['no format', '{"name":"a"}', 'is not format "psm-test/v1"'],
  ])('refuses %s', (_name, text, message) => {
    expect(parseJsonRecord(text, SPEC)).toEqual({ ok: false, error: { code: 'RECORD_INVALID', message } });
  });

  it('tells a missing file from an unreadable, oversized or non-UTF-8 one', async () => {
    const path = (name: string) => join(temp.path, name);
    expect(await readJsonRecordFile(path('none.json'), SPEC)).toMatchObject({
      ok: false,
      error: { code: 'RECORD_MISSING', file: path('none.json') },
    });
    await writeFile(path('big.json'), `{"format":"psm-test/v1","name":"${'x'.repeat(300)}"}`);
    expect(await readJsonRecordFile(path('big.json'), SPEC)).toMatchObject({
      ok: false,
      error: { code: 'RECORD_TOO_LARGE' },
    });
    await writeFile(path('latin1.json'), Buffer.from('{"format":"psm-test/v1","name":"\xe9"}', 'latin1'));
    expect(await readJsonRecordFile(path('latin1.json'), SPEC)).toMatchObject({
      ok: false,
      error: { code: 'RECORD_INVALID', message: 'is not valid UTF-8' },
    });
    expect(await readJsonRecordFile(temp.path, SPEC)).toMatchObject({
      ok: false,
      error: { code: 'RECORD_UNREADABLE', message: 'is not a regular file' },
    });
    await writeFile(path('ok.json'), '{"format":"psm-test/v1","name":"a"}');
    expect(await readJsonRecordFile(path('ok.json'), SPEC)).toEqual({
      ok: true,
      value: { format: 'psm-test/v1', name: 'a' },
    });
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = join(temp.path, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(await readJsonRecordFile(fifo, SPEC)).toMatchObject({
      ok: false,
      error: { code: 'RECORD_UNREADABLE', message: 'is not a regular file' },
    });
  });
});
