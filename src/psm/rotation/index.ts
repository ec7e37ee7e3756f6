export { adminKeyPaths, type AdminKeyPaths, type HeldKey } from './admin-key-files.js';
export * from './errors.js';
export {
  journalPath,
  readJournal,
  type RotationJournal,
  type RotationPhase,
  type WorkerStep,
} from './journal.js';
export {
  DEFAULT_CONCURRENCY,
  rotateAdminKey,
  type RotateAdminOptions,
  type RotationReport,
} from './rotate-admin.js';
export { preparedWorkers } from './scope.js';
export { tryLogin, type LoginTarget } from './ssh-login.js';
export { hostKeyJournalPath, type HostKeyStep } from './host-key-journal.js';
export {
  rotateHostKeys,
  type HostKeyRotationReport,
  type RotateHostKeysOptions,
} from './rotate-host-keys.js';
