/** The one .pub reader behind `policy render --key` and `known-hosts match --key`. */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PUBLIC_KEY_FILE_BYTES, readPublicKeyFile } from '../../src/psm/public-key-file.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBhC7j5/FsDkkDD/JL4UssCntRbaOMxxlbOX6asoomMB';
const OTHER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMoTW00tgkz2c1cdJAjXBkHX/6GnnJaUstuYlDuTWYoJ';

describe('public key files', () => {
  let temp: { path: string; remove: () => Promise<void> };
  const at = (name: string) => join(temp.path, name);
  beforeAll(async () => {
    temp = await makeTempDir('pub');
  });
  afterAll(async () => temp.remove());

  it.each([
    ['one line', `${KEY} user@host\n`],
    ['no newline', KEY],
    ['CRLF', `${KEY} user@host\r\n`],
    ['comments and blank lines around it', `# made by ssh-keygen\n\n${KEY}\n\n`],
  ])('reads %s', async (name, text) => {
    await writeFile(at(name), text);
    const read = await readPublicKeyFile(at(name));
    expect(read.ok && read.value.type).toBe('ssh-ed25519');
  });

  it.each([
    ['two keys', `${KEY}\n${OTHER}\n`, 'KEY_FILE_INVALID'],
    ['no key', '# nothing\n\n', 'KEY_FILE_INVALID'],
    ['not UTF-8', Buffer.from([0x73, 0x73, 0x68, 0xff, 0x0a]), 'KEY_FILE_INVALID'],
    ['options before the key', `restrict ${KEY}\n`, 'UNKNOWN_KEY_TYPE'],
    ['bad base64', 'ssh-ed25519 AAAA*\n', 'BAD_BASE64'],
  ])('refuses %s', async (name, data, code) => {
    await writeFile(at(name), data);
    expect(await readPublicKeyFile(at(name))).toMatchObject({ ok: false, error: { code, file: at(name) } });
  });

  it('refuses what is not a small regular file, at once', async () => {
    execFileSync('mkfifo', [at('fifo')]);
    await writeFile(at('big'), `${KEY} ${'x'.repeat(MAX_PUBLIC_KEY_FILE_BYTES)}`);
    for (const [path, code] of [
      [at('missing'), 'KEY_UNREADABLE'],
      [temp.path, 'KEY_UNREADABLE'],
      [at('fifo'), 'KEY_UNREADABLE'],
      [at('big'), 'KEY_FILE_TOO_LARGE'],
    ] as const)
      expect(await readPublicKeyFile(path)).toMatchObject({ ok: false, error: { code } });
  });
});
