/**
 * psm's host-key verdicts against a real `ssh` (StrictHostKeyChecking=yes, BatchMode) connecting
 * to a real sshd on 127.0.0.1, for psm-written known_hosts files: plain keys, patterns, markers,
 * a psm-hashed file, and host certificates served with HostCertificate.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import {
  checkHostKey,
  findHost,
  hashKnownHostsFile,
  parseKnownHostsFile,
  type HostKeyVerdict,
  type KnownHostsFileLine,
} from '../../src/authorized-keys/known-hosts/index.js';
import { parsePublicKey, type PublicKey } from '../../src/authorized-keys/keys/public-key.js';
import { loadKnownHostsTestKeys, testKey } from '../helpers/known-hosts-keys.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

const keys = loadKnownHostsTestKeys();
const k = (name: string): string => testKey(keys, name).text;

function parseValid(text: string): KnownHostsFileLine[] {
  const lines = parseKnownHostsFile(text);
  const invalid = lines.filter((l) => !l.result.ok);
  expect(invalid.map((l) => (l.result.ok ? null : [l.line, l.result.error.code, l.text]))).toEqual([]);
  return lines;
}

/** What a real ssh decided about the host key, read from its messages (BatchMode, so no prompt). */
async function sshVerdict(
  sshd: TestSshd,
  knownHostsFile: string,
  knownHosts: string,
  hostKeyAlgorithms: string,
): Promise<HostKeyVerdict> {
  await writeFile(knownHostsFile, knownHosts);
  const options = [
    `UserKnownHostsFile=${knownHostsFile}`,
    'GlobalKnownHostsFile=/dev/null',
    'StrictHostKeyChecking=yes',
    'BatchMode=yes',
    'UpdateHostKeys=no',
    `HostKeyAlgorithms=${hostKeyAlgorithms}`,
    'IdentitiesOnly=yes',
    'IdentityFile=/dev/null',
    'ConnectTimeout=20',
  ];
  const outcome = await runProgram(
    'ssh',
    [
      '-F',
      '/dev/null',
      ...options.flatMap((o) => ['-o', o]),
      '-p',
      String(sshd.port),
      `${sshd.user}@127.0.0.1`,
      'true',
    ],
    { timeoutMs: 60_000 },
  );
  const stderr = outcome.stderr.toString();
  if (/REVOKED HOST KEY/.test(stderr)) return 'revoked';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) return 'changed';
  if (/No \S+ host key is known for/.test(stderr)) return 'unknown';
  // Past the host key check, the login itself fails (no identity): the key was trusted.
  if (/Permission denied \(publickey\)/.test(stderr)) return 'trusted';
  throw new Error(`unexpected ssh outcome ${outcome.exitCode}: ${stderr}`);
}

describe('known_hosts conformance with a real ssh connecting to a real sshd', () => {
  let sshd: TestSshd;
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('kh-ssh');
  }, 120_000);
  afterAll(async () => {
    await sshd?.stop();
    await dir?.remove();
  });

  it('ssh and psm give the same verdict for psm-written known_hosts files', async () => {
    const [type = '', base64 = ''] = sshd.hostKeyPublic.split(' ');
    const serverKey = parsePublicKey(type, base64);
    expect(serverKey.ok).toBe(true);
    if (!serverKey.ok) return;
    const server = `${type} ${base64}`;
    const name = `[127.0.0.1]:${sshd.port}`;
    const cases: { label: string; text: string }[] = [
      { label: 'exact', text: `${name} ${server}\n` },
      { label: 'wildcard', text: `[127.0.0.?]:${sshd.port} ${server}\n` },
      { label: 'other key', text: `${name} ${k('ED_A')}\n` },
      { label: 'revoked after trust', text: `${name} ${server}\n@revoked ${name} ${server}\n` },
      { label: 'negated', text: `[127.0.0.*]:${sshd.port},!${name} ${server}\n` },
      { label: 'other port', text: `[127.0.0.1]:1 ${server}\n` },
      { label: 'plain key only as CA', text: `@cert-authority ${name} ${server}\n` },
      { label: 'in a host list', text: `localhost,${name} ${server}\n` },
    ];
    const hashedCase = hashKnownHostsFile(parseKnownHostsFile(`${name},other.example ${server}\n`));
    expect(hashedCase.ok).toBe(true);
    if (hashedCase.ok) cases.push({ label: 'psm-hashed', text: hashedCase.value.text });
    const seen = new Set<HostKeyVerdict>();
    for (const c of cases) {
      const lines = parseValid(c.text);
      const ours = checkHostKey(findHost(lines, name), serverKey.value, { host: '127.0.0.1' }).verdict;
      expect(await sshVerdict(sshd, join(dir.path, 'known_hosts'), c.text, 'ssh-ed25519'), c.label).toBe(
        ours,
      );
      seen.add(ours);
    }
    expect([...seen].sort()).toEqual(['changed', 'revoked', 'trusted', 'unknown']);
  }, 240_000);
});

