import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY_TYPE_NAMES,
  parsePublicKey,
  publicKeyEquals,
  readKeyField,
  sha256Fingerprint,
} from '../../src/authorized-keys/keys/public-key.js';
import { runProgram } from '../../src/common/run-program.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let dir: { path: string; remove: () => Promise<void> };
const lines = new Map<string, string>();

async function keygen(args: string[]): Promise<string> {
  const outcome = await runProgram('ssh-keygen', args, { timeoutMs: 60_000 });
  if (outcome.exitCode !== 0) throw new Error(`ssh-keygen ${args.join(' ')}: ${outcome.stderr.toString()}`);
  return outcome.stdout.toString();
}

async function makeKey(name: string, type: string, bits?: number): Promise<void> {
  const file = join(dir.path, name);
  await keygen(['-q', '-t', type, '-N', '', '-C', name, '-f', file, ...(bits ? ['-b', String(bits)] : [])]);
  lines.set(name, (await readFile(`${file}.pub`, 'utf8')).trim());
}

async function makeCert(name: string, keyName: string, caName: string, extra: string[] = []): Promise<void> {
  await keygen([
    '-q',
    '-s',
    join(dir.path, caName),
    '-I',
    name,
    '-n',
    'alice,bob',
    ...extra,
    join(dir.path, `${keyName}.pub`),
  ]);
  lines.set(name, (await readFile(join(dir.path, `${keyName}-cert.pub`), 'utf8')).trim());
}

function fields(line: string): [string, string] {
  const [type, base64] = line.split(' ');
  return [type!, base64!];
}

beforeAll(async () => {
  dir = await makeTempDir('ak-pk');
  await makeKey('ed', 'ed25519');
  await makeKey('ec256', 'ecdsa', 256);
  await makeKey('ec384', 'ecdsa', 384);
  await makeKey('ec521', 'ecdsa', 521);
  await makeKey('rsa1024', 'rsa', 1024);
  await makeKey('rsa3072', 'rsa', 3072);
  await makeKey('ca-ed', 'ed25519');
  await makeKey('ca-ec', 'ecdsa', 384);
  await makeKey('ca-rsa', 'rsa', 2048);
  await makeCert('cert-ed-by-ed', 'ed', 'ca-ed');
  await makeCert('cert-ec256-by-ec', 'ec256', 'ca-ec', ['-O', 'force-command=/bin/true']);
  await makeCert('cert-rsa3072-by-rsa', 'rsa3072', 'ca-rsa');
  await makeCert('cert-ec521-by-rsa256', 'ec521', 'ca-rsa', ['-t', 'rsa-sha2-256', '-h']);
}, 120_000);

afterAll(async () => {
  await dir.remove();
});

describe('parsePublicKey against ssh-keygen -l', () => {
  it('gives the same bits, fingerprint and type for every generated key and certificate', async () => {
    expect(lines.size).toBe(13);
    for (const [name, line] of lines) {
      const [type, base64] = fields(line);
      const parsed = parsePublicKey(type, base64);
      if (!parsed.ok) throw new Error(`${name}: ${parsed.error.code} ${parsed.error.message}`);
      const isCert = name.startsWith('cert');
      const file = isCert ? `${name.split('-')[1]}-cert.pub` : `${name}.pub`;
      const listing = await keygen(['-l', '-E', 'sha256', '-f', join(dir.path, file)]);
      const [bits, fingerprint] = listing.split(' ');
      expect(parsed.value.bits, name).toBe(Number(bits));
      expect(parsed.value.fingerprint, name).toBe(fingerprint);
      expect(parsed.value.type).toBe(type);
      expect(parsed.value.certificate).toBe(name.startsWith('cert'));
      expect(parsed.value.base64).toBe(base64);
    }
  });

  it('fingerprints a certificate by its plain key, like ssh-keygen -l', async () => {
    const file = join(dir.path, 'certcheck.pub');
    await runProgram('cp', [join(dir.path, 'ed-cert.pub'), file], { timeoutMs: 10_000 });
    const [type, base64] = fields(lines.get('cert-ed-by-ed')!);
    const parsed = parsePublicKey(type, base64);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const [bits, fingerprint] = (await keygen(['-l', '-f', file])).split(' ');
    expect(parsed.value.fingerprint).toBe(fingerprint);
    expect(parsed.value.bits).toBe(Number(bits));
    expect(parsed.value.cert?.principals).toEqual(['alice', 'bob']);
    expect(parsed.value.cert?.certType).toBe('user');
    const plain = parsePublicKey(...fields(lines.get('ed')!));
    expect(plain.ok && plain.value.fingerprint).toBe(parsed.value.fingerprint);
  });

  it('reads certificate details (host cert, rsa-sha2-256 CA signature, critical options)', () => {
    const host = parsePublicKey(...fields(lines.get('cert-ec521-by-rsa256')!));
    expect(host.ok && host.value.cert?.certType).toBe('host');
    expect(host.ok && host.value.bits).toBe(521);
    const forced = parsePublicKey(...fields(lines.get('cert-ec256-by-ec')!));
    expect(forced.ok && forced.value.cert?.criticalOptions).toEqual(['force-command']);
    expect(forced.ok && forced.value.cert?.signatureKeyType).toBe('ecdsa-sha2-nistp384');
  });
});

