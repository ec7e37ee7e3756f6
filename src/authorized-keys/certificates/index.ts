/** OpenSSH certificates: the certificate body and its CA signature. */
export * from './certificate.js';
export * from './signature.js';
