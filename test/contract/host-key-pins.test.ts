import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { generateSshKeyPair, wipeKeyPair } from '../../src/authorized-keys/keys/index.js';
import {
  knownHostsPath,
  pinnedKeys,
  pinWorker,
  unpinWorker,
  type PinnedKey,
} from '../../src/psm/host-keys/pin-store.js';
import { verifyPresentedKeys } from '../../src/psm/host-keys/verify-identity.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

/** psm's pin store is what OpenSSH's own ssh and ssh-keygen read, with StrictHostKeyChecking=yes. */
let sshd: TestSshd;
let location: string;
beforeAll(async () => {
  sshd = await startSshd();
  location = await mkdtemp(join(tmpdir(), 'psm-pins-'));
});
afterAll(async () => {
  await sshd?.stop();
  if (location) await rm(location, { recursive: true, force: true });
});

const asPin = (line: string): PinnedKey => {
  const [type = '', base64 = ''] = line.trim().split(' ');
  return { type, base64 };
};

const ssh = (alias: string, port: number) =>
  runProgram(
    'ssh',
    [
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${knownHostsPath(location)}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      `HostKeyAlias=${alias}`,
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentityFile=/dev/null',
      '-o',
      'IdentitiesOnly=yes',
      '-p',
      String(port),
      `${sshd.user}@127.0.0.1`,
      'true',
    ],
    { timeoutMs: 20_000 },
  );

describe.each([[false], [true]])('pin store (hashed names: %s) vs OpenSSH', (hashNames) => {
  it("ssh reaches the pinned worker with no prompt and refuses another worker's alias", async () => {
    const other = generateSshKeyPair('ed25519', '');
    wipeKeyPair(other);
    const a = await pinWorker(
      location,
      { worker: 'worker-a', host: '127.0.0.1', port: sshd.port },
      [asPin(sshd.hostKeyPublic)],
      { hashNames },
    );
    expect(a.ok).toBe(true);
    const b = await pinWorker(
      location,
      { worker: 'worker-b', host: '127.0.0.1', port: sshd.port + 1 },
      [asPin(other.publicKey)],
      { hashNames },
    );
    expect(b.ok).toBe(true);
    const good = await ssh('worker-a', sshd.port);
    expect(good.stderr.toString()).not.toMatch(/host key verification failed/i);
    expect(good.stderr.toString()).toMatch(/Permission denied/);
    const bad = await ssh('worker-b', sshd.port);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr.toString()).toMatch(/Host key verification failed/);
    const found = await runProgram(
      'ssh-keygen',
      ['-F', `[127.0.0.1]:${sshd.port}`, '-f', knownHostsPath(location)],
      { timeoutMs: 10_000 },
    );
    expect(found.exitCode).toBe(0);
  });

  it('repinning replaces the earlier pins of that worker and keeps the others', async () => {
    const fresh = generateSshKeyPair('ecdsa', '');
    wipeKeyPair(fresh);
    const again = await pinWorker(
      location,
      { worker: 'worker-b', host: '127.0.0.1', port: sshd.port + 1 },
      [asPin(fresh.publicKey)],
      { hashNames },
    );
    expect(again.ok).toBe(true);
    const keys = await pinnedKeys(location, 'worker-b');
    expect(keys.ok && keys.value.map((key) => key.fingerprint)).toEqual([fresh.fingerprint]);
    const a = await pinnedKeys(location, 'worker-a');
    expect(a.ok && a.value).toHaveLength(1);
    const forgotten = await unpinWorker(location, {
      worker: 'worker-b',
      host: '127.0.0.1',
      port: sshd.port + 1,
    });
    expect(forgotten.ok && forgotten.value).toBe(2);
    const gone = await pinnedKeys(location, 'worker-b');
    expect(!gone.ok && gone.error.code).toBe('NOT_PINNED');
    await unpinWorker(location, { worker: 'worker-a', host: '127.0.0.1', port: sshd.port });
  });
});

