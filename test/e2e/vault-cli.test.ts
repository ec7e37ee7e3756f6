import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { layoutOf } from '../../src/vault/layout.js';
import { runPsm, snapshotTree, tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/** The vault commands as an operator runs them: the real CLI in child processes, real files. */
// Each test starts several Node processes; on 2 shared cores under a full `npm test` that is slow.
vi.setConfig({ testTimeout: 90_000 });
let temp: TempLocation;
let loc: string[];

beforeEach(() => {
  temp = tempLocation();
  loc = ['--location', temp.location];
});
afterEach(() => temp.cleanup());

async function init(...extra: string[]) {
  const run = await runPsm(['init', ...loc, '--json', ...extra]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { created: string[]; kept: string[]; keyId: string };
}

describe('psm init', () => {
  it('creates the tree with safe modes and is idempotent', async () => {
    const first = await init();
    const layout = layoutOf(temp.location);
    expect(first.created).toEqual(
      expect.arrayContaining([layout.etcDir, layout.keyFile, layout.configFile, layout.adminKey]),
    );
    for (const dir of [layout.etcDir, layout.keysDir, layout.stateDir])
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    // The location itself is shared with the rest of POP-C++.
    expect(statSync(temp.location).mode & 0o777).toBe(0o755);
    for (const file of [layout.keyFile, layout.configFile, layout.adminKey])
      expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(layout.keyFile).size).toBe(32);
    const before = snapshotTree(temp.location);
    const second = await init();
    expect(second.created).toEqual([]);
    expect(second.keyId).toBe(first.keyId);
    expect(snapshotTree(temp.location)).toEqual(before);
  });

  it('gives a location the shipped policies, and never touches a policy directory the operator has', async () => {
    const first = await init();
    const { policiesDir } = layoutOf(temp.location);
    const shipped = ['admin.yaml', 'initiator.yaml', 'main-node.yaml'];
    expect(first.created).toEqual(expect.arrayContaining(shipped.map((name) => join(policiesDir, name))));
    for (const name of shipped) {
      expect(readFileSync(join(policiesDir, name))).toEqual(readFileSync(join('policies', name)));
      expect(statSync(join(policiesDir, name)).mode & 0o777).toBe(0o600);
    }
    const lint = await runPsm(['policy', 'lint', policiesDir]);
    expect(lint.code, lint.stderr).toBe(0);
    // An operator who removed a role on purpose and edited another keeps exactly that.
    rmSync(join(policiesDir, 'initiator.yaml'));
    writeFileSync(join(policiesDir, 'admin.yaml'), '# edited\n', { mode: 0o600 });
    const second = await init();
    expect(second.created).toEqual([]);
    expect(readdirSync(policiesDir).sort()).toEqual(['admin.yaml', 'main-node.yaml']);
    expect(readFileSync(join(policiesDir, 'admin.yaml'), 'utf8')).toBe('# edited\n');
  });

  it('--policy-set popc gives the POP-C++ 2.5 main-node policy in place of the stand-in one', async () => {
    const first = await init('--policy-set', 'popc');
    const { policiesDir } = layoutOf(temp.location);
    expect(readdirSync(policiesDir).sort()).toEqual(['admin.yaml', 'initiator.yaml', 'main-node.yaml']);
    expect(first.created).toEqual(expect.arrayContaining([join(policiesDir, 'main-node.yaml')]));
    expect(readFileSync(join(policiesDir, 'main-node.yaml'))).toEqual(
      readFileSync('policies/popc/main-node.yaml'),
    );
    for (const name of ['admin.yaml', 'initiator.yaml'])
      expect(readFileSync(join(policiesDir, name))).toEqual(readFileSync(join('policies', name)));
    const explained = await runPsm(['policy', 'explain', join(policiesDir, 'main-node.yaml'), '--json']);
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toContain('/usr/local/popc/services/popcobjrun');
    const unknown = await runPsm(['init', ...loc, '--policy-set', 'popc-3']);
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      expect.stringContaining('Allowed choices are default, popc'),
    ]);
  });

  it('uses $POPC_LOCATION when --location is absent, and --force replaces the key', async () => {
    const run = await runPsm(['init', '--json'], { env: { POPC_LOCATION: temp.location } });
    expect(run.code, run.stderr).toBe(0);
    const first = JSON.parse(run.stdout) as { keyId: string };
    expect(existsSync(layoutOf(temp.location).configFile)).toBe(true);
    const forced = await init('--force');
    expect(forced.keyId).not.toBe(first.keyId);
  });

  it('imports a 2010 virtual.conf and seals its passwords', async () => {
    const legacy = join(temp.root, 'legacy.conf');
    writeFileSync(
      legacy,
      [
        'popc_esx_uri esx://10.0.0.5/?no_verify=1',
        'popc_esx_username root',
        'popc_esx_password s3cret esx pass',
        'popc_esx_datastore datastore1',
        'popc_esx_maxvm 6',
        'popc_esx_num_clone 2',
        'popc_esx_worker_name popc_worker1',
        'popc_esx_hostuser popc',
        'popc_esx_hostpass guestpw',
        'popc_esx_snapshot clean_state',
        '',
      ].join('\n'),
    );
    const run = await runPsm(['init', ...loc, '--import-legacy', legacy]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('no_verify=1');
    const text = readFileSync(layoutOf(temp.location).configFile, 'utf8');
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('guestpw');
    expect(text).toContain('kind = "vsphere"');
    expect(text).toContain('max_vms = 6');
    expect(text).toContain('clean_snapshot = "clean_state"');
    const get = await runPsm(['vault', 'get', 'hypervisor.password', '--reveal', ...loc]);
    expect(get.stdout).toBe('s3cret esx pass\n');
    const guest = await runPsm(['vault', 'get', 'worker.guest_password', '--reveal', '--json', ...loc]);
    expect(JSON.parse(guest.stdout)).toEqual({
      path: 'worker.guest_password',
      value: 'guestpw',
      encoding: 'utf8',
    });
    // A second import would overwrite the config: refused without --force.
    expect((await runPsm(['init', ...loc, '--import-legacy', legacy])).code).toBe(4);
  });

  it('refuses imported settings the schema refuses, and writes nothing', async () => {
    const legacy = join(temp.root, 'legacy.conf');
    writeFileSync(legacy, 'popc_esx_uri esx://h/\npopc_esx_username root\npopc_esx_hostuser Not Valid\n');
    const run = await runPsm(['init', ...loc, '--import-legacy', legacy]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('LEGACY_INVALID');
    expect(run.stderr).toContain('worker.guest_user');
    expect(existsSync(layoutOf(temp.location).configFile)).toBe(false);
    expect(existsSync(layoutOf(temp.location).keyFile)).toBe(false);
  });

  it('refuses a legacy file that is not one, with file:line', async () => {
    const legacy = join(temp.root, 'legacy.conf');
    writeFileSync(legacy, 'popc_esx_uri esx://h/\nnot_a_key 1\n');
    const run = await runPsm(['init', ...loc, '--import-legacy', legacy]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${legacy}:2:`);
  });
});

describe('psm vault', () => {
  it('set, get, list and verify; secrets never on stdout without --reveal', async () => {
    await init();
    const set = await runPsm(['vault', 'set', 'hypervisor.password', ...loc, '--json'], {
      input: 'pw-123\n',
    });
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ path: 'hypervisor.password', replaced: false });
    expect((await runPsm(['vault', 'set', 'secrets.token', ...loc], { input: 'tok' })).code).toBe(0);
    expect((await runPsm(['vault', 'get', 'secrets.token', ...loc])).code).toBe(2);
    expect((await runPsm(['vault', 'get', 'secrets.token', '--reveal', ...loc])).stdout).toBe('tok\n');
    const list = await runPsm(['vault', 'list', ...loc, '--json']);
    expect(list.stdout).not.toContain('pw-123');
    // The first recorded act (this set) also sealed the audit log's key.
    expect(JSON.parse(list.stdout).secrets.map((s: { path: string }) => s.path)).toEqual([
      'hypervisor.password',
      'secrets.psm-audit',
      'secrets.token',
    ]);
    const verify = await runPsm(['vault', 'verify', ...loc, '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).ok).toBe(true);
    expect((await runPsm(['vault', 'set', 'worker.template', ...loc], { input: 'x' })).code).toBe(2);
    expect((await runPsm(['vault', 'get', 'secrets.nope', '--reveal', ...loc])).code).toBe(3);
  });

  it('reports a tampered value with its field and exit 6', async () => {
    await init();
    await runPsm(['vault', 'set', 'worker.guest_password', ...loc], { input: 'guest' });
    const file = layoutOf(temp.location).configFile;
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('guest_password = "psm-sealed:') + 60;
    writeFileSync(file, text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
    const verify = await runPsm(['vault', 'verify', ...loc]);
    expect(verify.code).toBe(6);
    expect(verify.stdout).toContain('worker.guest_password');
    const get = await runPsm(['vault', 'get', 'worker.guest_password', '--reveal', ...loc]);
    expect(get.code).toBe(6);
    expect(get.stdout).toBe('');
    expect(get.stderr).toMatch(/TAMPERED: .*virtual\.conf:\d+: worker\.guest_password/);
  });

  it('reports a wrong key file or passphrase as such, without touching any file', async () => {
    await init('--passphrase-file', await writePass('right passphrase'), '--kdf-cost', 'min');
    await runPsm(
      ['vault', 'set', 'secrets.a', ...loc, '--passphrase-file', await writePass('right passphrase')],
      {
        input: 'value',
      },
    );
    const before = snapshotTree(temp.location);
    const wrong = await writePass('wrong passphrase');
    for (const args of [
      ['vault', 'verify', ...loc, '--passphrase-file', wrong],
      ['vault', 'get', 'secrets.a', '--reveal', ...loc, '--passphrase-file', wrong],
      ['vault', 'rekey', ...loc, '--passphrase-file', wrong, '--to', 'file'],
    ]) {
      const run = await runPsm(args, { input: 'new value' });
      expect(run.code, run.stderr).toBe(5);
      expect(run.stderr).toContain('WRONG_KEY: wrong passphrase');
    }
    const set = await runPsm(['vault', 'set', 'secrets.a', ...loc, '--passphrase-fd', '3'], {
      input: 'new',
      fd3: 'wrong passphrase\n',
    });
    expect(set.code).toBe(5);
    expect(snapshotTree(temp.location)).toEqual(before);
    // Switch to a key file, then try somebody else's key file.
    const right = await writePass('right passphrase');
    expect((await runPsm(['vault', 'rekey', ...loc, '--passphrase-file', right, '--to', 'file'])).code).toBe(
      0,
    );
    const otherKey = join(temp.root, 'other.key');
    writeFileSync(otherKey, Buffer.alloc(32, 7), { mode: 0o600 });
    const after = snapshotTree(temp.location);
    const run = await runPsm(['vault', 'set', 'secrets.a', ...loc, '--key-file', otherKey], { input: 'x' });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('WRONG_KEY: wrong key');
    expect(snapshotTree(temp.location)).toEqual(after);
  });

  it('refuses a key file that group or others can read (exit 4), like ssh', async () => {
    await init();
    chmodSync(layoutOf(temp.location).keyFile, 0o640);
    const run = await runPsm(['vault', 'verify', ...loc]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('KEY_UNSAFE_PERMISSIONS');
  });

  it('refuses to write while another psm holds the lock (exit 4), and ignores a dead holder', async () => {
    await init();
    const lock = layoutOf(temp.location).lockFile;
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
    mkdirSync(lock, { recursive: true });
    const live = join(lock, `${process.pid}.${start}.${boot}`);
    writeFileSync(live, '');
    const locked = await runPsm(['vault', 'set', 'secrets.a', ...loc, '--lock-wait', '0.2'], { input: 'x' });
    expect(locked.code).toBe(4);
    expect(locked.stderr).toContain('LOCKED');
    expect(locked.stderr).toContain(`pid ${process.pid}`);
    rmSync(live);
    const dead = join(lock, `999999999.${start}.${boot}`);
    writeFileSync(dead, '');
    expect((await runPsm(['vault', 'set', 'secrets.a', ...loc], { input: 'x' })).code).toBe(0);
    expect(readdirSync(lock)).toEqual([]);
  });

  it('reports a missing or corrupt config with exit 3 and file:line', async () => {
    expect((await runPsm(['vault', 'list', ...loc])).code).toBe(3);
    await init();
    const file = layoutOf(temp.location).configFile;
    writeFileSync(file, readFileSync(file, 'utf8').replace('max_vms = 4', 'max_vms = "four"'));
    const run = await runPsm(['vault', 'verify', ...loc, '--json']);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout).error.code).toBe('CONFIG_INVALID');
    expect(run.stderr).toMatch(/virtual\.conf:\d+: pool\.max_vms/);
  });

  it('unlocks with a systemd credential in $CREDENTIALS_DIRECTORY', async () => {
    await init();
    await runPsm(['vault', 'set', 'secrets.a', ...loc], { input: 'cred' });
    const creds = join(temp.root, 'creds');
    const layout = layoutOf(temp.location);
    await import('node:fs').then((fs) => {
      fs.mkdirSync(creds, { mode: 0o700 });
      fs.renameSync(layout.keyFile, join(creds, 'psm.key'));
    });
    const run = await runPsm(['vault', 'get', 'secrets.a', '--reveal', ...loc], {
      env: { CREDENTIALS_DIRECTORY: creds },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('cred\n');
    const rekey = await runPsm(['vault', 'rekey', ...loc], { env: { CREDENTIALS_DIRECTORY: creds } });
    expect(rekey.code).toBe(4);
    expect(rekey.stderr).toContain('REKEY_REFUSED');
    expect((await runPsm(['vault', 'verify', ...loc])).code).toBe(3);
  });

  it('derives the key with Argon2id at the MODERATE default', async () => {
    const pass = await writePass('moderate passphrase');
    await init('--passphrase-file', pass);
    const text = readFileSync(layoutOf(temp.location).configFile, 'utf8');
    expect(text).toContain('kdf_opslimit = 3');
    expect(text).toContain('kdf_memlimit = 268435456');
    expect(existsSync(layoutOf(temp.location).keyFile)).toBe(false);
    expect((await runPsm(['vault', 'verify', ...loc, '--passphrase-file', pass])).code).toBe(0);
  }, 60_000);
});

let passCount = 0;
async function writePass(value: string): Promise<string> {
  passCount += 1;
  const path = join(temp.root, `pass-${passCount}`);
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return path;
}

describe('psm init --kind vsphere', () => {
  it('writes a valid config with placeholders; the password is set afterwards', async () => {
    const made = await runPsm(['init', ...loc, '--kind', 'vsphere']);
    expect(made.code, made.stderr).toBe(0);
    const text = readFileSync(layoutOf(temp.location).configFile, 'utf8');
    expect(text).toContain('kind = "vsphere"');
    expect(text).toContain('CHANGE');
    expect((await runPsm(['vault', 'set', 'hypervisor.password', ...loc], { input: 'esx' })).code).toBe(0);
    expect((await runPsm(['vault', 'verify', ...loc])).code).toBe(0);
  });

  it('warns on a re-run when the key file no longer matches the config', async () => {
    await init();
    writeFileSync(layoutOf(temp.location).keyFile, Buffer.alloc(32, 1), { mode: 0o600 });
    const again = await runPsm(['init', ...loc]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('WRONG_KEY');
  });
});
