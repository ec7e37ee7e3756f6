// vault: unlock with the key file in-process (cold, with libsodium's load, and warm), Argon2id
// cost at the INTERACTIVE and MODERATE limits, seal/open per value, and whole-process
// `psm vault get --reveal` against `openssl enc -d` (what an admin would otherwise script to
// keep a password encrypted at rest). Prints figures; never fails on time. Needs `npm run build`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, root, samples, timeMs } from '../bench-support/timing.mjs';

export async function run() {
  const { runProgram } = await load('common/run-program.js');
  const { loadSodium } = await load('vault/sodium.js');
  const vault = await load('vault/index.js');
  const { deriveKey, newKdfParams } = await load('vault/master-key.js');
  const { sealSecret, openSealed } = await load('vault/sealed-value.js');
  const dir = await mkdtemp(join(tmpdir(), 'psm-bench-vault-'));
  const location = join(dir, 'popc');
  try {
    const made = await vault.initVault({ location, force: false, kind: 'qemu', kdfCost: 'min' });
    if (!made.ok) throw new Error(made.error.message);
    for (const path of ['hypervisor.password', 'worker.guest_password', 'secrets.token'])
      await vault.setSecret(location, path, Buffer.from(`value of ${path}`), {});

    // Cold: a fresh process pays once for importing the vault code and instantiating the
    // libsodium WASM; the first unlock after that is the figure a daemon start sees on top.
    const distUrl = (path) => JSON.stringify(pathToFileURL(join(root, 'dist', path)).href);
    const cold = await runProgram(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
         let t = process.hrtime.bigint(); const v = await import(${distUrl('vault/index.js')}); const imported = ms(t);
         t = process.hrtime.bigint(); await (await import(${distUrl('vault/sodium.js')})).loadSodium(); const sodium = ms(t);
         t = process.hrtime.bigint(); const o = await v.openVault(${JSON.stringify(location)}, {});
         v.openSecret(o.value, 'hypervisor.password').value.fill(0); o.value.close();
         process.stdout.write(JSON.stringify({ imported, sodium, unlock: ms(t) }));`,
      ],
      { timeoutMs: 60_000 },
    );
    const first = JSON.parse(cold.stdout.toString());
    const sodium = await loadSodium();
    const warm = await samples(200, async () => {
      const opened = await vault.openVault(location, {});
      const secret = vault.openSecret(opened.value, 'hypervisor.password');
      secret.value.fill(0);
      opened.value.close();
    });
    console.log(
      `unlock with key file + open one secret, in-process: first in a process ${first.unlock.toFixed(1)} ms, then ${warm.toFixed(2)} ms (median of 200)`,
    );
    console.log(
      `  once per process before that: import vault code ${first.imported.toFixed(0)} ms, instantiate libsodium WASM ${first.sodium.toFixed(0)} ms`,
    );

    for (const cost of ['interactive', 'moderate']) {
      const params = newKdfParams(cost);
      const ms = await samples(3, () => deriveKey(sodium, Buffer.from('a passphrase'), params).fill(0));
      console.log(
        `Argon2id ${cost}: opslimit ${params.opslimit}, memlimit ${params.memlimit / 1024 / 1024} MiB: ${ms.toFixed(0)} ms per unlock (median of 3)`,
      );
    }

    const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
    const secret = Buffer.from('a 32-byte hypervisor password!!!');
    const context = { fileId: '00112233445566778899aabbccddeeff', path: 'hypervisor.password' };
    const n = 20_000;
    let sealed = '';
    const sealMs = await timeMs(() => {
      for (let i = 0; i < n; i += 1) sealed = sealSecret(sodium, key, '0123456789abcdef', context, secret);
    });
    const openMs = await timeMs(() => {
      for (let i = 0; i < n; i += 1)
        openSealed(sodium, key, '0123456789abcdef', context, sealed).value.fill(0);
    });
    console.log(
      `seal one 32-byte value: ${((sealMs * 1000) / n).toFixed(1)} µs; open: ${((openMs * 1000) / n).toFixed(1)} µs (${n} each, incl. text format)`,
    );

    const psm = join(root, 'bin', 'psm.js');
    const psmMs = await samples(7, () =>
      runProgram(
        process.execPath,
        [psm, 'vault', 'get', 'hypervisor.password', '--reveal', '--location', location],
        { timeoutMs: 60_000 },
      ),
    );
    const pass = join(dir, 'openssl.pass');
    const enc = join(dir, 'secret.enc');
    await writeFile(pass, 'benchmark passphrase\n', { mode: 0o600 });
    const made2 = await runProgram(
      'openssl',
      ['enc', '-aes-256-cbc', '-pbkdf2', '-salt', '-pass', `file:${pass}`, '-out', enc],
      { timeoutMs: 20_000, input: 'value' },
    );
    if (made2.exitCode === 0) {
      const opensslMs = await samples(7, () =>
        runProgram('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-pass', `file:${pass}`, '-in', enc], {
          timeoutMs: 20_000,
        }),
      );
      console.log(
        `whole process, reveal one secret: psm vault get ${psmMs.toFixed(0)} ms; openssl enc -d (AES-CBC, no authentication, PBKDF2 10k) ${opensslMs.toFixed(0)} ms; ratio psm/openssl ${(psmMs / opensslMs).toFixed(1)}x`,
      );
    } else console.log(`whole process: psm vault get ${psmMs.toFixed(0)} ms (openssl not usable here)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
