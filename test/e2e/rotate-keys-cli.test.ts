/**
 * `psm rotate-keys --admin` on two real workers, proven with the real OpenSSH client: afterwards
 * the old admin key is refused and the new one accepted on both; and 20 runs killed with SIGKILL
 * at a random moment never lock psm out (after every kill some key psm holds logs in to every
 * worker), and each rerun completes the rotation.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { installAdminKey } from '../../src/psm/key-exchange/index.js';
import { adminKeyPaths, hostKeyJournalPath, journalPath } from '../../src/psm/rotation/index.js';
import { knownHostsPath } from '../../src/psm/host-keys/pin-store.js';
import { QEMU_USER_ADMIN_ADDRESS } from '../../src/vault/schema.js';
import {
  bootPreparedWorker,
  BOOT_MS,
  makeKeyxLocation,
  sshEndpoint,
  type KeyxLocation,
} from '../helpers/keyx-worker.js';
import { keyAccepted, type SshTarget } from '../helpers/openssh.js';

const PSM = resolve('bin/psm.js');
const NAMES = ['rk1', 'rk2'] as const;
const TRIALS = 20;

let at: KeyxLocation;
const targets: SshTarget[] = [];

async function rotate(...extra: string[]) {
  const ran = await runProgram(
    process.execPath,
    [PSM, 'rotate-keys', '--admin', '--location', at.location, '--json', ...extra],
    {
      timeoutMs: 300_000,
    },
  );
  return { code: ran.exitCode, stdout: ran.stdout.toString(), stderr: ran.stderr.toString() };
}

const fingerprintOf = async (file: string): Promise<string> => {
  const ran = await runProgram('ssh-keygen', ['-l', '-f', `${file}.pub`], { timeoutMs: 10_000 });
  return ran.stdout.toString().split(' ')[1] ?? '';
};

/** The private key files psm holds right now (active, next, previous). */
function heldKeyFiles(): string[] {
  const paths = adminKeyPaths(at.location);
  return [paths.active, paths.next, paths.prev].filter(
    (file) => existsSync(file) && existsSync(`${file}.pub`),
  );
}

/**
 * keyAccepted, waiting out the moment a kill may leave sshd in: psm restarts sshd by killing its
 * listener and init starts it again, so right after a kill the port may close a connection
 * before sshd is back. A refused key or an unpinned host key is an answer and is not retried.
 */
async function acceptedOnceUp(target: SshTarget, file: string): Promise<boolean> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await keyAccepted(target, file);
    } catch (error) {
      const message = (error as Error).message;
      if (attempt >= 30 || !/kex_exchange_identification|Connection (closed|refused|reset)/.test(message))
        throw error;
      await sleep(1000);
    }
  }
}

