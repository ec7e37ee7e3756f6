import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgram } from '../../src/common/run-program.js';
import { makeTempDir } from './temp-dir.js';

export type TestKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface TestKeyPair {
  /** The private key in OpenSSH format (what ssh2's `privateKey` option takes). */
  readonly privateKey: string;
  /** The public key as ssh-keygen writes it: "type base64 comment". */
  readonly publicLine: string;
}

/** A real key pair made by the real `ssh-keygen`, so tests exercise keys exactly as users have them. */
export async function generateKeyPair(
  type: TestKeyType,
  bits?: number,
  comment = 'psm-test',
): Promise<TestKeyPair> {
  const dir = await makeTempDir('key');
  try {
    const file = join(dir.path, 'id');
    const args = ['-q', '-t', type, '-N', '', '-C', comment, '-f', file];
    if (bits !== undefined) args.push('-b', String(bits));
    const outcome = await runProgram('ssh-keygen', args, { timeoutMs: 30_000 });
    if (outcome.exitCode !== 0) throw new Error(`ssh-keygen failed: ${outcome.stderr.toString()}`);
    const privateKey = await readFile(file, 'utf8');
    const publicLine = (await readFile(`${file}.pub`, 'utf8')).trim();
    return { privateKey, publicLine };
  } finally {
    await dir.remove();
  }
}
