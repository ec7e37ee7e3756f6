export {
  generateSshKeyPair,
  wipeKeyPair,
  SSH_KEY_ALGORITHMS,
  RSA_BITS,
  type SshKeyAlgorithm,
  type SshKeyPair,
} from './openssh-private-key.js';
