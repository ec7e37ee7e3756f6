/** authorized_keys lines and their options, parsed and written the way sshd reads them. */
export * from './errors.js';
export * from './key-options.js';
export * from './options.js';
export * from './line.js';
export * from './serialize.js';
