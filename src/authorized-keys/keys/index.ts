/** Keys and their encodings: public keys (the key field of every OpenSSH format) and private keys. */
export * from './public-key.js';
export {
  generateSshKeyPair,
  wipeKeyPair,
  SSH_KEY_ALGORITHMS,
  RSA_BITS,
  type SshKeyAlgorithm,
  type SshKeyPair,
} from './openssh-private-key.js';
