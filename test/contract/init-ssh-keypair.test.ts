import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { generateSshKeyPair } from '../../src/vault/ssh-keypair.js';
import { tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/** The admin key psm init writes in-process is what OpenSSH's own ssh-keygen reads and uses. */
let temp: TempLocation;
beforeAll(() => {
  temp = tempLocation();
});
afterAll(() => temp?.cleanup());

const keygen = (args: string[], input?: string) =>
  runProgram('ssh-keygen', args, { timeoutMs: 20_000, ...(input === undefined ? {} : { input }) });

describe('admin ed25519 key pair vs ssh-keygen', () => {
  it('ssh-keygen derives the same public key and fingerprint from the private key', async () => {
    for (let i = 0; i < 5; i += 1) {
      const pair = generateSshKeyPair(`psm-admin@test-${i}`);
      const file = join(temp.root, `id_${i}`);
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      writeFileSync(`${file}.pub`, pair.publicKey);
      const derived = await keygen(['-y', '-f', file]);
      expect(derived.exitCode, derived.stderr.toString()).toBe(0);
      expect(derived.stdout.toString().trim()).toBe(pair.publicKey.trim());
      const fingerprint = await keygen(['-l', '-E', 'sha256', '-f', `${file}.pub`]);
      expect(fingerprint.stdout.toString()).toContain(pair.fingerprint);
    }
  });

  it('the key signs and the signature verifies with ssh-keygen -Y', async () => {
    const pair = generateSshKeyPair('psm-admin@sign');
    const file = join(temp.root, 'id_sign');
    writeFileSync(file, pair.privateKey, { mode: 0o600 });
    const message = join(temp.root, 'message');
    writeFileSync(message, 'psm contract test\n');
    const signed = await keygen(['-Y', 'sign', '-f', file, '-n', 'psm', message]);
    expect(signed.exitCode, signed.stderr.toString()).toBe(0);
    const allowed = join(temp.root, 'allowed');
    writeFileSync(allowed, `admin@psm ${pair.publicKey}`);
    const verified = await keygen(
      ['-Y', 'verify', '-f', allowed, '-I', 'admin@psm', '-n', 'psm', '-s', `${message}.sig`],
      readFileSync(message, 'utf8'),
    );
    expect(verified.exitCode, verified.stderr.toString()).toBe(0);
  });

  it('the private key file is the openssh-key-v1 PEM with 70-column lines', () => {
    const pair = generateSshKeyPair('c');
    const text = Buffer.from(pair.privateKey).toString('latin1');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN OPENSSH PRIVATE KEY-----');
    expect(lines.at(-1)).toBe('-----END OPENSSH PRIVATE KEY-----');
    for (const line of lines.slice(1, -2)) expect(line).toHaveLength(70);
    const body = Buffer.from(lines.slice(1, -1).join(''), 'base64');
    expect(body.subarray(0, 15).toString('latin1')).toBe('openssh-key-v1\0');
  });
});
