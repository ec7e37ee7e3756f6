import { beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf, newMasterKey } from '../../src/vault/master-key.js';
import { MAX_SECRET_BYTES, openSealed, parseSealed, sealSecret } from '../../src/vault/sealed-value.js';
import { loadSodium, type Sodium } from '../../src/vault/sodium.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

const bytes = (s: string) => new TextEncoder().encode(s);
const context = { fileId: '00112233445566778899aabbccddeeff', path: 'hypervisor.password' };

describe('sealSecret / openSealed', () => {
  it('opens what it sealed, with a fresh nonce each time', () => {
    const key = newMasterKey();
    const id = keyIdOf(sodium, key);
    const a = sealSecret(sodium, key, id, context, bytes('pw'));
    const b = sealSecret(sodium, key, id, context, bytes('pw'));
    expect(a).not.toBe(b);
    const opened = openSealed(sodium, key, id, context, a);
    expect(opened.ok && Buffer.from(opened.value).toString()).toBe('pw');
  });

  it('binds the path, the file id and the key id (associated data)', () => {
    const key = newMasterKey();
    const id = keyIdOf(sodium, key);
    const sealed = sealSecret(sodium, key, id, context, bytes('pw'));
    for (const other of [
      { ...context, path: 'worker.guest_password' },
      { ...context, fileId: 'ffeeddccbbaa99887766554433221100' },
    ]) {
      const opened = openSealed(sodium, key, id, other, sealed);
      expect(opened.ok ? 'opened' : opened.error.code).toBe('TAMPERED');
    }
    const otherKey = newMasterKey();
    const wrong = openSealed(sodium, otherKey, keyIdOf(sodium, otherKey), context, sealed);
    expect(wrong.ok ? 'opened' : wrong.error.message).toMatch(
      /sealed with key [0-9a-f]{16}, not this vault's key/,
    );
  });

  it('never puts the value or the key into an error message', () => {
    const key = newMasterKey();
    const id = keyIdOf(sodium, key);
    const sealed = sealSecret(sodium, key, id, context, bytes('very-secret-value'));
    const broken = sealed.slice(0, -6) + (sealed.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
    const opened = openSealed(sodium, key, id, context, broken);
    expect(opened.ok).toBe(false);
    if (!opened.ok) {
      expect(opened.error.message).not.toContain('very-secret-value');
      expect(opened.error.message).not.toContain(sealed.slice(30, 60));
      expect(opened.error.message).not.toContain(Buffer.from(key).toString('hex'));
    }
  });

  it('rejects an empty or oversized secret as a bug in the caller', () => {
    const key = newMasterKey();
    expect(() => sealSecret(sodium, key, keyIdOf(sodium, key), context, new Uint8Array(0))).toThrow(/bug/);
    expect(() =>
      sealSecret(sodium, key, keyIdOf(sodium, key), context, new Uint8Array(MAX_SECRET_BYTES + 1)),
    ).toThrow(/bug/);
  });
});

describe('parseSealed', () => {
  const valid = `psm-sealed:v1:0123456789abcdef:${Buffer.alloc(24).toString('base64')}:${Buffer.alloc(17).toString('base64')}`;
  it.each([
    ['plain text', 'hunter2', 'PLAINTEXT_SECRET'],
    ['unknown version', valid.replace(':v1:', ':v9:'), 'UNKNOWN_FORMAT_VERSION'],
    ['too few parts', 'psm-sealed:v1:0123456789abcdef:AAAA', 'TAMPERED'],
    ['extra part', `${valid}:AAAA`, 'TAMPERED'],
    ['upper-case key id', valid.replace('0123456789abcdef', '0123456789ABCDEF'), 'TAMPERED'],
    [
      'short nonce',
      valid.replace(Buffer.alloc(24).toString('base64'), Buffer.alloc(12).toString('base64')),
      'TAMPERED',
    ],
    [
      'ciphertext of only a tag',
      valid.replace(/:[^:]+$/, `:${Buffer.alloc(16).toString('base64')}`),
      'TAMPERED',
    ],
    ['unpadded base64', valid.replace(/=+$/, ''), 'TAMPERED'],
    ['too long', `psm-sealed:v1:${'A'.repeat(10_000)}`, 'TAMPERED'],
  ])('refuses %s', (_name, text, code) => {
    const parsed = parseSealed(text, 'secrets.x');
    expect(parsed.ok ? 'ok' : parsed.error.code).toBe(code);
  });

  it('accepts the canonical form', () => {
    expect(parseSealed(valid, 'secrets.x').ok).toBe(true);
  });
});
