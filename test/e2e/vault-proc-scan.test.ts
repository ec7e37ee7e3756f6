import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/common/result.js';
import type { GuestOpsError } from '../../src/guest-ops/errors.js';
import { VsphereDriver } from '../../src/guest-ops/vsphere/index.js';
import type { SoapClient } from '../../src/guest-ops/vsphere/soap-client.js';
import { layoutOf } from '../../src/vault/layout.js';
import { startScanner } from '../helpers/proc-scan.js';
import { startVcsim } from '../helpers/vcsim.js';
import { runPsm, tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/**
 * "While psm runs child processes, no secret appears in any /proc/PID/cmdline or
 * /proc/PID/environ": a scanner reads every process's argv and environment, over and over,
 * while psm commands that handle secrets run as child processes. A canary process proves the
 * scanner does see what is there.
 */
let temp: TempLocation;
beforeAll(() => {
  temp = tempLocation();
});
afterAll(() => temp?.cleanup());

describe('no secret in any /proc/*/cmdline or environ while psm runs', () => {
  it('scanner sees a canary (positive control)', async () => {
    const canary = 'canary-7f3a9c1e-not-a-secret';
    const scanner = startScanner();
    scanner.add([canary]);
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 400)', canary], { stdio: 'ignore' });
      child.on('exit', () => resolve());
    });
    const report = await scanner.finish();
    expect(report.hits.length).toBeGreaterThan(0);
  });

  it('init, set, get --reveal, rekey and verify leak nothing', async () => {
    const passphrase = 'proc-scan passphrase 5c2e';
    const newPassphrase = 'proc-scan new passphrase 91d0';
    const secrets = ['esx-password-3b8f1', 'guest-password-77aa2', 'token-e0c4d'];
    const passFile = join(temp.root, 'pass');
    const newPassFile = join(temp.root, 'newpass');
    writeFileSync(passFile, passphrase, { mode: 0o600 });
    writeFileSync(newPassFile, newPassphrase, { mode: 0o600 });
    const loc = ['--location', temp.location];
    const scanner = startScanner();
    const legacyPasswords = ['legacy-esx-pw-4e1b', 'legacy-guest-pw-09c3'];
    const legacy = join(temp.root, 'legacy.conf');
    writeFileSync(
      legacy,
      `popc_esx_uri esx://h/\npopc_esx_username root\npopc_esx_password ${legacyPasswords[0]}\npopc_esx_hostpass ${legacyPasswords[1]}\n`,
    );
    scanner.add([passphrase, newPassphrase, ...secrets, ...legacyPasswords]);
    const runs = [
      await runPsm(['init', ...loc, '--kdf-cost', 'min']),
      await runPsm(['vault', 'set', 'hypervisor.password', ...loc], { input: secrets[0] }),
      await runPsm(['vault', 'set', 'worker.guest_password', ...loc], { input: secrets[1] }),
    ];
    scanner.add([new Uint8Array(readFileSync(layoutOf(temp.location).keyFile))]);
    runs.push(
      await runPsm(['vault', 'get', 'hypervisor.password', '--reveal', ...loc]),
      await runPsm(
        ['vault', 'rekey', ...loc, '--to', 'passphrase', '--new-passphrase-fd', '3', '--kdf-cost', 'min'],
        {
          fd3: passphrase,
        },
      ),
      await runPsm(['vault', 'set', 'secrets.token', ...loc, '--passphrase-file', passFile], {
        input: secrets[2],
      }),
      await runPsm(
        [
          'vault',
          'rekey',
          ...loc,
          '--passphrase-fd',
          '3',
          '--new-passphrase-file',
          newPassFile,
          '--kdf-cost',
          'min',
        ],
        {
          fd3: passphrase,
        },
      ),
      await runPsm(['vault', 'get', 'secrets.token', '--reveal', ...loc, '--passphrase-file', newPassFile]),
      await runPsm(['vault', 'verify', ...loc, '--passphrase-file', newPassFile]),
      await runPsm(['init', '--location', join(temp.root, 'imported'), '--import-legacy', legacy]),
    );
    const scan = await scanner.finish();
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs[3]?.stdout).toBe(`${secrets[0]}\n`);
    expect(runs[7]?.stdout).toBe(`${secrets[2]}\n`);
    expect(scan.hits).toEqual([]);
    // The scan really ran while psm processes were alive.
    expect(scan.psmPids).toBeGreaterThanOrEqual(Math.ceil(runs.length / 2));
    expect(scan.rounds).toBeGreaterThan(10);
    // And no secret reached stderr either.
    for (const run of runs)
      for (const secret of [passphrase, newPassphrase, ...secrets]) expect(run.stderr).not.toContain(secret);
  }, 120_000);
});

