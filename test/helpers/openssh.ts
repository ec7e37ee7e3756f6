/**
 * The real OpenSSH client against a worker, the way an operator would run it: `ssh -i KEY` with
 * psm's known_hosts and strict host key checking (no prompt, nothing trusted on first use).
 */
import { spawn } from 'node:child_process';
import { knownHostsPath } from '../../src/psm/host-keys/pin-store.js';
import { runProgram } from '../../src/common/run-program.js';

export interface SshTarget {
  readonly location: string;
  readonly worker: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

export function sshOptions(target: SshTarget, keyFile: string): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    keyFile,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHostsPath(target.location)}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    `HostKeyAlias=${target.worker}`,
    '-o',
    'ConnectTimeout=30',
    '-p',
    String(target.port),
  ];
}

export interface SshOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `ssh [extra] user@host COMMAND...`: one run, its exit code and output. */
export async function ssh(
  target: SshTarget,
  keyFile: string,
  extra: readonly string[],
  command: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<SshOutcome> {
  const ran = await runProgram(
    'ssh',
    [...sshOptions(target, keyFile), ...extra, `${target.user}@${target.host}`, ...command],
    { timeoutMs: 90_000, ...(env === undefined ? {} : { env }) },
  );
  return { code: ran.exitCode, stdout: ran.stdout.toString(), stderr: ran.stderr.toString() };
}

/** Whether `ssh` logs in with the key at all (a refused key is exit 255 "Permission denied"). */
export async function keyAccepted(target: SshTarget, keyFile: string): Promise<boolean> {
  const outcome = await ssh(target, keyFile, ['-T'], ['popcobjrun']);
  if (/Permission denied \(publickey\)/.test(outcome.stderr)) return false;
  if (/Host key verification failed/.test(outcome.stderr)) throw new Error('host key verification failed');
  // Logged in: the gate ran and refused the empty object (126).
  if (outcome.code === 126) return true;
  throw new Error(`ssh ended unexpectedly (${outcome.code}): ${outcome.stderr}`);
}

/** `ssh -N -L` held open while `use` runs; resolves with what `use` returned. */
export async function withLocalForward<T>(
  target: SshTarget,
  keyFile: string,
  spec: string,
  use: () => Promise<T>,
): Promise<{ value: T | undefined; stderr: string; exited: number | null }> {
  const child = spawn(
    'ssh',
    [
      ...sshOptions(target, keyFile),
      '-N',
      '-o',
      'ExitOnForwardFailure=yes',
      '-L',
      spec,
      `${target.user}@${target.host}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  try {
    const value = await use();
    return { value, stderr, exited: exited ?? null };
  } finally {
    child.kill('SIGTERM');
  }
}
