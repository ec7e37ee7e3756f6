import { ok, type Result } from '../../common/result.js';
import { POPC_OBJECTS_DIR } from '../../guest-ops/image/guest-popc.js';
import { GATE_MAX_COMMAND_LENGTH } from '../gate/index.js';
import { runMainFail, type RunMainError } from './errors.js';

/** The longest OBJECT name (a file name; NAME_MAX on Linux). */
export const MAX_OBJECT_NAME_LENGTH = 255;
/** The most arguments one run passes. */
export const MAX_RUN_ARGS = 256;
/** Where the worker image keeps the executables popcobjrun may start. */
export const OBJECTS_DIR = POPC_OBJECTS_DIR;

export interface RunMainRequest {
  readonly object: string;
  readonly args: readonly string[];
  /** The object's path in the worker: OBJECTS_DIR/OBJECT. */
  readonly objectPath: string;
  /** What psm sends as the SSH command, the gate's SSH_ORIGINAL_COMMAND: `popcobjrun PATH ARGS...`. */
  readonly command: string;
}

// Whitespace and C0/C1 controls: the gate splits on spaces, so a word holding one would arrive as two.
const SPLITS_OR_CONTROL = /[\s\p{Cc}]/u;

/**
 * Checks OBJECT and ARGS for what psm itself must refuse, and builds the gate's command. Only the
 * shape is checked here: a plain file name, words that stay one word each. Which characters and
 * objects are allowed is the worker's gate's decision (its policy), so a request the gate refuses
 * reaches it and is refused there, with its reason.
 */
export function parseRunMainRequest(
  object: string,
  args: readonly string[],
): Result<RunMainRequest, RunMainError> {
  if (object.length === 0 || object.length > MAX_OBJECT_NAME_LENGTH)
    return runMainFail(
      'RUN_BAD_OBJECT',
      `OBJECT must be a file name of 1 to ${MAX_OBJECT_NAME_LENGTH} characters`,
    );
  if (object.includes('/') || object === '.' || object === '..' || SPLITS_OR_CONTROL.test(object))
    return runMainFail(
      'RUN_BAD_OBJECT',
      `OBJECT must be the name of a file in ${OBJECTS_DIR} (no "/", no whitespace or control characters), not ${JSON.stringify(object.slice(0, 64))}`,
    );
  if (args.length > MAX_RUN_ARGS)
    return runMainFail('RUN_BAD_ARGUMENT', `at most ${MAX_RUN_ARGS} arguments are passed`);
  for (const [index, arg] of args.entries())
    if (arg.length === 0 || SPLITS_OR_CONTROL.test(arg))
      return runMainFail(
        'RUN_BAD_ARGUMENT',
        `argument ${index + 1} is empty or holds whitespace or control characters: the gate passes words split on spaces, so it could not arrive as one argument`,
      );
  const objectPath = `${OBJECTS_DIR}/${object}`;
  const command = ['popcobjrun', objectPath, ...args].join(' ');
  if (command.length > GATE_MAX_COMMAND_LENGTH)
    return runMainFail(
      'RUN_BAD_ARGUMENT',
      `the command would be ${command.length} characters; the gate takes at most ${GATE_MAX_COMMAND_LENGTH}`,
    );
  return ok({ object, args: [...args], objectPath, command });
}