describe('parsePublicKey refuses what sshd refuses', () => {
  const tamper = (base64: string, index: number): string => {
    const blob = Buffer.from(base64, 'base64');
    blob[index] = blob[index]! ^ 0x01;
    return blob.toString('base64');
  };
  const code = (type: string, base64: string): string => {
    const parsed = parsePublicKey(type, base64);
    return parsed.ok ? 'OK' : parsed.error.code;
  };

  it('refuses unknown types, bad base64 and type mismatches', () => {
    const [type, base64] = fields(lines.get('ed')!);
    expect(code('ssh-dss', base64)).toBe('UNKNOWN_KEY_TYPE');
    expect(code('SSH-ED25519', base64)).toBe('UNKNOWN_KEY_TYPE');
    const [padType, padded] = fields(lines.get('ec256')!);
    expect(padded.endsWith('=')).toBe(true);
    expect(code(padType, padded.replace(/=+$/, ''))).toBe('BAD_BASE64');
    expect(code(type, `${base64.slice(0, 4)}\n${base64.slice(4)}`)).toBe('BAD_BASE64');
    expect(code(type, '')).toBe('MISSING_KEY_DATA');
    expect(code('ssh-rsa', base64)).toBe('KEY_TYPE_MISMATCH');
    const [ecType, ecBase64] = fields(lines.get('ec256')!);
    expect(code('ecdsa-sha2-nistp384', ecBase64)).toBe('KEY_TYPE_MISMATCH');
    expect(code(ecType, ecBase64)).toBe('OK');
  });

  it('refuses non-zero padding bits (non-canonical base64)', () => {
    const [type, base64] = fields(lines.get('ec256')!);
    // "...Q=" style endings carry 2 spare bits; flip one of them.
    const last = base64.replace(/=+$/, '').slice(-1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const bumped = alphabet[alphabet.indexOf(last) + 1]!;
    const mangled = base64.replace(/.(=+)$/, `${bumped}$1`);
    expect(code(type, mangled)).toBe('BAD_BASE64');
  });

  it('refuses trailing bytes, truncation, bad EC points and tampered certificates', () => {
    const [type, base64] = fields(lines.get('ed')!);
    const blob = Buffer.from(base64, 'base64');
    expect(code(type, Buffer.concat([blob, Buffer.from([0])]).toString('base64'))).toBe('TRAILING_DATA');
    expect(code(type, blob.subarray(0, blob.length - 1).toString('base64'))).toBe('MALFORMED_KEY_BLOB');
    const [ecType, ecBase64] = fields(lines.get('ec256')!);
    expect(code(ecType, tamper(ecBase64, Buffer.from(ecBase64, 'base64').length - 1))).toBe(
      'INVALID_EC_POINT',
    );
    const [certType, certBase64] = fields(lines.get('cert-ed-by-ed')!);
    const certBlob = Buffer.from(certBase64, 'base64');
    expect(code(certType, tamper(certBase64, certBlob.length - 5))).toBe('BAD_CERT_SIGNATURE');
    // Flip a byte of the nonce: the signature no longer covers the data.
    expect(code(certType, tamper(certBase64, 4 + certType.length + 4 + 3))).toBe('BAD_CERT_SIGNATURE');
    const [rsaCertType, rsaCertBase64] = fields(lines.get('cert-rsa3072-by-rsa')!);
    expect(code(rsaCertType, tamper(rsaCertBase64, Buffer.from(rsaCertBase64, 'base64').length - 9))).toBe(
      'BAD_CERT_SIGNATURE',
    );
  });

  it('refuses RSA moduli below 1024 bits and non-canonical mpints', () => {
    const ssh = (parts: Buffer[]): string =>
      Buffer.concat(
        parts.flatMap((p) => [Buffer.from([0, 0, (p.length >> 8) & 0xff, p.length & 0xff]), p]),
      ).toString('base64');
    const modulus = (bytes: number): Buffer => {
      const n = Buffer.alloc(bytes, 0x5a);
      n[0] = 0x7f;
      return n;
    };
    const e = Buffer.from([1, 0, 1]);
    expect(code('ssh-rsa', ssh([Buffer.from('ssh-rsa'), e, modulus(127)]))).toBe('BAD_KEY_LENGTH');
    expect(code('ssh-rsa', ssh([Buffer.from('ssh-rsa'), e, modulus(129)]))).toBe('OK');
    expect(code('ssh-rsa', ssh([Buffer.from('ssh-rsa'), Buffer.from([0, 1, 0, 1]), modulus(129)]))).toBe(
      'NON_CANONICAL_MPINT',
    );
    expect(
      code('ssh-rsa', ssh([Buffer.from('ssh-rsa'), e, Buffer.concat([Buffer.from([0xff]), modulus(128)])])),
    ).toBe('NON_CANONICAL_MPINT');
  });
});

describe('names sshd treats as the same type', () => {
  const rewrap = (base64: string, name: string): string => {
    const blob = Buffer.from(base64, 'base64');
    const body = blob.subarray(4 + blob.readUInt32BE(0));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(name.length);
    return Buffer.concat([length, Buffer.from(name), body]).toString('base64');
  };

  it('accepts a short name inside the blob and fingerprints the canonical key, like ssh-keygen', () => {
    const [type, base64] = fields(lines.get('ed')!);
    const plain = parsePublicKey(type, base64);
    for (const name of ['ED25519', 'ed25519', 'Ed25519']) {
      const parsed = parsePublicKey(type, rewrap(base64, name));
      expect(parsed.ok && parsed.value.fingerprint).toBe(plain.ok && plain.value.fingerprint);
      expect(parsed.ok && plain.ok && publicKeyEquals(parsed.value, plain.value)).toBe(true);
    }
    const [ecType, ecBase64] = fields(lines.get('ec256')!);
    const ecdsa = parsePublicKey(ecType, rewrap(ecBase64, 'ECDSA'));
    expect(ecdsa.ok ? 'OK' : ecdsa.error.code).toBe('KEY_TYPE_MISMATCH');
  });

  it('reads rsa-sha2-256/512 type names as ssh-rsa', () => {
    const [, base64] = fields(lines.get('rsa1024')!);
    for (const alias of ['rsa-sha2-256', 'rsa-sha2-512']) {
      const parsed = parsePublicKey(alias, base64);
      expect(parsed.ok && parsed.value.type).toBe('ssh-rsa');
    }
  });
});

describe('security-key types (crafted blobs, as no FIDO device is attached)', () => {
  const str = (value: Buffer | string): Buffer => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };

  it('parses sk-ssh-ed25519 and sk-ecdsa keys and fingerprints them like ssh-keygen', async () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const edBlob = Buffer.concat([
      str('sk-ssh-ed25519@openssh.com'),
      str(Buffer.from(ed.x!, 'base64url')),
      str('ssh:'),
    ]);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(ec.x!, 'base64url'),
      Buffer.from(ec.y!, 'base64url'),
    ]);
    const ecBlob = Buffer.concat([
      str('sk-ecdsa-sha2-nistp256@openssh.com'),
      str('nistp256'),
      str(point),
      str('ssh:'),
    ]);
    for (const [type, blob] of [
      ['sk-ssh-ed25519@openssh.com', edBlob],
      ['sk-ecdsa-sha2-nistp256@openssh.com', ecBlob],
    ] as const) {
      const parsed = parsePublicKey(type, blob.toString('base64'));
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.value.bits).toBe(256);
      const file = join(dir.path, `sk-${type.length}.pub`);
      await import('node:fs/promises').then((fs) =>
        fs.writeFile(file, `${type} ${blob.toString('base64')} sk\n`),
      );
      const [bits, fingerprint] = (await keygen(['-l', '-f', file])).split(' ');
      expect(parsed.value.fingerprint).toBe(fingerprint);
      expect(parsed.value.bits).toBe(Number(bits));
    }
  });

  it('verifies a certificate signed by an sk-ssh-ed25519 CA (FIDO signature construction)', () => {
    const ca = generateKeyPairSync('ed25519');
    const caX = Buffer.from(ca.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const subject = Buffer.from(
      generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!,
      'base64url',
    );
    const u64 = (v: bigint): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(v);
      return b;
    };
    const u32 = (v: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(v);
      return b;
    };
    const caBlob = Buffer.concat([str('sk-ssh-ed25519@openssh.com'), str(caX), str('ssh:')]);
    const signed = Buffer.concat([
      str('ssh-ed25519-cert-v01@openssh.com'),
      str(Buffer.alloc(32, 7)),
      str(subject),
      u64(1n),
      u32(1),
      str('id'),
      str(str('alice')),
      u64(0n),
      u64(0xffffffffffffffffn),
      str(''),
      str(''),
      str(''),
      str(caBlob),
    ]);
    const flags = Buffer.from([1]);
    const counter = u32(5);
    const message = Buffer.concat([
      createHash('sha256').update('ssh:').digest(),
      flags,
      counter,
      createHash('sha256').update(signed).digest(),
    ]);
    const signature = sign(null, message, ca.privateKey);
    const sigBlob = Buffer.concat([str('sk-ssh-ed25519@openssh.com'), str(signature), flags, counter]);
    const cert = Buffer.concat([signed, str(sigBlob)]);
    const parsed = parsePublicKey('ssh-ed25519-cert-v01@openssh.com', cert.toString('base64'));
    expect(parsed.ok).toBe(true);
    const badCounter = Buffer.concat([
      signed,
      str(Buffer.concat([str('sk-ssh-ed25519@openssh.com'), str(signature), flags, u32(6)])),
    ]);
    const refused = parsePublicKey('ssh-ed25519-cert-v01@openssh.com', badCounter.toString('base64'));
    expect(refused.ok ? 'OK' : refused.error.code).toBe('BAD_CERT_SIGNATURE');
  });
});

