/** Fixtures for the policy tests: the vector keys and policy documents built from plain objects. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readKeyField, type PublicKey } from '../../src/authorized-keys/index.js';

export const POLICY_VECTORS = join(import.meta.dirname, '..', 'vectors', 'policy');
export const SHIPPED_POLICIES = join(import.meta.dirname, '..', '..', 'policies');

/** The real ssh-keygen keys of test/vectors/policy/public-keys.txt, parsed by the engine. */
export function loadVectorKeys(): PublicKey[] {
  const text = readFileSync(join(POLICY_VECTORS, 'public-keys.txt'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const parsed = readKeyField(line, 0);
      if (!parsed.ok) throw new Error(`vector key does not parse: ${parsed.error.message}`);
      return parsed.value.key;
    });
}

/** A policy document as a plain object (what a YAML file holds). */
export interface PolicyDocument {
  [field: string]: unknown;
}

export function basePolicyDocument(): PolicyDocument {
  return {
    apiVersion: 'psm/v1',
    kind: 'KeyPolicy',
    name: 'test-policy',
    description: 'A policy for tests.',
    owner: 'psm tests',
    role: 'main-node',
    command: {
      gate: '/usr/local/libexec/psm/gate-test-policy',
      popcobjrun: '/usr/local/popc/bin/popcobjrun',
    },
    objects: ['/usr/local/popc/objects/'],
    permitOpen: ['127.0.0.1:2711'],
    permitListen: [],
    from: ['10.0.0.0/8'],
    expiry: '7d',
  };
}

/** YAML text for a document; strings that need it are quoted and escaped by the yaml library. */
export function policyYaml(doc: PolicyDocument): string {
  return stringify(doc, { lineWidth: 0 });
}
