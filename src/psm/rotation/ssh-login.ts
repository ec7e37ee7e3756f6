import { readFile } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import { Client } from 'ssh2';
import { ok, type Result } from '../../common/result.js';
import type { PublicKey } from '../../authorized-keys/index.js';
import { GUEST_USER } from '../../guest-ops/image/recipe.js';
import { rotationError, type RotationError } from './errors.js';

/** A TCG guest's sshd answers slowly; a dead one never. */
export const LOGIN_TIMEOUT_MS = 30_000;

export interface LoginTarget {
  readonly host: string;
  readonly port: number;
  /** The worker's pinned host keys: the only keys the server may present. */
  readonly pins: readonly PublicKey[];
}

/**
 * One real SSH public key login with the private key in `keyFile`, to the worker's sshd, whose
 * host key must be one of its pins. `true`: sshd accepted the key (authentication succeeded);
 * `false`: sshd refused it. Anything else (unreachable, wrong host key) is an error: it proves
 * nothing about the key.
 */
export async function tryLogin(
  target: LoginTarget,
  keyFile: string,
): Promise<Result<boolean, RotationError>> {
  let privateKey: Buffer;
  try {
    privateKey = await readFile(keyFile);
  } catch (error) {
    return rotationError('ROTATE_IO', `cannot read ${keyFile}: ${(error as Error).message}`);
  }
  try {
    return await login(target, privateKey);
  } finally {
    privateKey.fill(0);
  }
}

function login(target: LoginTarget, privateKey: Buffer): Promise<Result<boolean, RotationError>> {
  return new Promise((resolve) => {
    const client = new Client();
    let hostKeyOk = false;
    let settled = false;
    const finish = (outcome: Result<boolean, RotationError>): void => {
      if (settled) return;
      settled = true;
      client.end();
      client.destroy();
      resolve(outcome);
    };
    client.on('ready', () => finish(ok(true)));
    client.on('error', (error: Error & { level?: string }) => {
      if (hostKeyOk && error.level === 'client-authentication') finish(ok(false));
      else
        finish(
          rotationError(
            'ROTATE_INCOMPLETE',
            hostKeyOk
              ? `${target.host}:${target.port}: ${error.message}`
              : `${target.host}:${target.port} did not present a pinned host key (${error.message})`,
          ),
        );
    });
    client.on('close', () =>
      finish(rotationError('ROTATE_INCOMPLETE', `${target.host}:${target.port} closed the connection`)),
    );
    client.connect({
      host: target.host,
      port: target.port,
      username: GUEST_USER,
      privateKey,
      readyTimeout: LOGIN_TIMEOUT_MS,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        hostKeyOk = target.pins.some(
          (pin) => pin.blob.length === key.length && timingSafeEqual(pin.blob, key),
        );
        return hostKeyOk;
      },
    });
  });
}
