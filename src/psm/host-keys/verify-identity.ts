import { timingSafeEqual } from 'node:crypto';
import { Client } from 'ssh2';
import { ok, type Result } from '../../common/result.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import { hostKeyError, type HostKeyError } from './errors.js';

/** How long a handshake may take: a TCG guest's sshd answers slowly, a dead one never. */
export const VERIFY_TIMEOUT_MS = 30_000;

/** The host key algorithms ssh2 offers for each pinned key type, so sshd presents that key. */
const ALGORITHMS: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256'],
};

export interface VerifiedIdentity {
  readonly fingerprint: string;
}

function samePin(blob: Buffer, pin: PublicKey): boolean {
  return blob.length === pin.blob.length && timingSafeEqual(blob, pin.blob);
}

/**
 * One real SSH handshake per pinned key type, with a host verifier that accepts exactly the
 * pinned blob and nothing else (never trust on first use). Authentication is not attempted past
 * `none`: reaching it means sshd proved possession of the pinned key (the key exchange signature
 * is checked by ssh2 before the verifier's answer is used).
 */
async function handshake(
  host: string,
  port: number,
  pin: PublicKey,
  signal?: AbortSignal,
): Promise<Result<void, HostKeyError>> {
  const algorithms = ALGORITHMS[pin.type];
  if (algorithms === undefined)
    return hostKeyError('HOST_KEY_MISMATCH', `psm does not verify ${pin.type} pins`);
  return new Promise((resolve) => {
    const client = new Client();
    let presented: 'pinned' | 'other' | null = null;
    let settled = false;
    const finish = (outcome: Result<void, HostKeyError>): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.end();
      client.destroy();
      resolve(outcome);
    };
    const verdict = (): Result<void, HostKeyError> =>
      presented === 'pinned'
        ? ok(undefined)
        : presented === 'other'
          ? hostKeyError(
              'HOST_KEY_MISMATCH',
              `${host}:${port} presented a ${pin.type} key that is not the pinned ${pin.fingerprint}`,
            )
          : hostKeyError('SSH_UNREACHABLE', `no SSH handshake with ${host}:${port}`);
    const onAbort = (): void => finish(hostKeyError('SSH_UNREACHABLE', 'verification aborted'));
    signal?.addEventListener('abort', onAbort);
    client.on('ready', () => finish(verdict()));
    client.on('error', () => finish(verdict()));
    client.on('close', () => finish(verdict()));
    client.connect({
      host,
      port,
      username: 'psm-verify',
      readyTimeout: VERIFY_TIMEOUT_MS,
      authHandler: ['none'],
      algorithms: { serverHostKey: [...algorithms] as never },
      hostVerifier: (key: Buffer) => {
        presented = samePin(key, pin) ? 'pinned' : 'other';
        return presented === 'pinned';
      },
    });
  });
}

/** Checks that host:port presents every pinned key; the first failure is the answer. */
export async function verifyPresentedKeys(
  host: string,
  port: number,
  pins: readonly PublicKey[],
  signal?: AbortSignal,
): Promise<Result<VerifiedIdentity[], HostKeyError>> {
  const verified: VerifiedIdentity[] = [];
  for (const pin of pins) {
    const outcome = await handshake(host, port, pin, signal);
    if (!outcome.ok) return outcome;
    verified.push({ fingerprint: pin.fingerprint });
  }
  return ok(verified);
}
