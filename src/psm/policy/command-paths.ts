import { isForbiddenProgram } from './forbidden-programs.js';

/** Where psm installs the gates on a worker, unless the operator configures another directory. */
export const DEFAULT_GATE_DIR = '/usr/local/libexec/psm';

export type CommandPathCode =
  'POLICY_PATH_NOT_CANONICAL' | 'POLICY_GATE_OUTSIDE_DIR' | 'POLICY_FORBIDDEN_PROGRAM';

export interface CommandPathProblem {
  readonly code: CommandPathCode;
  readonly field: 'command.gate' | 'command.popcobjrun';
  readonly message: string;
}

/**
 * A canonical absolute path: starts with "/", no empty, "." or ".." segment, no trailing "/",
 * only printable ASCII. Such a path names exactly one file the way a reviewer reads it.
 */
export function isCanonicalAbsolutePath(path: string): boolean {
  if (!path.startsWith('/') || path.length < 2 || path.endsWith('/')) return false;
  if (!/^[\x21-\x7e]+$/.test(path)) return false;
  return path
    .slice(1)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * A gate directory (`--gate-dir`) must itself be canonical, or every gate path compared with it
 * means nothing; it is also held to the characters a gate path may use in a forced command.
 */
export function isValidGateDir(dir: string): boolean {
  return isCanonicalAbsolutePath(dir) && /^[A-Za-z0-9._+/-]+$/.test(dir);
}

/** The gate psm generates for a policy lives at exactly this path. */
export function expectedGatePath(policyName: string, gateDir: string): string {
  return `${gateDir}/gate-${policyName}`;
}

/**
 * Checks that the forced command is the gate psm generated for this policy, in psm's gate
 * directory, and that the gate's target is not a shell, interpreter or multiplexer. Any problem
 * means a key under the policy could run something other than popcobjrun, so all are errors.
 */
export function commandPathProblems(
  policyName: string,
  gate: string,
  popcobjrun: string,
  gateDir: string,
): CommandPathProblem[] {
  const out: CommandPathProblem[] = [];
  if (!isCanonicalAbsolutePath(gate))
    out.push({
      code: 'POLICY_PATH_NOT_CANONICAL',
      field: 'command.gate',
      message: 'command.gate must be a canonical absolute path (no ".", "..", "//" or trailing "/")',
    });
  else if (gate !== expectedGatePath(policyName, gateDir))
    out.push({
      code: 'POLICY_GATE_OUTSIDE_DIR',
      field: 'command.gate',
      message: `command.gate must be ${expectedGatePath(policyName, gateDir)}: the gate psm generates for this policy, in its gate directory`,
    });
  if (!isCanonicalAbsolutePath(popcobjrun))
    out.push({
      code: 'POLICY_PATH_NOT_CANONICAL',
      field: 'command.popcobjrun',
      message: 'command.popcobjrun must be a canonical absolute path (no ".", "..", "//" or trailing "/")',
    });
  else if (isForbiddenProgram(popcobjrun))
    out.push({
      code: 'POLICY_FORBIDDEN_PROGRAM',
      field: 'command.popcobjrun',
      message:
        'command.popcobjrun names a shell, interpreter or program launcher: that would grant any command',
    });
  return out;
}
