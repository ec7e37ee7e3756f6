export {
  GATE_MAIN_CALL,
  GATE_MAX_COMMAND_LENGTH,
  GATE_REFUSED_EXIT,
  gateDigest,
  generateGate,
} from './generate.js';
export type { GeneratedGate } from './generate.js';
export { POPC_OPTIONS } from './popc-arguments.js';
