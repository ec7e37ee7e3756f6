// authorized_keys: whole-process `psm keys inspect --json FILE` and the table (`psm keys inspect
// FILE`) against `ssh-keygen -l -f FILE` on the same file, paired runs in one bench run, medians:
// on two mixes (Ed25519 and RSA keys; the ECDSA-heavy mix of every key type), half the lines
// with options, at 100k and 1M lines; with each command's peak memory. Also the in-process rate
// of the streamed parse. Prints figures; never fails on time. Needs `npm run build` first.
// PSM_BENCH_ROUNDS=N sets the rounds (default 5 at 100k lines, 3 at 1M, 1 for 1M ECDSA-heavy
// lines, where ssh-keygen alone takes minutes).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, pairedRuns, root } from '../bench-support/timing.mjs';

const OPTION_SETS = [
  'restrict',
  'restrict,pty',
  'command="/usr/bin/rsync --server --sender -vlogDtpre.iLsfxC . /data",no-pty,no-agent-forwarding',
  'from="10.0.0.0/8,192.168.1.*",no-X11-forwarding',
  'restrict,permitopen="localhost:8080",permitlisten="9000"',
  'environment="PATH=/usr/bin",expiry-time="20991231"',
];

function sshString(bytes) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function mpint(bytes) {
  let b = Buffer.from(bytes);
  while (b.length > 1 && b[0] === 0 && (b[1] & 0x80) === 0) b = b.subarray(1);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

/** A pool of distinct real keys in OpenSSH wire form, made with node:crypto (fast, no prompts). */
export function keyPool() {
  const pool = [];
  const add = (type, parts) =>
    pool.push(`${type} ${Buffer.concat([sshString(Buffer.from(type)), ...parts]).toString('base64')}`);
  for (let i = 0; i < 400; i++) {
    const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    add('ssh-ed25519', [sshString(Buffer.from(jwk.x, 'base64url'))]);
  }
  for (const [count, curve, name] of [
    [250, 'P-256', 'nistp256'],
    [100, 'P-384', 'nistp384'],
    [50, 'P-521', 'nistp521'],
  ]) {
    for (let i = 0; i < count; i++) {
      const jwk = generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' });
      const point = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(jwk.x, 'base64url'),
        Buffer.from(jwk.y, 'base64url'),
      ]);
      add(`ecdsa-sha2-${name}`, [sshString(Buffer.from(name)), sshString(point)]);
    }
  }
  for (let i = 0; i < 40; i++) {
    const jwk = generateKeyPairSync('rsa', { modulusLength: i % 4 === 0 ? 4096 : 2048 }).publicKey.export({
      format: 'jwk',
    });
    add('ssh-rsa', [mpint(Buffer.from(jwk.e, 'base64url')), mpint(Buffer.from(jwk.n, 'base64url'))]);
  }
  return pool;
}

export function makeFile(pool, lines) {
  const out = [];
  for (let i = 0; i < lines; i++) {
    const key = pool[(i * 7919) % pool.length];
    const options = i % 2 === 0 ? `${OPTION_SETS[(i >> 1) % OPTION_SETS.length]} ` : '';
    out.push(`${options}${key} user${i}@host${i % 97}.example.org`);
  }
  return `${out.join('\n')}\n`;
}

const MIXES = [
  { name: 'Ed25519+RSA', keys: (pool) => pool.filter((key) => !key.startsWith('ecdsa-')) },
  { name: 'ECDSA-heavy', keys: (pool) => pool },
];

function rounds(lines, mix) {
  const asked = Number(process.env.PSM_BENCH_ROUNDS);
  if (Number.isInteger(asked) && asked > 0) return asked;
  if (lines < 1_000_000) return 5;
  return mix.name === 'ECDSA-heavy' ? 1 : 3;
}

const mib = (value) => (value === null ? 'n/a' : `${value.toFixed(1)} MiB`);

export async function run() {
  const { authorizedKeysFileLines } = await load('authorized-keys/index.js');
  const dir = await mkdtemp(join(tmpdir(), 'psm-bench-ak-'));
  const psm = join(root, 'bin/psm.js');
  try {
    const pool = keyPool();
    for (const mix of MIXES)
      for (const lines of [100_000, 1_000_000]) {
        const file = join(dir, `authorized_keys.${lines}`);
        await writeFile(file, makeFile(mix.keys(pool), lines));
        const size = `${mix.name}, ${lines.toLocaleString('en-US')} lines`;
        if (lines === 100_000) {
          // In process, as inspect reads a file: every line parsed and every key's fingerprint read.
          const data = await readFile(file);
          let best = Infinity;
          for (let i = 0; i < 5; i++) {
            const start = process.hrtime.bigint();
            for (const row of authorizedKeysFileLines(data))
              if (!row.result.ok) throw new Error('the bench file has invalid lines');
              else if (row.result.value.kind === 'key') void row.result.value.key.fingerprint;
            best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
          }
          console.log(
            `${size}: in process, streamed: ${Math.round(lines / best).toLocaleString('en-US')} lines/s`,
          );
        }
        const n = rounds(lines, mix);
        const result = await pairedRuns(
          n,
          {
            keygen: { command: 'ssh-keygen', args: ['-l', '-f', file] },
            json: { command: process.execPath, args: [psm, 'keys', 'inspect', '--json', file] },
            table: { command: process.execPath, args: [psm, 'keys', 'inspect', file] },
          },
          'keygen',
        );
        for (const name of ['keygen', 'json', 'table'])
          if (result[name].exitCodes.some((code) => code !== 0))
            throw new Error(`${name} failed on the bench file (exit ${result[name].exitCodes.join(',')})`);
        const { keygen, json, table } = result;
        console.log(
          `${size}, whole process, median of ${n} paired run(s): ` +
            `ssh-keygen -l -f ${(keygen.ms / 1000).toFixed(2)} s (peak ${mib(keygen.peakMiB)}); ` +
            `psm keys inspect --json ${(json.ms / 1000).toFixed(2)} s, ratio ${json.ratio.toFixed(2)}, ` +
            `peak ${mib(json.maxPeakMiB)}; table ${(table.ms / 1000).toFixed(2)} s, ` +
            `ratio ${table.ratio.toFixed(2)}, peak ${mib(table.maxPeakMiB)} ` +
            `(targets: ratio <= 1.00, peak < 64 MiB)`,
        );
        await rm(file);
      }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
