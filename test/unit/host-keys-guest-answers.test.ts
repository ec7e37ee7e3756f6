import { describe, expect, it } from 'vitest';
import { generateSshKeyPair, wipeKeyPair } from '../../src/authorized-keys/keys/index.js';
import { checkGuestPublicKey, MAX_GUEST_PUB_BYTES } from '../../src/psm/host-keys/guest-answers.js';

/** Hostile guest answers for the `.pub` read-back; the key parser itself is covered against ssh-keygen. */
const mine = generateSshKeyPair('ed25519', 'root@worker-a');
wipeKeyPair(mine);
const other = generateSshKeyPair('ed25519', 'root@worker-a');
wipeKeyPair(other);
const path = '/persist/etc/ssh/ssh_host_ed25519_key.pub';
const bytes = (text: string) => new TextEncoder().encode(text);

describe('checkGuestPublicKey', () => {
  it('accepts exactly the key psm installed, with or without comment and newline', () => {
    for (const text of [
      mine.publicKey,
      mine.publicKey.trim(),
      mine.publicKey.split(' ').slice(0, 2).join(' '),
    ]) {
      const checked = checkGuestPublicKey(bytes(text), path, mine.publicBlob);
      expect(checked.ok && checked.value.fingerprint).toBe(mine.fingerprint);
    }
  });

  it.each([
    ['another key', other.publicKey, 'GUEST_KEY_MISMATCH'],
    ['not a key', 'hello world\n', 'GUEST_KEY_INVALID'],
    ['a private key file', '-----BEGIN OPENSSH PRIVATE KEY-----\n', 'GUEST_KEY_INVALID'],
    ['two lines', `${mine.publicKey}${other.publicKey}`, 'GUEST_KEY_INVALID'],
    ['a CR inside', mine.publicKey.replace(' root', '\rroot'), 'GUEST_KEY_INVALID'],
    ['truncated base64', mine.publicKey.slice(0, 40), 'GUEST_KEY_INVALID'],
    ['empty', '', 'GUEST_KEY_INVALID'],
    ['a huge reply', 'A'.repeat(MAX_GUEST_PUB_BYTES + 1), 'GUEST_ANSWER_TOO_LARGE'],
  ])('refuses %s', (_name, text, code) => {
    const checked = checkGuestPublicKey(bytes(text), path, mine.publicBlob);
    expect(!checked.ok && checked.error.code).toBe(code);
  });

  it('refuses bytes that are not UTF-8', () => {
    const checked = checkGuestPublicKey(new Uint8Array([0xff, 0xfe, 0x20]), path, mine.publicBlob);
    expect(!checked.ok && checked.error.code).toBe('GUEST_KEY_INVALID');
  });
});
