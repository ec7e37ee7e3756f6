export { VsphereDriver, DEFAULT_CLONE_MS } from './driver.js';
export { VsphereWorker } from './worker.js';
export { PSM_PRIVILEGES, SYSTEM_PRIVILEGES } from './role.js';
export { canonicalThumbprint, parseVsphereUri, tlsPin, type VsphereDriverSettings } from './settings.js';
export type { Credentials, CredentialSource } from './soap-client.js';
export type { Endpoint, TlsPin } from './transport.js';
export { WORKER_MARKER } from './clone.js';
