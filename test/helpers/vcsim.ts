/**
 * govmomi's vCenter simulator (test/helpers/vcsim/, built by `npm test`'s set-up into
 * .cache/vcsim/psm-vcsim or $PSM_VCSIM) as a child process on 127.0.0.1: one per test file.
 * The login it accepts goes in on its stdin, never argv or the environment; closing stdin stops
 * it. Its certificate is fresh per start, so tests pin exactly this run's server.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Deadline } from '../../src/guest-ops/wire/deadline.js';
import { SoapClient } from '../../src/guest-ops/vsphere/soap-client.js';
import type { VsphereDriverSettings } from '../../src/guest-ops/vsphere/index.js';
import { makeTempDir } from './temp-dir.js';

export const VCSIM_BINARY = resolve(process.env.PSM_VCSIM ?? '.cache/vcsim/psm-vcsim');
const START_MS = 30_000;

export interface Vcsim {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly caPem: string;
  readonly sha256: string;
  readonly user: string;
  /** A fresh random password for this run (the tests' copy; the driver gets its own bytes). */
  readonly password: Buffer;
  readonly datastores: readonly string[];
  readonly pid: number;
  /** The directory holding cert.pem and the simulator's datastore (its TMPDIR). */
  readonly dir: string;
  /** The guest login, when guest operations are on. */
  readonly guestUser: string;
  readonly guestPassword: Buffer;
  /** Where the simulated guests' root file systems live (one directory per container). */
  readonly containerRoot: string;
  settings(overrides?: Partial<VsphereDriverSettings>): VsphereDriverSettings;
  /** What the simulator wrote to stderr so far (its log; capped at 1 MB). */
  log(): string;
  /** A SoapClient logged in as the test user, for what only the hypervisor side does. */
  admin(): Promise<SoapClient>;
  stop(): Promise<void>;
}

export interface VcsimOptions {
  /** What the simulated user holds (psm's role, say); default: Admin. */
  readonly privileges?: readonly string[];
  /**
   * Guest operations on: psm's workers get a container (docker.go: a chroot with busybox) and
   * VMware Tools accept this run's random guest login (the driver gets it as guestCredentials).
   */
  readonly guestOperations?: boolean;
}

export async function startVcsim(options: VcsimOptions = {}): Promise<Vcsim> {
  if (!existsSync(VCSIM_BINARY))
    throw new Error(`no simulator at ${VCSIM_BINARY}: run npm test's set-up (node scripts/test-setup.mjs)`);
  const temp = await makeTempDir('vcsim');
  const user = 'psm-test';
  const password = Buffer.from(`pw-${randomBytes(18).toString('base64url')}`);
  const guestUser = 'root';
  const guestPassword = Buffer.from(`gpw-${randomBytes(18).toString('base64url')}`);
  // The simulator's `docker` is this same binary under that name (docker.go), first on its PATH.
  const shimDir = join(temp.path, 'bin');
  const containerRoot = join(temp.path, 'containers');
  await mkdir(shimDir);
  await mkdir(containerRoot);
  await symlink(VCSIM_BINARY, join(shimDir, 'docker'));
  const child: ChildProcess = spawn(VCSIM_BINARY, ['-dir', temp.path, '-listen', '127.0.0.1:0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: `${shimDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      TMPDIR: temp.path,
      HOME: temp.path,
      PSM_VCSIM_DOCKER_ROOT: containerRoot,
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 1_000_000) stderr += chunk.toString('utf8');
    if (process.env.PSM_VCSIM_DEBUG === '1') process.stderr.write(chunk);
  });
  child.stdin?.write(
    `${JSON.stringify({
      user,
      password: password.toString('utf8'),
      ...(options.privileges ? { privileges: options.privileges } : {}),
      ...(options.guestOperations === true
        ? { guest: { user: guestUser, password: guestPassword.toString('utf8') } }
        : {}),
    })}\n`,
  );
  const ready = await new Promise<{ url: string; certificate: string; sha256: string; datastores: string[] }>(
    (done, failed) => {
      const timer = setTimeout(() => failed(new Error(`vcsim did not start: ${stderr}`)), START_MS);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        done(JSON.parse(line) as { url: string; certificate: string; sha256: string; datastores: string[] });
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        failed(new Error(`vcsim exited (${code}): ${stderr}`));
      });
    },
  );
  const url = new URL(ready.url);
  const caPem = readFileSync(ready.certificate, 'utf8');
  const base: Omit<VsphereDriverSettings, 'credentials'> = {
    endpoint: {
      host: url.hostname,
      port: Number(url.port),
      pin: { kind: 'sha256', thumbprint: ready.sha256 },
    },
    folder: 'DC0/vm',
    strictRole: false,
  };
  const settings = (overrides: Partial<VsphereDriverSettings> = {}): VsphereDriverSettings => ({
    ...base,
    credentials: async () => ({ ok: true, value: { username: user, password: Buffer.from(password) } }),
    ...(options.guestOperations === true
      ? {
          guestCredentials: async () => ({
            ok: true as const,
            value: { username: guestUser, password: Buffer.from(guestPassword) },
          }),
        }
      : {}),
    ...overrides,
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    host: url.hostname,
    port: Number(url.port),
    url: ready.url,
    caPem,
    sha256: ready.sha256,
    user,
    password,
    datastores: ready.datastores,
    pid: child.pid ?? -1,
    dir: temp.path,
    guestUser,
    guestPassword,
    containerRoot,
    settings,
    log: () => stderr,
    async admin() {
      const client = new SoapClient(settings().endpoint, settings().credentials);
      const connected = await client.connect(new Deadline(10_000));
      if (!connected.ok) throw new Error(connected.error.message);
      return client;
    },
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      await releaseGuests(containerRoot);
      await temp.remove();
    },
  };
}

/**
 * The simulator removes its containers when it exits cleanly; after a crash or a kill, guest
 * processes and the guests' /proc mounts could be left: end and unmount them before the
 * directory goes.
 */
async function releaseGuests(containerRoot: string): Promise<void> {
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const root = await readlink(`/proc/${pid}/root`).catch(() => '');
    if (root.startsWith(containerRoot)) process.kill(Number(pid), 'SIGKILL');
  }
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  for (const line of mounts.split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(`${containerRoot}/`))
      await new Promise<void>((done) =>
        execFile('umount', ['-l', target], { timeout: 10_000 }, () => done()),
      );
  }
}

/** The template's files on the simulator's datastore, for fingerprints. */
export function templateDirectory(sim: Vcsim): string {
  return join(sim.datastores[0] ?? sim.dir, 'psm-template');
}
