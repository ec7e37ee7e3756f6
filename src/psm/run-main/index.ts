export { runMainErrorCategory, type RunMainError, type RunMainErrorCode } from './errors.js';
export {
  MAX_OBJECT_NAME_LENGTH,
  MAX_RUN_ARGS,
  OBJECTS_DIR,
  parseRunMainRequest,
  type RunMainRequest,
} from './request.js';
export { runMain, type RunMainInput } from './run-main.js';
export { GATE_REFUSAL_PREFIX, type SshExit } from './ssh-exec.js';
