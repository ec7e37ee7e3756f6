/**
 * psm's key parser against the real OpenSSH key reader (`ssh-keygen -l -f`, which uses the same
 * sshkey_read as sshd): real keys and certificates from ssh-keygen, then byte flips, truncations
 * and appended bytes. Every variant must get the same verdict (and, when valid, the same bits and
 * fingerprint), except where psm is deliberately stricter (docs/authorized-keys.md).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../src/authorized-keys/index.js';
import { runProgram } from '../../src/common/run-program.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { seededRandom } from './authorized-keys-corpus.js';

/** psm refuses these where OpenSSH accepts (canonical encodings only); never the other way. */
const STRICTER = new Set(['NON_CANONICAL_MPINT']);

let dir: { path: string; remove: () => Promise<void> };
const originals: Array<{ name: string; type: string; base64: string }> = [];

async function keygen(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const outcome = await runProgram('ssh-keygen', args, { timeoutMs: 60_000 });
  return { code: outcome.exitCode, stdout: outcome.stdout.toString() };
}

beforeAll(async () => {
  dir = await makeTempDir('ak-keygen');
  const make = async (name: string, type: string, bits?: number): Promise<void> => {
    const extra = bits === undefined ? [] : ['-b', String(bits)];
    await keygen(['-q', '-t', type, '-N', '', '-C', name, '-f', join(dir.path, name), ...extra]);
  };
  await make('ed', 'ed25519');
  await make('ec256', 'ecdsa', 256);
  await make('ec384', 'ecdsa', 384);
  await make('ec521', 'ecdsa', 521);
  await make('rsa', 'rsa', 2048);
  await make('ca', 'ed25519');
  await make('carsa', 'rsa', 2048);
  await keygen(['-q', '-s', join(dir.path, 'ca'), '-I', 'id', '-n', 'a,b', join(dir.path, 'ed.pub')]);
  await keygen(['-q', '-s', join(dir.path, 'carsa'), '-I', 'id2', '-h', join(dir.path, 'ec256.pub')]);
  for (const name of ['ed', 'ec256', 'ec384', 'ec521', 'rsa', 'ed-cert', 'ec256-cert']) {
    const [type, base64] = (await readFile(join(dir.path, `${name}.pub`), 'utf8')).split(' ');
    originals.push({ name, type: type!, base64: base64! });
  }
}, 120_000);

afterAll(async () => {
  await dir?.remove();
});

function variants(random: () => number): Array<{ why: string; type: string; base64: string }> {
  const out: Array<{ why: string; type: string; base64: string }> = [];
  for (const { name, type, base64 } of originals) {
    const blob = Buffer.from(base64, 'base64');
    out.push({ why: `${name} as generated`, type, base64 });
    for (let i = 0; i < 24; i++) {
      const at = Math.floor(random() * blob.length);
      const bent = Buffer.from(blob);
      bent[at] = bent[at]! ^ (1 << Math.floor(random() * 8));
      out.push({ why: `${name} bit flip at ${at}`, type, base64: bent.toString('base64') });
    }
    for (let i = 0; i < 4; i++) {
      const cut = 1 + Math.floor(random() * (blob.length - 1));
      out.push({ why: `${name} cut to ${cut}`, type, base64: blob.subarray(0, cut).toString('base64') });
    }
    out.push({
      why: `${name} plus a byte`,
      type,
      base64: Buffer.concat([blob, Buffer.from([0])]).toString('base64'),
    });
    out.push({
      why: `${name} plus a string`,
      type,
      base64: Buffer.concat([blob, Buffer.alloc(4)]).toString('base64'),
    });
  }
  return out;
}

describe('key blobs: psm and ssh-keygen -l agree', () => {
  it('gives every variant the same verdict, bits and fingerprint', async () => {
    const cases = variants(seededRandom(7));
    expect(cases.length).toBeGreaterThan(200);
    const disagreements: string[] = [];
    let accepted = 0;
    for (const [index, c] of cases.entries()) {
      const file = join(dir.path, `v${index}.pub`);
      await writeFile(file, `${c.type} ${c.base64} v\n`);
      const openssh = await keygen(['-l', '-f', file]);
      const psm = parsePublicKey(c.type, c.base64);
      const sshOk = openssh.code === 0;
      if (psm.ok) accepted++;
      if (psm.ok && !sshOk) disagreements.push(`${c.why}: psm accepts, OpenSSH refuses`);
      if (!psm.ok && sshOk && !STRICTER.has(psm.error.code))
        disagreements.push(`${c.why}: psm refuses (${psm.error.code}), OpenSSH accepts`);
      if (psm.ok && sshOk) {
        const [bits, fingerprint] = openssh.stdout.split(' ');
        if (`${psm.value.bits} ${psm.value.fingerprint}` !== `${bits} ${fingerprint}`)
          disagreements.push(
            `${c.why}: psm ${psm.value.bits} ${psm.value.fingerprint}, OpenSSH ${bits} ${fingerprint}`,
          );
      }
    }
    expect(disagreements).toEqual([]);
    expect(accepted).toBeGreaterThan(originals.length);
  }, 300_000);
});
