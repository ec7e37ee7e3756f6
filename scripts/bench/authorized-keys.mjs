// authorized_keys: in-process parse rate and whole-process `psm keys inspect --json FILE`
// against `ssh-keygen -l -f FILE` on the same 10k- and 100k-line files (mixed key types, half
// the lines with options). In-process is measured two ways: streamed, one line at a time as
// `psm keys inspect` reads a file (authorizedKeysFileLines), and as one array of every parsed line
// (parseAuthorizedKeysFile). Prints figures; never fails on time. Needs `npm run build` first.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { authorizedKeysFileLines, parseAuthorizedKeysFile } = await import(
  pathToFileURL(join(root, 'dist/authorized-keys/index.js')).href
);
const { runProgram } = await import(pathToFileURL(join(root, 'dist/common/run-program.js')).href);

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

async function timed(fn) {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return {
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
    cpuSeconds: (used.user + used.system) / 1e6,
    value,
  };
}

async function best(times, fn) {
  let min = Infinity;
  let minCpu = Infinity;
  let value;
  const walls = [];
  for (let i = 0; i < times; i++) {
    const result = await timed(fn);
    walls.push(result.seconds);
    if (result.seconds < min) min = result.seconds;
    if (result.cpuSeconds < minCpu) minCpu = result.cpuSeconds;
    value = result.value;
  }
  walls.sort((a, b) => a - b);
  return { seconds: min, cpuSeconds: minCpu, medianSeconds: walls[walls.length >> 1], value };
}

/**
 * In-process runs per file size: enough for the JIT to settle on the small file (its first runs
 * are mostly compilation) and for a young-generation collection to land in some runs and not in
 * others, so the best and the median both mean something.
 */
const IN_PROCESS_RUNS = { 10_000: 30, 100_000: 10 };

export async function run() {
  const dir = await mkdtemp(join(tmpdir(), 'psm-bench-ak-'));
  try {
    const pool = keyPool();
    for (const lines of [10_000, 100_000]) {
      const file = join(dir, `authorized_keys.${lines}`);
      await writeFile(file, makeFile(pool, lines));
      const data = await readFile(file);
      // What inspect does in-process: parse every line and read every key's fingerprint, one
      // line at a time; then the same over the whole file's array of parsed lines.
      const streamed = await best(IN_PROCESS_RUNS[lines], () => {
        let invalid = 0;
        for (const row of authorizedKeysFileLines(data))
          if (!row.result.ok) invalid++;
          else if (row.result.value.kind === 'key') void row.result.value.key.fingerprint;
        return invalid;
      });
      const array = await best(IN_PROCESS_RUNS[lines], () => {
        const rows = parseAuthorizedKeysFile(data);
        for (const row of rows)
          if (row.result.ok && row.result.value.kind === 'key') void row.result.value.key.fingerprint;
        return rows.filter((row) => !row.result.ok).length;
      });
      if (streamed.value !== 0 || array.value !== 0) throw new Error('the bench file has invalid lines');
      const runs = lines > 10_000 ? 1 : 3; // ssh-keygen takes tens of seconds on 100k lines
      const psm = await best(runs, () =>
        runProgram(process.execPath, [join(root, 'bin/psm.js'), 'keys', 'inspect', '--json', file], {
          timeoutMs: 300_000,
        }),
      );
      const keygen = await best(3, () =>
        runProgram('ssh-keygen', ['-l', '-f', file], { timeoutMs: 300_000 }),
      );
      if (psm.value.exitCode !== 0 || keygen.value.exitCode !== 0)
        throw new Error('psm or ssh-keygen failed on the bench file');
      const load = (await import('node:os')).loadavg()[0].toFixed(1);
      const rates = (m) =>
        `${Math.round(lines / m.seconds).toLocaleString('en-US')} lines/s wall ` +
        `(median of ${IN_PROCESS_RUNS[lines]} runs ${Math.round(lines / m.medianSeconds).toLocaleString('en-US')}), ` +
        `${Math.round(lines / m.cpuSeconds).toLocaleString('en-US')} per CPU-second`;
      const size = `${String(lines).padStart(7)} lines`;
      console.log(
        `${size}, in-process, streamed as psm keys inspect reads: ${rates(streamed)} (target >= 300,000)`,
      );
      console.log(`${size}, in-process, as one array (parseAuthorizedKeysFile): ${rates(array)}`);
      console.log(
        `${size}, whole process: psm keys inspect --json ${psm.seconds.toFixed(3)} s, ` +
          `ssh-keygen -l -f ${keygen.seconds.toFixed(3)} s, ratio ${(psm.seconds / keygen.seconds).toFixed(2)} ` +
          `(target <= 1.00); load average ${load}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
