/**
 * Key exchange's pure parts: the `from` verdict for the admin address, the intended record's
 * round trip and refusals, caller key checks, and what compareKeyFile says about a file.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSshKeyPair } from '../../src/authorized-keys/keys/index.js';
import { parsePublicKey, type PublicKey } from '../../src/authorized-keys/index.js';
import {
  addressMatchesFrom,
  checkAdminFrom,
  compareKeyFile,
  keysRecordPath,
  loadRolePolicies,
  readIntendedKeys,
  renderIntendedFile,
  type IntendedKeys,
} from '../../src/psm/key-exchange/index.js';
import { parseApplicationKeys, parseCallerKey } from '../../src/psm/key-exchange/input.js';
import { serializeIntendedKeys, writeIntendedKeys } from '../../src/psm/key-exchange/record.js';

function key(): PublicKey {
  const [type = '', base64 = ''] = generateSshKeyPair('ed25519', '').publicKey.trim().split(' ');
  const parsed = parsePublicKey(type, base64);
  if (!parsed.ok) throw new Error('bad key');
  return parsed.value;
}

async function policies() {
  const loaded = await loadRolePolicies(resolve('policies'));
  if (!loaded.ok) throw new Error(loaded.error.message);
  return loaded.value;
}

const record = (admin: PublicKey, main: PublicKey, initiator: PublicKey): IntendedKeys => ({
  worker: 'w1',
  revision: 3,
  admin: [{ key: admin, grantedAt: '2026-01-01T00:00:00Z' }],
  applications: [
    { appId: 'app-1', grantedAt: '2026-01-02T00:00:00Z', mainNode: main, initiators: [initiator] },
  ],
  userKey: null,
});

describe('the from verdict sshd gives the admin address', () => {
  it.each([
    ['10.0.2.2', ['10.0.2.2/32'], true],
    ['10.0.2.2', ['10.0.0.0/8'], true],
    ['10.0.2.2', ['192.168.122.0/24'], false],
    ['10.0.2.2', ['10.0.2.*'], true],
    ['10.0.2.2', ['10.0.0.0/8', '!10.0.2.2'], false],
    ['fd00::2', ['fd00::/8'], true],
    ['fd00::2', ['10.0.0.0/8'], false],
  ] as const)('%s against %j: %s', (address, patterns, expected) => {
    expect(addressMatchesFrom(address, patterns)).toBe(expected);
  });

  it('refuses a shipped admin policy that would lock out another address, with a coded error', async () => {
    const { admin } = await policies();
    expect(checkAdminFrom(admin, '10.0.2.2').ok).toBe(true);
    const refused = checkAdminFrom(admin, '192.168.122.1');
    expect(!refused.ok && refused.error.code).toBe('KEYX_ADMIN_FROM_MISMATCH');
    const notIp = checkAdminFrom(admin, 'admin.example');
    expect(!notIp.ok && notIp.error.code).toBe('KEYX_ADMIN_FROM_MISMATCH');
  });
});

describe('caller keys', () => {
  it('takes one plain public key line and refuses everything else', () => {
    const good = generateSshKeyPair('ed25519', 'main').publicKey;
    expect(parseCallerKey(good, 'main node').ok).toBe(true);
    for (const bad of ['', 'ssh-ed25519', `${good}${good}`, `${good.trim()}\r`, 'x'.repeat(20_000), 42])
      expect(parseCallerKey(bad, 'main node')).toMatchObject({ ok: false, error: { code: 'KEYX_BAD_KEY' } });
    const many = parseApplicationKeys({ mainNode: good, initiator: Array.from({ length: 17 }, () => good) });
    expect(!many.ok && many.error.code).toBe('KEYX_TOO_MANY');
  });
});

describe('the intended record and the file rendered from it', () => {
  it('round-trips, renders deterministically, and compareKeyFile finds nothing in its own file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'psm-keyx-'));
    try {
      const intended = record(key(), key(), key());
      expect((await writeIntendedKeys(dir, intended)).ok).toBe(true);
      const read = await readIntendedKeys(dir, 'w1');
      expect(read.ok && serializeIntendedKeys(read.value)).toBe(serializeIntendedKeys(intended));
      const roles = await policies();
      const a = renderIntendedFile(intended, roles);
      const b = renderIntendedFile(read.ok ? read.value : intended, roles);
      expect(a.ok && b.ok && a.value.text).toBe(b.ok ? b.value.text : '');
      if (!a.ok) throw new Error(a.error.message);
      expect(a.value.lines.map((l) => l.role)).toEqual(['admin', 'main-node', 'initiator']);
      expect(compareKeyFile(a.value.text, a.value.lines, new Date('2026-01-02T12:00:00Z'))).toEqual([]);
      // Later than the initiator's 1d expiry: that line (only) has expired.
      const late = compareKeyFile(a.value.text, a.value.lines, new Date('2026-01-03T12:00:00Z'));
      expect(late.map((f) => f.code)).toEqual(['EXPIRED_LINE']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads no record as an empty one, and refuses a damaged or foreign one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'psm-keyx-'));
    try {
      const empty = await readIntendedKeys(dir, 'w1');
      expect(empty.ok && empty.value.revision).toBe(0);
      await mkdir(join(dir, 'var', 'psm', 'workers'), { recursive: true });
      const text = serializeIntendedKeys(record(key(), key(), key()));
      for (const bad of [
        text.replace('"worker": "w1"', '"worker": "w2"'),
        text.replace(/"ssh-ed25519 [^"]+"/, '"ssh-ed25519 AAAA"'),
        text.replace('"revision": 3', '"revision": -1'),
        text.replace('"appId": "app-1"', '"appId": "../x"'),
        '{"format":"psm-worker-keys/v1","extra":1}',
        'not json',
      ]) {
        await writeFile(keysRecordPath(dir, 'w1'), bad);
        expect(await readIntendedKeys(dir, 'w1')).toMatchObject({
          ok: false,
          error: { code: 'KEYX_RECORD_INVALID' },
        });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names every way a file can differ from the intended lines', async () => {
    const admin = key();
    const intended = record(admin, key(), key());
    const file = renderIntendedFile(intended, await policies());
    if (!file.ok) throw new Error(file.error.message);
    const [header, adminLine = '', mainLine = '', initiatorLine = ''] = file.value.text.trimEnd().split('\n');
    const at = new Date('2026-01-02T12:00:00Z');
    const codes = (text: string) => compareKeyFile(text, file.value.lines, at).map((f) => f.code);
    const stranger = key();
    expect(
      codes(
        [header, adminLine, mainLine, initiatorLine, `restrict ${stranger.type} ${stranger.base64}`].join(
          '\n',
        ),
      ),
    ).toEqual(['UNKNOWN_KEY']);
    expect(codes([header, adminLine, mainLine].join('\n'))).toEqual(['MISSING_KEY']);
    expect(codes([adminLine, mainLine, initiatorLine, `${admin.type} ${admin.base64}`].join('\n'))).toEqual([
      'DUPLICATE_KEY',
      'LINE_WITHOUT_RESTRICT',
      'OPTIONS_DIFFER',
    ]);
    expect(codes([adminLine.replace('2711', '22'), mainLine, initiatorLine].join('\n'))).toEqual([
      'OPTIONS_DIFFER',
    ]);
    expect(codes([adminLine.replace(/ psm role=.*$/, ' other'), mainLine, initiatorLine].join('\n'))).toEqual(
      ['COMMENT_DIFFERS'],
    );
    expect(codes([adminLine, mainLine, initiatorLine, 'garbage'].join('\n'))).toEqual(['INVALID_LINE']);
  });
});
