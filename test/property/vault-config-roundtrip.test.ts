import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/vault/config.js';
import { layoutOf } from '../../src/vault/layout.js';
import { renderConfig } from '../../src/vault/template.js';

/** What psm init writes is what the schema reads back, for any settings the schema allows. */
const printable = fc
  .string({ minLength: 1, maxLength: 60, unit: 'grapheme' })
  .filter((s) => !/[\p{Cc}]/u.test(s) && !s.startsWith('psm-sealed:'));

const seed = fc
  .record({
    maxVms: fc.integer({ min: 1, max: 1000 }),
    keep: fc.nat(),
    clones: fc.nat(),
    uri: printable,
    username: printable,
    datastore: printable,
    template: printable,
    cleanSnapshot: printable,
    namePrefix: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/),
    guestUser: fc.stringMatching(/^[a-z_][a-z0-9_-]{0,31}$/),
    kind: fc.constantFrom('qemu' as const, 'vsphere' as const),
  })
  .map((s) => ({ ...s, keepFree: s.keep % (s.maxVms + 1), cloneAtStart: s.clones % (s.maxVms + 1) }));

describe('virtual.conf written by init', () => {
  it('parses back to the same settings', () => {
    const layout = layoutOf('/srv/popc');
    fc.assert(
      fc.property(seed, (s) => {
        const text = renderConfig(
          {
            ...s,
            fileId: '00112233445566778899aabbccddeeff',
            keyId: '0123456789abcdef',
            kdf: undefined,
            sealed: new Map(),
          },
          layout,
        );
        const conf = parseConfigText(text, layout.configFile, '/srv/popc');
        expect(conf.ok ? 'ok' : conf.error.message).toBe('ok');
        if (!conf.ok) return;
        expect(conf.value.pool).toEqual({
          maxVms: s.maxVms,
          keepFree: s.keepFree,
          cloneAtStart: s.cloneAtStart,
          idleTimeoutSeconds: 3600,
          onAppEnd: 'revert',
        });
        expect(conf.value.worker).toMatchObject({
          namePrefix: s.namePrefix,
          template: s.template,
          cleanSnapshot: s.cleanSnapshot,
          guestUser: s.guestUser,
        });
        expect(conf.value.hypervisor.kind).toBe(s.kind);
        expect(conf.value.hypervisor.uri).toBe(s.uri);
        expect(conf.value.hypervisor.username).toBe(s.username);
        if (s.kind === 'vsphere') expect(conf.value.storage.datastore).toBe(s.datastore);
      }),
      { numRuns: 300 },
    );
  });
});
