import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { generateSshKeyPair, SSH_KEY_ALGORITHMS, wipeKeyPair } from '../../src/authorized-keys/keys/index.js';
import { tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/** Host keys psm writes in process are what OpenSSH's ssh-keygen and sshd read and use. */
let temp: TempLocation;
beforeAll(() => {
  temp = tempLocation();
});
afterAll(() => temp?.cleanup());

const keygen = (args: string[], input?: string) =>
  runProgram('ssh-keygen', args, { timeoutMs: 20_000, ...(input === undefined ? {} : { input }) });

const TYPES = { ed25519: 'ED25519', ecdsa: 'ECDSA', rsa: 'RSA' } as const;

describe.each(SSH_KEY_ALGORITHMS.map((algorithm) => [algorithm]))(
  '%s key pair vs ssh-keygen',
  (algorithm) => {
    it('ssh-keygen derives the same public key, type, size and fingerprint from the private key', async () => {
      const rounds = algorithm === 'rsa' ? 2 : 5;
      for (let i = 0; i < rounds; i += 1) {
        const pair = generateSshKeyPair(algorithm, `root@worker-${i}`);
        const file = join(temp.root, `host_${algorithm}_${i}`);
        writeFileSync(file, pair.privateKey, { mode: 0o600 });
        writeFileSync(`${file}.pub`, pair.publicKey);
        const derived = await keygen(['-y', '-f', file]);
        expect(derived.exitCode, derived.stderr.toString()).toBe(0);
        expect(derived.stdout.toString()).toBe(pair.publicKey);
        const listed = await keygen(['-l', '-E', 'sha256', '-f', file]);
        expect(listed.exitCode, listed.stderr.toString()).toBe(0);
        const size = { ed25519: 256, ecdsa: 256, rsa: 3072 }[algorithm];
        expect(listed.stdout.toString()).toBe(
          `${size} ${pair.fingerprint} root@worker-${i} (${TYPES[algorithm]})\n`,
        );
        wipeKeyPair(pair);
        expect(pair.privateKey.every((byte) => byte === 0)).toBe(true);
      }
    });

    it('the key signs and ssh-keygen -Y verifies the signature against the .pub line', async () => {
      const pair = generateSshKeyPair(algorithm, 'root@sign');
      const file = join(temp.root, `sign_${algorithm}`);
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const message = join(temp.root, `message_${algorithm}`);
      writeFileSync(message, 'psm host key contract test\n');
      const signed = await keygen(['-Y', 'sign', '-f', file, '-n', 'psm', message]);
      expect(signed.exitCode, signed.stderr.toString()).toBe(0);
      const allowed = join(temp.root, `allowed_${algorithm}`);
      writeFileSync(allowed, `w@psm ${pair.publicKey}`);
      const verified = await keygen(
        ['-Y', 'verify', '-f', allowed, '-I', 'w@psm', '-n', 'psm', '-s', `${message}.sig`],
        readFileSync(message, 'utf8'),
      );
      expect(verified.exitCode, verified.stderr.toString()).toBe(0);
    });

    it('sshd -t accepts the file as a HostKey', async () => {
      const pair = generateSshKeyPair(algorithm, '');
      const file = join(temp.root, `sshd_${algorithm}`);
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const config = join(temp.root, `sshd_config_${algorithm}`);
      writeFileSync(config, `HostKey ${file}\nListenAddress 127.0.0.1:1\n`);
      const checked = await runProgram('/usr/sbin/sshd', ['-t', '-f', config], { timeoutMs: 20_000 });
      expect(checked.exitCode, checked.stderr.toString()).toBe(0);
    });
  },
);

describe('key file layout', () => {
  it('is the openssh-key-v1 PEM with 70-column lines and different keys each time', () => {
    const a = generateSshKeyPair('ed25519', 'c');
    const b = generateSshKeyPair('ed25519', 'c');
    expect(a.fingerprint).not.toBe(b.fingerprint);
    const lines = Buffer.from(a.privateKey).toString('latin1').trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN OPENSSH PRIVATE KEY-----');
    expect(lines.at(-1)).toBe('-----END OPENSSH PRIVATE KEY-----');
    for (const line of lines.slice(1, -2)) expect(line).toHaveLength(70);
    const body = Buffer.from(lines.slice(1, -1).join(''), 'base64');
    expect(body.subarray(0, 15).toString('latin1')).toBe('openssh-key-v1\0');
  });

  it('refuses a comment that would break the .pub line', () => {
    expect(() => generateSshKeyPair('ed25519', 'a\nb')).toThrow(/control characters/);
  });
});
