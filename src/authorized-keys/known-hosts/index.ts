/** known_hosts: lines, host patterns, hashed names, lookups and host-key checks, files on disk. */
export * from './errors.js';
export * from './hash.js';
export * from './pattern.js';
export * from './line.js';
export * from './match.js';
export * from './hash-file.js';
export * from './file-lines.js';
export * from './on-disk.js';
export * from './lookup-file.js';
export * from './hash-data.js';
