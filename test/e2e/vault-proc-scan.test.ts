import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutOf } from '../../src/vault/layout.js';
import { runPsm, tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/**
 * "While psm runs child processes, no secret appears in any /proc/PID/cmdline or
 * /proc/PID/environ": a scanner reads every process's argv and environment, over and over,
 * while psm commands that handle secrets run as child processes. A canary process proves the
 * scanner does see what is there.
 */
const SCANNER = join(import.meta.dirname, '..', 'helpers', 'vault-proc-scanner.mjs');

interface ScanReport {
  readonly hits: string[];
  readonly psmPids: number;
  readonly rounds: number;
}

/** Starts the scanner process; `add` hands it needles over stdin, `finish` stops it. */
function startScanner(): {
  add(values: readonly (string | Uint8Array)[]): void;
  finish(): Promise<ScanReport>;
} {
  const child = spawn(process.execPath, [SCANNER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    add(values) {
      for (const value of values) {
        const bytes = Buffer.from(value);
        const forms =
          typeof value === 'string'
            ? [bytes]
            : [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64'))];
        for (const form of forms) child.stdin.write(`${form.toString('hex')}\n`);
      }
    },
    async finish() {
      child.stdin.end();
      await exited;
      return JSON.parse(Buffer.concat(out).toString('utf8')) as ScanReport;
    },
  };
}

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