describe('known_hosts conformance for host certificates with a real ssh and sshd', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('kh-cert');
  });
  afterAll(async () => {
    await dir?.remove();
  });

  async function keygen(args: string[]): Promise<void> {
    const outcome = await runProgram('ssh-keygen', ['-q', ...args], { timeoutMs: 30_000 });
    if (outcome.exitCode !== 0) throw new Error(`ssh-keygen ${args.join(' ')}: ${outcome.stderr.toString()}`);
  }

  async function publicKeyOf(path: string): Promise<PublicKey> {
    const [type = '', base64 = ''] = (await readFile(path, 'utf8')).trim().split(' ');
    const key = parsePublicKey(type, base64);
    if (!key.ok) throw new Error(`${path}: ${key.error.message}`);
    return key.value;
  }

  it('ssh and psm agree on CA trust, principals, certificate kind, revocation and plain-key fallback', async () => {
    const ca = join(dir.path, 'ca');
    const hostKey = join(dir.path, 'host');
    await keygen(['-t', 'ed25519', '-N', '', '-C', 'ca', '-f', ca]);
    await keygen(['-t', 'ed25519', '-N', '', '-C', 'host', '-f', hostKey]);
    const caText = (await readFile(`${ca}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    const hostText = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    const variants: { label: string; args: string[] }[] = [
      { label: 'principal 127.0.0.1', args: ['-h', '-n', '127.0.0.1'] },
      { label: 'wildcard principal', args: ['-h', '-n', '127.0.0.*'] },
      { label: 'other principal', args: ['-h', '-n', 'other.example'] },
      { label: 'no principals', args: ['-h'] },
      { label: 'user certificate', args: ['-n', '127.0.0.1'] },
      { label: 'expired', args: ['-h', '-n', '127.0.0.1', '-V', '20000101:20000102'] },
    ];
    for (const variant of variants) {
      const certDir = join(dir.path, variant.label.replace(/[^a-z0-9]+/gi, '-'));
      await mkdir(certDir, { recursive: true });
      const key = join(certDir, 'host');
      await writeFile(key, await readFile(hostKey), { mode: 0o600 });
      await writeFile(`${key}.pub`, await readFile(`${hostKey}.pub`));
      await keygen(['-s', ca, '-I', 'psm-test', ...variant.args, `${key}.pub`]);
      const cert = await publicKeyOf(`${key}-cert.pub`);
      const sshd = await startSshd({ extraConfig: [`HostKey ${key}`, `HostCertificate ${key}-cert.pub`] });
      try {
        const name = `[127.0.0.1]:${sshd.port}`;
        const files = [
          `@cert-authority ${name} ${caText}\n`,
          `@cert-authority [127.0.0.*]:* ${caText}\n${name} ${hostText}\n`,
          `@cert-authority ${name} ${caText}\n@revoked ${name} ${caText}\n`,
          `@cert-authority ${name} ${k('CA')}\n${name} ${k('ED_A')}\n`,
        ];
        for (const [index, text] of files.entries()) {
          const ours = checkHostKey(findHost(parseValid(text), name), cert, { host: '127.0.0.1' }).verdict;
          const theirs = await sshVerdict(
            sshd,
            join(certDir, 'known_hosts'),
            text,
            'ssh-ed25519-cert-v01@openssh.com,ssh-ed25519',
          );
          expect(`${variant.label} / file ${index}: ${theirs}`).toBe(
            `${variant.label} / file ${index}: ${ours}`,
          );
        }
      } finally {
        await sshd.stop();
      }
    }
  }, 300_000);
});
