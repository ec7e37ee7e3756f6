import { Client } from 'ssh2';
import type { TestSshd } from './sshd.js';

const CONNECT_TIMEOUT_MS = 15_000;

/**
 * Opens an ssh2 connection to the test sshd with `privateKey`, pinning the server's host key
 * (tests never turn host key checking off). Resolves with the connected client, or with the
 * error that ended the attempt (authentication refused, host key mismatch, ...).
 */
export function connectSsh(
  sshd: TestSshd,
  privateKey: string,
): Promise<{ ok: true; client: Client } | { ok: false; error: Error & { level?: string } }> {
  const pinned = Buffer.from(sshd.hostKeyPublic.split(' ')[1] ?? '', 'base64');
  return new Promise((resolve) => {
    const client = new Client();
    let settled = false;
    const settle = (
      value: { ok: true; client: Client } | { ok: false; error: Error & { level?: string } },
    ): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    client.once('ready', () => settle({ ok: true, client }));
    client.once('error', (error: Error & { level?: string }) => {
      client.end();
      settle({ ok: false, error });
    });
    client.once('close', () =>
      settle({ ok: false, error: new Error('connection closed before authentication') }),
    );
    client.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      privateKey,
      readyTimeout: CONNECT_TIMEOUT_MS,
      hostVerifier: (key: Buffer) => key.equals(pinned),
    });
  });
}

/** Whether sshd accepts a public-key login with `privateKey` (the connection is closed again). */
export async function tryPublicKeyLogin(sshd: TestSshd, privateKey: string): Promise<{ accepted: boolean }> {
  const outcome = await connectSsh(sshd, privateKey);
  if (!outcome.ok) {
    if (outcome.error.level === 'client-authentication') return { accepted: false };
    throw outcome.error;
  }
  await new Promise<void>((resolve) => {
    outcome.client.once('close', () => resolve());
    outcome.client.end();
  });
  return { accepted: true };
}
