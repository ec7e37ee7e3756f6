// known_hosts: in-process parse rate, and whole-process `psm known-hosts hash` / `psm known-hosts
// match` (in the hashed file) against `ssh-keygen -H` / `ssh-keygen -F` on the same 10k- and
// 100k-line files, paired runs in one bench run, medians (PSM_BENCH_ROUNDS=N, default 7).
// Prints figures; never fails on time. Needs `npm run build` first.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, pairedRuns, root } from '../bench-support/timing.mjs';

const kh = await load('authorized-keys/known-hosts/index.js');

function sshString(bytes) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * Ed25519 public keys in OpenSSH form. The 32 key bytes are random: neither ssh-keygen nor psm
 * checks an Ed25519 point (OpenSSH takes any 32 bytes), and making tens of thousands of real key
 * pairs with generateKeyPairSync sometimes hung this bench.
 */
function ed25519Pool(count) {
  const pool = [];
  for (let i = 0; i < count; i++) {
    const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(randomBytes(32))]);
    pool.push(`ssh-ed25519 ${blob.toString('base64')}`);
  }
  return pool;
}

/** Mixed file: plain names, host lists, ports, wildcards, markers, comments. */
function makeFile(lines, pool) {
  const out = [];
  for (let i = 0; i < lines; i++) {
    const key = pool[i % pool.length];
    switch (i % 10) {
      case 0:
        out.push(`# rack ${i}`);
        break;
      case 1:
        out.push(`node${i}.grid.example,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} ${key}`);
        break;
      case 2:
        out.push(`[node${i}.grid.example]:2222 ${key} port`);
        break;
      case 3:
        out.push(`*.rack${i}.example,!bad${i}.rack${i}.example ${key}`);
        break;
      case 4:
        out.push(`@revoked old${i}.grid.example ${key}`);
        break;
      default:
        out.push(`node${i}.grid.example ${key} worker`);
    }
  }
  return `${out.join('\n')}\n`;
}

const ROUNDS = Number(process.env.PSM_BENCH_ROUNDS) > 0 ? Number(process.env.PSM_BENCH_ROUNDS) : 7;

export async function run() {
  const dir = await mkdtemp(join(tmpdir(), 'psm-bench-kh-'));
  const psm = join(root, 'bin/psm.js');
  try {
    for (const lines of [10_000, 100_000]) {
      // About one key per three lines, as in a real file (a host's names and addresses share one).
      const pool = ed25519Pool(Math.ceil(lines / 3));
      const text = makeFile(lines, pool);
      const plain = join(dir, `kh-${lines}`);
      await writeFile(plain, text);
      const data = new Uint8Array(Buffer.from(text));

      const start = process.hrtime.bigint();
      const parsed = kh.parseKnownHostsFile(data);
      const parseMs = Number(process.hrtime.bigint() - start) / 1e6;
      const invalid = parsed.filter((l) => !l.result.ok).length;
      console.log(
        `${lines} lines: in-process parse ${parseMs.toFixed(0)} ms = ${Math.round(lines / (parseMs / 1000))} lines/s (${invalid} invalid)`,
      );

      // Hashing rewrites the file: each run hashes its own fresh copy of the plain file.
      const theirs = join(dir, `kh-${lines}-ssh`);
      const ours = join(dir, `kh-${lines}-psm`);
      const hash = await pairedRuns(
        ROUNDS,
        {
          keygen: { command: 'ssh-keygen', args: ['-H', '-f', theirs], setup: () => copyFile(plain, theirs) },
          psm: {
            command: process.execPath,
            args: [psm, 'known-hosts', 'hash', ours],
            setup: () => copyFile(plain, ours),
          },
        },
        'keygen',
      );
      console.log(
        `  hash, whole process, median of ${ROUNDS} paired runs: psm known-hosts hash ${hash.psm.ms.toFixed(0)} ms, ` +
          `ssh-keygen -H ${hash.keygen.ms.toFixed(0)} ms, ratio ${hash.psm.ratio.toFixed(2)} (target <= 1.00; ` +
          `exit ${hash.psm.exitCodes.join(',')}/${hash.keygen.exitCodes.join(',')})`,
      );

      // Look up the last host in the hashed file: every line's HMAC has to be computed.
      const target = `node${lines - 1}.grid.example`;
      const find = await pairedRuns(
        ROUNDS,
        {
          keygen: { command: 'ssh-keygen', args: ['-F', target, '-f', ours] },
          psm: { command: process.execPath, args: [psm, 'known-hosts', 'match', target, ours] },
        },
        'keygen',
      );
      console.log(
        `  lookup in the hashed file (${lines.toLocaleString('en-US')} lines hashed to ` +
          `${kh.parseKnownHostsFile(new Uint8Array(await readFile(ours))).length.toLocaleString('en-US')}), ` +
          `whole process, median of ${ROUNDS} paired runs: psm known-hosts match ${find.psm.ms.toFixed(0)} ms, ` +
          `ssh-keygen -F ${find.keygen.ms.toFixed(0)} ms, ratio ${find.psm.ratio.toFixed(2)} (target <= 1.00; ` +
          `exit ${find.psm.exitCodes.join(',')}/${find.keygen.exitCodes.join(',')})`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