describe.each([[false], [true]])('a worker that moved (hashed names: %s)', (hashNames) => {
  it("repinning at a new port drops the old address's line too; forget by name drops them all", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'psm-pins-moved-'));
    try {
      const first = generateSshKeyPair('ed25519', '');
      const second = generateSshKeyPair('ed25519', '');
      wipeKeyPair(first);
      wipeKeyPair(second);
      const pin = (port: number, key: string) =>
        pinWorker(dir, { worker: 'mover', host: '127.0.0.1', port }, [asPin(key)], { hashNames });
      expect((await pin(40001, first.publicKey)).ok).toBe(true);
      expect((await pin(40002, second.publicKey)).ok).toBe(true);
      const text = await readFile(knownHostsPath(dir), 'utf8');
      expect(text.split('\n').filter((l) => l !== '')).toHaveLength(2);
      expect(text).not.toContain(asPin(first.publicKey).base64);
      const old = await runProgram('ssh-keygen', ['-F', '[127.0.0.1]:40001', '-f', knownHostsPath(dir)], {
        timeoutMs: 10_000,
      });
      expect(old.exitCode).not.toBe(0);
      const forgotten = await unpinWorker(dir, { worker: 'mover' });
      expect(forgotten.ok && forgotten.value).toBe(2);
      expect(await readFile(knownHostsPath(dir), 'utf8')).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a pin store psm cannot read', () => {
  it('is refused with a coded error and left byte for byte as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'psm-pins-bad-'));
    try {
      await mkdir(join(dir, 'var', 'psm'), { recursive: true });
      const text = 'worker-x ssh-ed25519 not-base64!\n';
      await writeFile(knownHostsPath(dir), text);
      const pinned = await pinWorker(
        dir,
        { worker: 'worker-x', host: '127.0.0.1', port: 2222 },
        [asPin(sshd.hostKeyPublic)],
        { hashNames: false },
      );
      expect(!pinned.ok && pinned.error.code).toBe('PIN_STORE_INVALID');
      expect(await readFile(knownHostsPath(dir), 'utf8')).toBe(text);
      const named = await pinWorker(dir, { worker: 'bad name', host: '127.0.0.1', port: 2222 }, [], {
        hashNames: false,
      });
      expect(!named.ok && named.error.code).toBe('BAD_WORKER_NAME');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('is refused at once (PIN_STORE_IO), not waited on, when a FIFO stands in its place', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'psm-pins-fifo-'));
    try {
      await mkdir(join(dir, 'var', 'psm'), { recursive: true });
      const made = await runProgram('mkfifo', [knownHostsPath(dir)], { timeoutMs: 10_000 });
      expect(made.exitCode).toBe(0);
      const pinned = await pinWorker(
        dir,
        { worker: 'worker-x', host: '127.0.0.1', port: 2222 },
        [asPin(sshd.hostKeyPublic)],
        { hashNames: false },
      );
      expect(!pinned.ok && pinned.error.code).toBe('PIN_STORE_IO');
      expect(!pinned.ok && pinned.error.message).toContain('not a regular file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('verifyPresentedKeys (ssh2, only the pin accepted) vs the real sshd', () => {
  it('accepts the pinned key and refuses any other with HOST_KEY_MISMATCH', async () => {
    const pinned = await pinWorker(
      location,
      { worker: 'worker-v', host: '127.0.0.1', port: sshd.port },
      [asPin(sshd.hostKeyPublic)],
      { hashNames: true },
    );
    expect(pinned.ok).toBe(true);
    const keys = await pinnedKeys(location, 'worker-v');
    if (!keys.ok) throw new Error(keys.error.message);
    const good = await verifyPresentedKeys('127.0.0.1', sshd.port, keys.value);
    expect(good.ok && good.value.map((v) => v.fingerprint)).toEqual([keys.value[0]?.fingerprint]);
    const impostor = generateSshKeyPair('ed25519', '');
    wipeKeyPair(impostor);
    await pinWorker(
      location,
      { worker: 'worker-v', host: '127.0.0.1', port: sshd.port },
      [asPin(impostor.publicKey)],
      { hashNames: true },
    );
    const wrong = await pinnedKeys(location, 'worker-v');
    if (!wrong.ok) throw new Error(wrong.error.message);
    const bad = await verifyPresentedKeys('127.0.0.1', sshd.port, wrong.value);
    expect(!bad.ok && bad.error.code).toBe('HOST_KEY_MISMATCH');
  });

  it('reports SSH_UNREACHABLE when nothing answers', async () => {
    const keys = await pinnedKeys(location, 'worker-v');
    if (!keys.ok) throw new Error(keys.error.message);
    const closed = await verifyPresentedKeys('127.0.0.1', 1, keys.value);
    expect(!closed.ok && closed.error.code).toBe('SSH_UNREACHABLE');
  });
});
