import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '../../src/common/result.js';
import { initVault } from '../../src/vault/init.js';
import { layoutOf } from '../../src/vault/layout.js';
import { rekeyVault } from '../../src/vault/rekey.js';
import { setSecret } from '../../src/vault/set-secret.js';
import type { KeyOptions } from '../../src/vault/unlock.js';
import { openSecret, openVault } from '../../src/vault/vault.js';
import { PSM_BIN, runPsm, tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/**
 * "Killing `psm vault rekey` at random points always leaves a vault that opens with either the
 * old or the new key, never neither": real child processes (bin/psm.js) killed with SIGKILL,
 * plus every intermediate state of the rekey protocol built on purpose.
 */
const PASSPHRASE = 'correct horse battery staple';
const TRIALS = 24;
const SECRETS: Record<string, string> = Object.fromEntries([
  ['hypervisor.password', 'esx password'],
  ['worker.guest_password', 'guest password'],
  ...Array.from({ length: 20 }, (_, i) => [`secrets.s${i}`, `secret number ${i}`]),
]);

const encode = (s: string) => new TextEncoder().encode(s);
const keyOptions: KeyOptions = { passphrase: async () => ok(encode(PASSPHRASE)) };

async function makeVault(location: string): Promise<void> {
  const made = await initVault({ location, force: false, kind: 'qemu', kdfCost: 'min' });
  if (!made.ok) throw new Error(made.error.message);
  for (const [path, secret] of Object.entries(SECRETS)) {
    const set = await setSecret(location, path, encode(secret), {});
    if (!set.ok) throw new Error(set.error.message);
  }
}

/** Opens the vault as any psm would and proves every secret is intact; returns the key id used. */
async function opensIntact(location: string): Promise<string> {
  const vault = await openVault(location, keyOptions);
  if (!vault.ok) throw new Error(`vault does not open: ${vault.error.code}: ${vault.error.message}`);
  try {
    for (const [path, secret] of Object.entries(SECRETS)) {
      const opened = openSecret(vault.value, path);
      if (!opened.ok) throw new Error(`${path}: ${opened.error.code}: ${opened.error.message}`);
      expect(Buffer.from(opened.value).toString('utf8')).toBe(secret);
    }
    return vault.value.key.keyId;
  } finally {
    vault.value.close();
  }
}

function rekeyArgs(location: string, passFile: string, toPassphrase: boolean): string[] {
  const common = ['vault', 'rekey', '--location', location, '--passphrase-file', passFile];
  return toPassphrase
    ? [...common, '--to', 'passphrase', '--new-passphrase-file', passFile, '--kdf-cost', 'min']
    : [...common, '--to', 'file'];
}

/**
 * Starts a rekey child and SIGKILLs it `delayMs` after the start, or, with `watchDir`, that long
 * after the child's first write appears in etc/ (a temp file or psm.key.next), so kills also
 * land inside the few milliseconds where the files are replaced.
 */
function killedRekey(
  args: string[],
  delayMs: number,
  watchDir?: string,
): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PSM_BIN, ...args], { stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    const watcher =
      watchDir === undefined
        ? undefined
        : watch(watchDir, (_event, name) => {
            if (name !== null && /\.tmp$|psm\.key\.next$/.test(name)) arm();
          });
    if (watcher === undefined) arm();
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      watcher?.close();
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

let temp: TempLocation;
let passFile: string;

beforeAll(async () => {
  temp = tempLocation();
  passFile = join(temp.root, 'passphrase');
  writeFileSync(passFile, PASSPHRASE, { mode: 0o600 });
  await makeVault(temp.location);
}, 60_000);

afterAll(() => temp?.cleanup());

describe('vault rekey under SIGKILL', () => {
  it(`always opens with the old or the new key (${TRIALS} killed rekeys)`, async () => {
    // How long an unkilled rekey takes here (same spawn as the trials), so kills land anywhere
    // from start-up to the end; half the trials aim at the last third, where the writes are.
    const started = process.hrtime.bigint();
    const full = await killedRekey(rekeyArgs(temp.location, passFile, false), 60_000);
    expect(full.code).toBe(0);
    const fullMs = Number(process.hrtime.bigint() - started) / 1e6;
    let keyId = await opensIntact(temp.location);
    const outcomes = { old: 0, new: 0, killed: 0, openedFromNextKey: 0 };
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const before = keyId;
      const toPassphrase = trial % 4 < 2;
      // Even trials: a random point of the whole run. Odd trials: a random point within 12 ms of
      // the first write, where the key file and the config are being replaced.
      const run =
        trial % 2 === 0
          ? await killedRekey(
              rekeyArgs(temp.location, passFile, toPassphrase),
              randomInt(0, Math.ceil(fullMs * 1.15)),
            )
          : await killedRekey(
              rekeyArgs(temp.location, passFile, toPassphrase),
              randomInt(0, 12),
              layoutOf(temp.location).etcDir,
            );
      if (run.killed) outcomes.killed += 1;
      else expect(run.code).toBe(0);
      const nextLeft = existsSync(layoutOf(temp.location).nextKeyFile);
      keyId = await opensIntact(temp.location);
      if (nextLeft && keyId !== before) outcomes.openedFromNextKey += 1;
      if (keyId === before) outcomes.old += 1;
      else outcomes.new += 1;
    }
    // The CLI agrees, and a later rekey still works from whatever state was left.
    expect(
      (await runPsm(['vault', 'verify', '--location', temp.location, '--passphrase-file', passFile])).code,
    ).toBe(0);
    const last = await runPsm(rekeyArgs(temp.location, passFile, false));
    expect(last.code, last.stderr).toBe(0);
    await opensIntact(temp.location);
    expect(outcomes.old + outcomes.new).toBe(TRIALS);
    console.info(`rekey kill trials: ${JSON.stringify(outcomes)}, unkilled rekey ${fullMs.toFixed(0)} ms`);
  }, 300_000);

  it('every intermediate state of a key-file rekey opens, and the next rekey completes it', async () => {
    const other = tempLocation();
    try {
      await makeVault(other.location);
      const layout = layoutOf(other.location);
      const saved = (name: string) => join(other.root, name);
      copyFileSync(layout.configFile, saved('conf0'));
      copyFileSync(layout.keyFile, saved('key0'));
      const oldId = await opensIntact(other.location);
      const rekeyed = await rekeyVault(other.location, {}, { kind: 'file' });
      expect(rekeyed.ok).toBe(true);
      copyFileSync(layout.configFile, saved('conf1'));
      copyFileSync(layout.keyFile, saved('key1'));
      const newId = await opensIntact(other.location);
      expect(newId).not.toBe(oldId);
      const state = (conf: string, key: string, next: string | undefined) => {
        copyFileSync(saved(conf), layout.configFile);
        copyFileSync(saved(key), layout.keyFile);
        if (next === undefined) rmSync(layout.nextKeyFile, { force: true });
        else copyFileSync(saved(next), layout.nextKeyFile);
      };
      // Killed after writing psm.key.next, before the config: the old key still opens it.
      state('conf0', 'key0', 'key1');
      expect(await opensIntact(other.location)).toBe(oldId);
      // Killed after the config, before the rename: psm.key.next opens it.
      state('conf1', 'key0', 'key1');
      expect(await opensIntact(other.location)).toBe(newId);
      // A rekey started from that state first finishes the old one, then opens with its own key.
      const again = await rekeyVault(other.location, {}, { kind: 'file' });
      expect(again.ok && again.value.oldKeyId).toBe(newId);
      await opensIntact(other.location);
      expect(existsSync(layout.nextKeyFile)).toBe(false);
      // Killed mid-switch to a passphrase: the config names the passphrase, psm.key is still there.
      const toPass = await rekeyVault(
        other.location,
        {},
        { kind: 'passphrase', passphrase: encode(PASSPHRASE), cost: 'min' },
      );
      expect(toPass.ok).toBe(true);
      copyFileSync(saved('key0'), layout.keyFile);
      expect(readFileSync(layout.configFile, 'utf8')).toContain('key_source = "passphrase"');
      expect(await opensIntact(other.location)).toBe(toPass.ok ? toPass.value.newKeyId : '');
      // The next writer removes the old key file the killed switch left behind.
      expect(
        (await setSecret(other.location, 'secrets.s0', encode(SECRETS['secrets.s0']!), keyOptions)).ok,
      ).toBe(true);
      expect(existsSync(layout.keyFile)).toBe(false);
      await opensIntact(other.location);
    } finally {
      other.cleanup();
    }
  }, 60_000);
});
