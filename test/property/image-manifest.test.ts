/** Any valid worker image manifest survives serialize → parse unchanged, and its text is canonical. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseWorkerImageManifest,
  serializeWorkerImageManifest,
  WORKER_IMAGE_FORMAT,
  type WorkerImageManifest,
} from '../../src/guest-ops/image/manifest.js';

const isPrintable = (s: string): boolean =>
  [...s].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f);
const printable = fc.string({ minLength: 1, maxLength: 40 }).filter(isPrintable);
const fileName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,30}$/);
const manifest: fc.Arbitrary<WorkerImageManifest> = fc.record({
  format: fc.constant(WORKER_IMAGE_FORMAT),
  kernel: fileName,
  initrd: fileName,
  baseDisk: fileName,
  append: printable,
  kernelVersion: printable,
  guestUser: fc.stringMatching(/^[a-z_][a-z0-9_-]{0,31}$/),
  qgaPortName: printable,
  dhcpRenew: fc.record({
    path: printable.map((s) => `/${s}`),
    argv: fc.array(fc.oneof(printable, fc.constant('')), { maxLength: 8 }),
  }),
  allowedRpcs: fc.array(fc.stringMatching(/^guest-[a-z0-9-]{1,20}$/), { maxLength: 10 }),
  builtAt: fc.integer({ min: 0, max: 4_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
  inputs: fc.dictionary(printable, printable, { maxKeys: 8 }),
});

describe('worker image manifest round trip', () => {
  it('parse(serialize(m)) equals m, and serializing again gives the same text', () => {
    fc.assert(
      fc.property(manifest, (m) => {
        const text = serializeWorkerImageManifest(m);
        const parsed = parseWorkerImageManifest(text);
        expect(parsed).toEqual({ ok: true, value: m });
        if (parsed.ok) expect(serializeWorkerImageManifest(parsed.value)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
