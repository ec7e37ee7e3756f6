// known_hosts: in-process parse rate, lookup of a hashed name (psm vs `ssh-keygen -F`), and
// whole-process `psm known-hosts match` / `psm known-hosts hash` against `ssh-keygen -F` /
// `ssh-keygen -H` on the same 10k- and 100k-line files. Prints figures; never fails on time.
// Needs `npm run build` first.
import { generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kh = await import(pathToFileURL(join(root, 'dist/authorized-keys/known-hosts.js')).href);
const { runProgram } = await import(pathToFileURL(join(root, 'dist/common/run-program.js')).href);

function sshString(bytes) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function ed25519Pool(count) {
  const pool = [];
  for (let i = 0; i < count; i++) {
    const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const blob = Buffer.concat([
      sshString(Buffer.from('ssh-ed25519')),
      sshString(Buffer.from(jwk.x, 'base64url')),
    ]);
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

async function timeProcess(file, args) {
  const start = process.hrtime.bigint();
  const outcome = await runProgram(file, args, { timeoutMs: 600_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, outcome };
}

export async function run() {
  const dir = await mkdtemp(join(tmpdir(), 'psm-bench-kh-'));
  try {
    for (const lines of [10_000, 100_000]) {
      // About one key per three lines, as in a real file (a host's names and addresses share one).
      const pool = ed25519Pool(Math.ceil(lines / 3));
      const text = makeFile(lines, pool);
      const plain = join(dir, `kh-${lines}`);
      await writeFile(plain, text);
      const data = new Uint8Array(Buffer.from(text));

      let start = process.hrtime.bigint();
      const parsed = kh.parseKnownHostsFile(data);
      const parseMs = Number(process.hrtime.bigint() - start) / 1e6;
      const invalid = parsed.filter((l) => !l.result.ok).length;
      console.log(
        `${lines} lines: in-process parse ${parseMs.toFixed(0)} ms = ${Math.round(lines / (parseMs / 1000))} lines/s (${invalid} invalid)`,
      );

      // Hash with ssh-keygen (the tool a user would use) and with psm, on copies of the same file.
      const theirs = join(dir, `kh-${lines}-ssh`);
      const ours = join(dir, `kh-${lines}-psm`);
      await copyFile(plain, theirs);
      await copyFile(plain, ours);
      const sshHash = await timeProcess('ssh-keygen', ['-H', '-f', theirs]);
      const psmHash = await timeProcess(process.execPath, [
        join(root, 'bin/psm.js'),
        'known-hosts',
        'hash',
        ours,
      ]);
      console.log(
        `  hash: psm ${psmHash.ms.toFixed(0)} ms, ssh-keygen -H ${sshHash.ms.toFixed(0)} ms, ratio ${(psmHash.ms / sshHash.ms).toFixed(2)} (exit ${psmHash.outcome.exitCode}/${sshHash.outcome.exitCode})`,
      );

      // Look up the last host in the hashed file: every line's HMAC has to be computed.
      const target = `node${lines - 1}.grid.example`;
      const hashedLines = kh.parseKnownHostsFile(
        new Uint8Array(await import('node:fs/promises').then((f) => f.readFile(ours))),
      );
      start = process.hrtime.bigint();
      const found = kh.findHost(hashedLines, target);
      const findMs = Number(process.hrtime.bigint() - start) / 1e6;
      const sshFind = await timeProcess('ssh-keygen', ['-F', target, '-f', ours]);
      const psmFind = await timeProcess(process.execPath, [
        join(root, 'bin/psm.js'),
        'known-hosts',
        'match',
        target,
        ours,
      ]);
      console.log(
        `  lookup in hashed file: in-process ${findMs.toFixed(0)} ms (${found.length} match); whole process psm ${psmFind.ms.toFixed(0)} ms, ssh-keygen -F ${sshFind.ms.toFixed(0)} ms, ratio ${(psmFind.ms / sshFind.ms).toFixed(2)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
