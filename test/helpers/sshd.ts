/**
 * A real OpenSSH sshd (the Debian package) on 127.0.0.1 with a throwaway configuration, for tests
 * that must agree with what sshd really does. Needs root (sshd switches to the test user).
 */
import { chmod, mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { runProgram } from '../../src/common/run-program.js';
import { freePort } from './free-port.js';
import { workerSshdConfigLines } from '../../src/psm/worker-sshd-settings.js';
import { makeTempDir } from './temp-dir.js';

export const SSHD_PATH = '/usr/sbin/sshd';
export const TEST_USER = 'psmtest';
const START_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 5;

export interface SshdOptions {
  /**
   * `ForceCommand` for the server: '/bin/true' by default, so commands that tests send never run.
   * `null` removes it, so the key's own `command=` applies (policy proofs need that).
   */
  readonly forceCommand?: string | null;
  /** Extra sshd_config lines, appended after psm's defaults. */
  readonly extraConfig?: readonly string[];
  /**
   * Start the config with the settings every psm worker's sshd has (WORKER_SSHD_SETTINGS, as
   * `psm worker prepare` installs them): sshd keeps the first value, so they win over the
   * permissive test defaults, as on a prepared worker.
   */
  readonly workerSettings?: boolean;
}

export interface TestSshd {
  readonly port: number;
  readonly user: string;
  /** Temp dir (mode 0755) holding the config, host key, authorized_keys and the log. */
  readonly dir: string;
  readonly authorizedKeysPath: string;
  /** The server's host key as "ssh-ed25519 AAAA...", for pinning. */
  readonly hostKeyPublic: string;
  readonly logPath: string;
  writeAuthorizedKeys(text: string): Promise<void>;
  logOffset(): Promise<number>;
  logSince(offset: number): Promise<string>;
  /** Waits until the log after `offset` matches `pattern`; returns the log text after `offset`. */
  waitForLog(offset: number, pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function ensureTestUser(): Promise<void> {
  if (await userExists(TEST_USER)) return;
  // Password field '*' (not '!'): '!' locks the account and sshd refuses even key logins.
  const outcome = await runProgram(
    'useradd',
    [
      '--system',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/bin/sh',
      '-p',
      '*',
      TEST_USER,
    ],
    { timeoutMs: 30_000 },
  );
  // Another test file may have created it at the same moment; only a missing user is a failure.
  if (outcome.exitCode !== 0 && !(await userExists(TEST_USER))) {
    throw new Error(`useradd ${TEST_USER} failed: ${outcome.stderr.toString()}`);
  }
}

async function userExists(name: string): Promise<boolean> {
  const outcome = await runProgram('getent', ['passwd', name], { timeoutMs: 10_000 });
  return outcome.exitCode === 0;
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  await ensureTestUser();
  // sshd refuses to start without its privilege-separation directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const temp = await makeTempDir('sshd');
  const dir = temp.path;
  // sshd reads authorized_keys as the test user, so the directory must be traversable by it.
  await chmod(dir, 0o755);
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const keygen = await runProgram(
    'ssh-keygen',
    ['-q', '-t', 'ed25519', '-N', '', '-C', 'psm-test-host', '-f', hostKey],
    {
      timeoutMs: 30_000,
    },
  );
  if (keygen.exitCode !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr.toString()}`);
  const hostKeyPublic = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  const authorizedKeysPath = join(dir, 'authorized_keys');
  await writeFile(authorizedKeysPath, '', { mode: 0o644 });
  const logPath = join(dir, 'sshd.log');

  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    await writeFile(configPath, sshdConfig({ dir, port, hostKey, authorizedKeysPath, options }), {
      mode: 0o600,
    });
    const offset = await sizeOf(logPath);
    const child = spawn(SSHD_PATH, ['-D', '-E', logPath, '-f', configPath], { stdio: 'ignore' });
    const started = await waitForListening(logPath, offset, port, child);
    if (started) {
      return makeHandle({
        port,
        dir,
        authorizedKeysPath,
        hostKeyPublic,
        logPath,
        child,
        remove: temp.remove,
      });
    }
    child.kill('SIGKILL');
  }
  await temp.remove();
  throw new Error(`sshd did not start after ${START_ATTEMPTS} attempts`);
}

function sshdConfig(p: {
  dir: string;
  port: number;
  hostKey: string;
  authorizedKeysPath: string;
  options: SshdOptions;
}): string {
  const forceCommand = p.options.forceCommand === undefined ? '/bin/true' : p.options.forceCommand;
  const lines = [
    ...(p.options.workerSettings === true ? workerSshdConfigLines() : []),
    `Port ${p.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${p.hostKey}`,
    `PidFile ${join(p.dir, 'sshd.pid')}`,
    'LogLevel DEBUG3',
    'UsePAM no',
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    `AuthorizedKeysFile ${p.authorizedKeysPath}`,
    `AllowUsers ${TEST_USER}`,
    'PermitRootLogin no',
    // Everything the server itself may allow is allowed, so a refusal seen in a test comes from
    // the key's options, never from the server's configuration.
    'AllowTcpForwarding yes',
    'AllowAgentForwarding yes',
    'AllowStreamLocalForwarding yes',
    'X11Forwarding yes',
    'PermitTTY yes',
    'PermitUserRC yes',
    'PermitTunnel yes',
    'PermitUserEnvironment yes',
    'MaxAuthTries 10',
    'MaxSessions 50',
    'MaxStartups 200',
    'LoginGraceTime 30',
    ...(forceCommand === null ? [] : [`ForceCommand ${forceCommand}`]),
    ...(p.options.extraConfig ?? []),
  ];
  return `${lines.join('\n')}\n`;
}

function makeHandle(p: {
  port: number;
  dir: string;
  authorizedKeysPath: string;
  hostKeyPublic: string;
  logPath: string;
  child: ChildProcess;
  remove: () => Promise<void>;
}): TestSshd {
  const logSince = async (offset: number): Promise<string> => {
    const handle = await open(p.logPath, 'r');
    try {
      const size = (await handle.stat()).size;
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      await handle.read(buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  };
  return {
    port: p.port,
    user: TEST_USER,
    dir: p.dir,
    authorizedKeysPath: p.authorizedKeysPath,
    hostKeyPublic: p.hostKeyPublic,
    logPath: p.logPath,
    writeAuthorizedKeys: (text) => writeFile(p.authorizedKeysPath, text, { mode: 0o644 }),
    logOffset: () => sizeOf(p.logPath),
    logSince,
    async waitForLog(offset, pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = await logSince(offset);
        if (pattern.test(text)) return text;
        if (Date.now() > deadline)
          throw new Error(`sshd log did not show ${pattern} within ${timeoutMs} ms:\n${text}`);
        await delay(25);
      }
    },
    async stop() {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        const exited = new Promise((resolve) => p.child.once('exit', resolve));
        p.child.kill('SIGTERM');
        await Promise.race([exited, delay(5_000)]);
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      }
      await p.remove();
    },
  };
}

async function waitForListening(
  logPath: string,
  offset: number,
  port: number,
  child: ChildProcess,
): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const text = await readFile(logPath, 'utf8').catch(() => '');
    const fresh = text.slice(offset);
    if (fresh.includes(`Server listening on 127.0.0.1 port ${port}`)) return true;
    if (/Bind to port .* failed|Cannot bind any address/.test(fresh)) return false;
    await delay(25);
  }
  return false;
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