describe('no vSphere secret in any /proc/*/cmdline or environ, log or message', () => {
  it('login, clone, power, guest operations and destroy against the simulator leak nothing', async () => {
    const sim = await startVcsim({ guestOperations: true });
    const scanner = startScanner();
    const messages: string[] = [];
    const note = <T>(result: Result<T, GuestOpsError>): Result<T, GuestOpsError> => {
      if (!result.ok) messages.push(result.error.message);
      return result;
    };
    try {
      scanner.add([sim.password, sim.guestPassword]);
      const driver = new VsphereDriver(sim.settings());
      const name = `ps-${process.pid}`;
      const cloned = note(
        await driver.cloneWorker(name, { kind: 'vsphere', vm: 'DC0/vm/psm-template', snapshot: 'psm-base' }),
      );
      if (!cloned.ok) throw new Error(cloned.error.message);
      const worker = cloned.value;
      // The worker's session cookie (the simulator's transfer tickets are the same key).
      const cookie = (worker as unknown as { client: SoapClient }).client.cookieHeader()?.split('=')[1] ?? '';
      expect(cookie.length).toBeGreaterThan(8);
      scanner.add([cookie, cookie.replaceAll('"', '')]);
      expect(note(await worker.powerOn()).ok).toBe(true);
      expect(note(await worker.waitForAgent({ timeoutMs: 30_000 })).ok).toBe(true);
      const ran = note(
        await worker.runProgram('/bin/busybox', ['sleep', '1'], {
          stdin: Buffer.from('input'),
          timeoutMs: 30_000,
        }),
      );
      expect(ran.ok && ran.value.exitCode).toBe(0);
      expect(
        note(await worker.copyToGuest(Buffer.from('payload'), '/persist/f', { timeoutMs: 30_000 })).ok,
      ).toBe(true);
      expect(note(await worker.copyFromGuest('/persist/f', { timeoutMs: 30_000 })).ok).toBe(true);
      // Failures too: a missing file, and a wrong guest password (the fault is not quoted).
      expect(note(await worker.copyFromGuest('/persist/missing')).ok).toBe(false);
      const wrong = new VsphereDriver(
        sim.settings({
          guestCredentials: async () => ({
            ok: true,
            value: { username: 'root', password: Buffer.from('wrong-guest-pw') },
          }),
        }),
      );
      const opened = note(await wrong.openWorker(name));
      if (!opened.ok) throw new Error(opened.error.message);
      const refused = note(await opened.value.runProgram('/bin/true', []));
      expect(!refused.ok && refused.error.code).toBe('AGENT_ERROR');
      await opened.value.close();
      const badLogin = new VsphereDriver(
        sim.settings({
          credentials: async () => ({
            ok: true,
            value: { username: sim.user, password: Buffer.from('wrong-pw') },
          }),
        }),
      );
      expect(note(await badLogin.openWorker(name)).ok).toBe(false);
      await worker.close();
      expect(note(await driver.destroyWorker(name)).ok).toBe(true);
      const scan = await scanner.finish();
      expect(scan.hits).toEqual([]);
      expect(scan.rounds).toBeGreaterThan(10);
      // The three failures above, each with a message of its own.
      expect(messages.length).toBe(3);
      const secrets = [sim.password.toString(), sim.guestPassword.toString(), cookie.replaceAll('"', '')];
      for (const message of messages) for (const secret of secrets) expect(message).not.toContain(secret);
      // The simulator's own log, which saw every call.
      for (const secret of secrets) expect(sim.log()).not.toContain(secret);
    } finally {
      await sim.stop();
    }
  }, 120_000);
});
