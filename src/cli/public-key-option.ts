import type { PublicKey } from '../authorized-keys/keys/public-key.js';
import { CliFailure } from './failure.js';

/** The key of a `--key PUBFILE` option (src/psm/public-key-file.ts), or the coded failure. */
export async function readPublicKeyOption(path: string): Promise<PublicKey> {
  const { readPublicKeyFile, publicKeyFileErrorCategory } = await import('../psm/public-key-file.js');
  const key = await readPublicKeyFile(path);
  if (key.ok) return key.value;
  throw new CliFailure(key.error.code, key.error.message, publicKeyFileErrorCategory(key.error.code));
}
