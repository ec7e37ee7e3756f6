/**
 * What the worker identity e2e tests share: the built CLI run with a POP-C++ location of its own,
 * the real OpenSSH client (ssh, ssh-keyscan, ssh-keygen) against a worker's forwarded sshd with
 * psm's known_hosts, and a look inside the guest at every host key file it holds.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProgram } from '../../src/common/run-program.js';
import { knownHostsPath } from '../../src/psm/host-keys/pin-store.js';

export const PSM = resolve('bin/psm.js');

export interface PsmResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function psmAt(location: string) {
  return async (args: readonly string[], timeoutMs = 240_000): Promise<PsmResult> => {
    const run = await runProgram(process.execPath, [PSM, ...args], {
      timeoutMs,
      env: { ...process.env, POPC_LOCATION: location },
    });
    return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
  };
}

export interface PrepareJson {
  worker: string;
  ssh: { host: string; port: number };
  hostKeys: { type: string; fingerprint: string }[];
  knownHosts: string;
}

/**
 * `ssh-keyscan` of host:port for the key types given (one connection each: a TCG guest is slow to
 * answer many at once), fingerprinted by ssh-keygen: what the sshd presents, sorted.
 */
export async function keyscanFingerprints(
  port: number,
  dir: string,
  types: readonly string[] = ['ed25519', 'ecdsa', 'rsa'],
): Promise<string[]> {
  for (let attempt = 0; ; attempt += 1) {
    const scan = await runProgram(
      'ssh-keyscan',
      ['-T', '20', '-t', types.join(','), '-p', String(port), '127.0.0.1'],
      { timeoutMs: 60_000 },
    );
    const lines = scan.stdout.toString();
    if (lines.trim() !== '') {
      const file = join(dir, `keyscan-${port}`);
      await writeFile(file, lines);
      const listed = await runProgram('ssh-keygen', ['-l', '-f', file], { timeoutMs: 10_000 });
      return listed.stdout
        .toString()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split(' ')[1] ?? '')
        .sort();
    }
    // sshd is restarted by init within a second; a scan in between finds nothing.
    if (attempt >= 10) return [];
    await sleep(500);
  }
}

/** Resolves once something on 127.0.0.1:port sends an SSH banner (retrying for up to 30 s). */
export async function sshBanner(port: number): Promise<string | undefined> {
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const banner = await new Promise<string | undefined>((done) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let text = '';
      const finish = (value: string | undefined): void => {
        socket.destroy();
        done(value);
      };
      socket.setTimeout(10_000, () => finish(undefined));
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('\n')) finish(text.split('\n')[0]?.trim());
      });
      socket.on('error', () => finish(undefined));
      socket.on('close', () => finish(undefined));
    });
    if (banner?.startsWith('SSH-2.0-') === true) return banner;
    await sleep(500);
  }
  return undefined;
}

/**
 * Every host key file in the guest (ssh_host_* or psm_host_*, anywhere but /proc and /sys), and
 * any staging directory a killed copy left (.psm-copy-*).
 */
export async function guestHostKeyFiles(psm: ReturnType<typeof psmAt>, worker: string): Promise<string[]> {
  const found = await psm([
    'vm',
    'exec',
    worker,
    '--',
    '/usr/bin/find',
    '/',
    '(',
    '-path',
    '/proc',
    '-o',
    '-path',
    '/sys',
    ')',
    '-prune',
    '-o',
    '(',
    '-name',
    'ssh_host_*',
    '-o',
    '-name',
    'psm_host_*',
    '-o',
    '-name',
    '.psm-copy-*',
    ')',
    '-print',
  ]);
  if (found.code !== 0) throw new Error(`find in ${worker}: ${found.stderr}`);
  return found.stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

/** The real ssh client with psm's known_hosts and strict checking; never a prompt (BatchMode). */
export async function sshWithPins(
  location: string,
  clientKey: string,
  port: number,
  extra: readonly string[],
  command: readonly string[] = [],
): Promise<PsmResult> {
  const run = await runProgram(
    'ssh',
    [
      ...['-T', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', clientKey],
      ...['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHostsPath(location)}`],
      ...['-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=30', '-p', String(port)],
      ...extra,
      'popc@127.0.0.1',
      ...command,
    ],
    { timeoutMs: 90_000 },
  );
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

/** A client key and the authorized_keys line the tests install for popc (a port-forwarding key). */
export async function clientKey(dir: string): Promise<{ path: string; line: string }> {
  const path = join(dir, 'client_key');
  const made = await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path], {
    timeoutMs: 30_000,
  });
  if (made.exitCode !== 0) throw new Error(made.stderr.toString());
  const pub = (await readFile(`${path}.pub`, 'utf8')).trim();
  // What an admin-policy key allows: one TCP tunnel, which in OpenSSH 9.2 also opens Unix sockets.
  const line = `restrict,port-forwarding,permitopen="127.0.0.1:2711",command="/bin/echo reached" ${pub}\n`;
  return { path, line };
}
