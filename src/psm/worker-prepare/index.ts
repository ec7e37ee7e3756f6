export { prepareWorker } from './prepare.js';
export { PREPARE_STEPS } from './types.js';
export type {
  PrepareOptions,
  PrepareOutcome,
  PrepareStep,
  PrepareStepEvent,
  PrepareWorkerInput,
} from './types.js';
export { WORKER_IMAGE_LAYOUT, type GuestIdentityLayout } from './guest-layout.js';
export type { GuestOperationCount } from './counting-worker.js';
export * from './errors.js';
export {
  readWorkerRecord,
  removeWorkerRecord,
  workerRecordPath,
  workersDirectory,
  WORKER_NAME_PATTERN,
  WORKER_RECORD_FORMAT,
  type PreparedGate,
  type PreparedHostKey,
  type WorkerIdentity,
  type WorkerRecord,
} from './worker-record.js';
