/** The worker image manifest parser against the vectors in test/vectors/image/manifest-cases.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseWorkerImageManifest,
  serializeWorkerImageManifest,
} from '../../src/guest-ops/image/manifest.js';

interface Case {
  readonly name: string;
  readonly expect: string;
  readonly set?: Record<string, unknown>;
  readonly delete?: string[];
  readonly raw?: string;
}
const file = JSON.parse(readFileSync(join(__dirname, 'image', 'manifest-cases.json'), 'utf8')) as {
  base: Record<string, unknown>;
  cases: Case[];
};

function textOf(c: Case): string {
  if (c.raw !== undefined) return c.raw;
  const value: Record<string, unknown> = { ...file.base, ...c.set };
  for (const key of c.delete ?? []) delete value[key];
  return JSON.stringify(value);
}

describe('worker image manifest vectors', () => {
  it.each(file.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const parsed = parseWorkerImageManifest(textOf(c));
    if (c.expect === 'ok') {
      expect(parsed.ok).toBe(true);
      // Canonical text parses back to the same value.
      if (parsed.ok) expect(parseWorkerImageManifest(serializeWorkerImageManifest(parsed.value))).toEqual(parsed);
    } else {
      expect(parsed.ok ? 'ok' : parsed.error.code).toBe(c.expect);
    }
  });
});
