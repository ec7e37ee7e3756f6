export { buildWorkerImage, type BuildOptions, type BuildOutcome, type BuildStep } from './build.js';
export type { ImageError, ImageErrorCode } from './errors.js';
export {
  DEFAULT_WORKER_IMAGE_DIR,
  parseWorkerImageManifest,
  readWorkerImageManifest,
  serializeWorkerImageManifest,
  WORKER_IMAGE_ENV,
  WORKER_IMAGE_FORMAT,
  WORKER_IMAGE_MANIFEST_FILE,
  type WorkerImageManifest,
} from './manifest.js';