/** A small seeded generator, so a failing trial can be replayed (the seed is in the test name). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

beforeAll(
  async () => {
    at = await makeKeyxLocation('rotate');
    const settings = {
      location: at.location,
      policies: at.policies,
      adminAddress: QEMU_USER_ADMIN_ADDRESS,
      audit: at.audit,
    };
    const adminPub = await readFile(`${at.adminKeyFile}.pub`, 'utf8');
    for (const name of NAMES) {
      const worker = await bootPreparedWorker(at, name);
      try {
        const installed = await installAdminKey(settings, worker, adminPub);
        if (!installed.ok) throw new Error(installed.error.message);
        targets.push({ location: at.location, worker: name, user: 'popc', ...(await sshEndpoint(worker)) });
      } finally {
        await worker.close();
      }
    }
  },
  2 * BOOT_MS + 60_000,
);

afterAll(async () => {
  await at?.remove();
}, 60_000);

describe('psm rotate-keys --admin on two real workers', () => {
  let fullRunMs = 5000;

  it('changes nothing with --dry-run', async () => {
    const before = await fingerprintOf(at.adminKeyFile);
    const dry = await rotate('--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      phase: 'adding',
      oldFingerprint: before,
      workers: { rk1: 'pending', rk2: 'pending' },
    });
    expect([await fingerprintOf(at.adminKeyFile), existsSync(journalPath(at.location))]).toEqual([
      before,
      false,
    ]);
  }, 60_000);

  it('leaves the old admin key refused and the new one accepted on both workers', async () => {
    const old = `${at.location}/old-admin`;
    await runProgram('cp', ['-p', at.adminKeyFile, old], { timeoutMs: 5000 });
    await runProgram('cp', ['-p', `${at.adminKeyFile}.pub`, `${old}.pub`], { timeoutMs: 5000 });
    const oldFingerprint = await fingerprintOf(old);
    const run = await rotate('--concurrency', '2');
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const report = JSON.parse(run.stdout) as {
      phase: string;
      oldFingerprint: string;
      newFingerprint: string;
      logins: number;
    };
    expect(report).toMatchObject({
      phase: 'done',
      oldFingerprint,
      workers: { rk1: 'removed', rk2: 'removed' },
      failed: [],
    });
    expect(await fingerprintOf(at.adminKeyFile)).toBe(report.newFingerprint);
    expect(report.logins).toBe(6);
    for (const target of targets) {
      expect(await keyAccepted(target, old)).toBe(false);
      expect(await keyAccepted(target, at.adminKeyFile)).toBe(true);
    }
    expect(heldKeyFiles()).toEqual([at.adminKeyFile]);
    expect(existsSync(journalPath(at.location))).toBe(false);
  }, 300_000);

  it('with --host-keys gives both workers new host keys: ssh with strict checking connects with no prompt', async () => {
    const before = await readFile(knownHostsPath(at.location), 'utf8');
    const started = performance.now();
    const run = await rotate('--host-keys', '--admin');
    fullRunMs = performance.now() - started;
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      hostKeys: { done: true, workers: { rk1: 'done', rk2: 'done' }, failed: [] },
      admin: { phase: 'done' },
    });
    const after = await readFile(knownHostsPath(at.location), 'utf8');
    const keysIn = (text: string) =>
      new Set(
        text
          .trim()
          .split('\n')
          .map((l) => l.split(' ')[2]),
      );
    // Every pin is new: no key pinned before is pinned now.
    expect([...keysIn(after)].filter((k) => keysIn(before).has(k))).toEqual([]);
    for (const target of targets) expect(await keyAccepted(target, at.adminKeyFile)).toBe(true);
    expect(existsSync(hostKeyJournalPath(at.location))).toBe(false);
    const audit = await runProgram(process.execPath, [PSM, 'audit', '--location', at.location, '--json'], {
      timeoutMs: 120_000,
    });
    expect(audit.exitCode, audit.stdout.toString()).toBe(0);
  }, 300_000);

  it(`never locks psm out when killed at a random moment (${TRIALS} trials), and every rerun completes`, async () => {
    const next = random(0x5eed12);
    const outcomes: string[] = [];
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const before = await fingerprintOf(at.adminKeyFile);
      // A kill must land inside a run: a run that finished first teaches how long a run takes, and
      // the trial is tried again with a moment inside that time.
      let delay = 0;
      let code: number | null = 0;
      for (let attempt = 0; attempt < 10 && code !== null; attempt += 1) {
        delay = Math.floor(next() * fullRunMs);
        const started = performance.now();
        const child = spawn(
          process.execPath,
          [PSM, 'rotate-keys', '--admin', '--host-keys', '--location', at.location, '--json'],
          { stdio: 'ignore' },
        );
        const exited = new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
        const first = await Promise.race([
          sleep(delay).then(() => 'timer' as const),
          exited.then(() => 'exit' as const),
        ]);
        if (first === 'exit') fullRunMs = Math.max(200, performance.now() - started);
        child.kill('SIGKILL');
        code = await exited;
      }
      expect(code, `trial ${trial}: no kill landed inside a run`).toBeNull();
      const phase = existsSync(journalPath(at.location))
        ? (JSON.parse(await readFile(journalPath(at.location), 'utf8')) as { phase: string }).phase
        : existsSync(hostKeyJournalPath(at.location))
          ? 'host-keys'
          : 'none';
      // The invariant: whatever the kill interrupted, a key psm holds logs in to every worker.
      for (const target of targets) {
        const accepted = [];
        for (const file of heldKeyFiles()) if (await acceptedOnceUp(target, file)) accepted.push(file);
        expect(
          accepted.length,
          `trial ${trial} (kill after ${delay} ms, phase ${phase}): ${target.worker} lets no held key in`,
        ).toBeGreaterThan(0);
      }
      const rerun = await rotate('--host-keys');
      expect(rerun.code, `trial ${trial} rerun: ${rerun.stderr}${rerun.stdout}`).toBe(0);
      const report = JSON.parse(rerun.stdout) as { admin: { phase: string }; hostKeys: { done: boolean } };
      // Killed before a journal existed, the rerun makes its own rotation; else it resumes the killed one.
      expect([report.admin.phase, report.hostKeys.done]).toEqual(['done', true]);
      expect(existsSync(hostKeyJournalPath(at.location))).toBe(false);
      expect(await fingerprintOf(at.adminKeyFile)).not.toBe(before);
      expect(heldKeyFiles()).toEqual([at.adminKeyFile]);
      for (const target of targets) expect(await keyAccepted(target, at.adminKeyFile)).toBe(true);
      outcomes.push(`${delay}ms:${code === null ? 'killed' : `exit ${code}`}:${phase}`);
    }
    console.log(`rotate-keys kill trials: ${outcomes.join(' ')}`);
    // The kills landed in both phases and before the journal existed (not all at one spot).
    expect(new Set(outcomes.map((o) => o.split(':')[2])).size).toBeGreaterThan(1);
  }, 1_800_000);
});
