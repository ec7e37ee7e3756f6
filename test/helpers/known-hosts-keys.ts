/** The real public keys of test/vectors/known-hosts/keys.txt (made by ssh-keygen), by name. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type VectorKey } from './vector-keys.js';
import { parsePublicKey, type PublicKey } from '../../src/authorized-keys/keys/public-key.js';

export const KNOWN_HOSTS_VECTOR_DIR = join(import.meta.dirname, '..', 'vectors', 'known-hosts');

export interface TestKey extends VectorKey {
  /** "type base64", as it appears in a known_hosts line. */
  readonly text: string;
  readonly key: PublicKey;
}

export function loadKnownHostsTestKeys(): Map<string, TestKey> {
  const keys = new Map<string, TestKey>();
  for (const line of readFileSync(join(KNOWN_HOSTS_VECTOR_DIR, 'keys.txt'), 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [name = '', type = '', base64 = ''] = line.split(' ');
    const key = parsePublicKey(type, base64);
    if (!key.ok) throw new Error(`keys.txt: ${name}: ${key.error.message}`);
    keys.set(name, { type, b64: base64, text: `${type} ${base64}`, key: key.value });
  }
  return keys;
}

export function testKey(keys: Map<string, TestKey>, name: string): TestKey {
  const key = keys.get(name);
  if (key === undefined) throw new Error(`no test key ${name}`);
  return key;
}
