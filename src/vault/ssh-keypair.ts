import {
  generateSshKeyPair as generateKeyPair,
  wipeKeyPair,
  type SshKeyPair,
} from '../authorized-keys/keys/index.js';

/**
 * The admin's ed25519 SSH key pair, made in-process (no ssh-keygen child, nothing in argv) by the
 * same openssh-key-v1 writer that makes workers' host keys: one writer, one contract test.
 */
export type { SshKeyPair };

export function generateSshKeyPair(comment: string): SshKeyPair {
  return generateKeyPair('ed25519', comment);
}

export function wipeSshKeyPair(pair: SshKeyPair): void {
  wipeKeyPair(pair);
}
