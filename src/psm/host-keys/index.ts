export * from './errors.js';
export * from './pin-store.js';
export * from './verify-identity.js';
export * from './sshd-config.js';
export * from './guest-answers.js';