describe('ECDSA point validation', () => {
  it('accepts points made by node:crypto on every curve and refuses them with y changed', async () => {
    const { isValidPublicPoint } = await import('../../src/authorized-keys/keys/ec-point.js');
    for (const [curve, name] of [
      ['P-256', 'nistp256'],
      ['P-384', 'nistp384'],
      ['P-521', 'nistp521'],
    ] as const) {
      for (let i = 0; i < 25; i++) {
        const jwk = generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' });
        const point = Buffer.concat([
          Buffer.from([4]),
          Buffer.from(jwk.x!, 'base64url'),
          Buffer.from(jwk.y!, 'base64url'),
        ]);
        expect(isValidPublicPoint(name, point), `${curve} #${i}`).toBe(true);
        const bent = Buffer.from(point);
        bent[bent.length - 1] = bent[bent.length - 1]! ^ 0x01;
        expect(isValidPublicPoint(name, bent)).toBe(false);
        expect(isValidPublicPoint(name, Buffer.concat([Buffer.from([2]), point.subarray(1)]))).toBe(false);
      }
    }
  });
});

describe('readKeyField, equality and the type list', () => {
  it('reads type and data after blanks and stops at the comment', () => {
    const line = lines.get('ed')!;
    const read = readKeyField(`  \t${line}`, 0);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(`  \t${line}`.slice(read.value.end)).toBe('ed');
    const again = parsePublicKey(...fields(line));
    expect(again.ok && publicKeyEquals(again.value, read.value.key)).toBe(true);
    const other = parsePublicKey(...fields(lines.get('ec256')!));
    expect(other.ok && publicKeyEquals(other.value, read.value.key)).toBe(false);
  });

  it('needs a blank after the type and data after it, with columns', () => {
    const r1 = readKeyField('ssh-ed25519', 0);
    expect(!r1.ok && r1.error.code).toBe('MISSING_KEY_DATA');
    const r2 = readKeyField('ssh-ed25519  \t', 0);
    expect(!r2.ok && r2.error.code).toBe('MISSING_KEY_DATA');
    const r3 = readKeyField('  ssh-foo AAAA', 0);
    expect(!r3.ok && r3.error).toMatchObject({ code: 'UNKNOWN_KEY_TYPE', column: 3 });
    const r4 = readKeyField('ssh-ed25519 AAAA', 0);
    expect(!r4.ok && r4.error).toMatchObject({ column: 13 });
  });

  it('lists 14 type names and fingerprints like sha256 base64 without padding', () => {
    expect(KEY_TYPE_NAMES).toHaveLength(14);
    expect(sha256Fingerprint(new Uint8Array())).toBe('SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU');
  });
});
