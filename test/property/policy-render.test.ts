/**
 * Properties of key-line generation (issue 3, (a)-(c)), 10,000 runs each: policy documents with
 * adversarial strings in every field go through the real YAML parser and schema, and the
 * renderer with adversarial app ids and worker names and the real vector keys. The expected
 * meaning is computed here from the document, independently of the renderer's own check.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAuthorizedKeysLine, type KeyOptions, type PublicKey } from '../../src/authorized-keys/index.js';
import { parseExpiryTime } from '../../src/authorized-keys/lines/option-values.js';
import { parsePolicy } from '../../src/psm/policy/index.js';
import { NO_LISTEN_SENTINEL, renderKeyLine } from '../../src/psm/render-key-line.js';
import {
  basePolicyDocument,
  loadVectorKeys,
  policyYaml,
  type PolicyDocument,
} from '../helpers/policy-fixtures.js';

const RUNS = 10_000;
const keys = loadVectorKeys();

const SPECIALS = [
  '"',
  "'",
  '\\',
  ',',
  ' ',
  '\t',
  '\r',
  '\n',
  '\0',
  '#',
  '=',
  '*',
  '?',
  '!',
  '$',
  '`',
  ';',
  '|',
  '&',
];
const MORE = [
  '(',
  ')',
  '<',
  '>',
  '[',
  ']',
  '{',
  '}',
  '..',
  '/',
  ':',
  '@',
  '%',
  '~',
  'é',
  '\u202e',
  '\u{1F600}',
  '\ufeff',
];
const special = fc.constantFrom(...SPECIALS, ...MORE);

// Valid values, varied enough that many documents are accepted and rendered.
const seg = fc.stringMatching(/^[a-z0-9_-]{1,8}$/).filter((s) => !s.startsWith('.'));
const absPath = fc.array(seg, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
// Object names never spell a shell or launcher (those are refused: test/vectors/policy/invalid).
const objectPath = fc
  .array(
    seg.map((s) => `obj${s}`),
    { minLength: 1, maxLength: 4 },
  )
  .chain((parts) => fc.constantFrom(`/${parts.join('/')}`, `/${parts.join('/')}/`));
const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));
const host = fc.oneof(fc.ipV4(), hostName, fc.constantFrom('[::1]', '[fe80::1]', '[2001:db8::5]'));
const port = fc.integer({ min: 1, max: 65_535 }).map(String);
const hostPort = fc.tuple(host, port).map(([h, p]) => `${h}:${p}`);
const cidr = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([n, bits]) => {
    const masked = bits === 0 ? 0 : (n & (0xffffffff << (32 - bits))) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.')}/${bits}`;
  });
const fromEntry = fc.oneof(cidr, fc.ipV4(), fc.constantFrom('10.0.*', '192.168.?.1', '::1', '2001:db8::/32'));
const expiry = fc
  .tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom('s', 'm', 'h', 'd', 'w'))
  .map(([n, u]) => `${n}${u}`);
const contextId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}$/);

/** Hostile strings: raw unicode, piles of special characters, a valid value with one injected, very long. */
function hostile(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc
      .array(fc.oneof(special, fc.constantFrom('a', '1', '.', '/')), { maxLength: 25 })
      .map((a) => a.join('')),
    fc
      .tuple(valid, special, fc.nat())
      .map(([v, s, i]) => `${v.slice(0, i % (v.length + 1))}${s}${v.slice(i % (v.length + 1))}`),
    fc.tuple(valid, fc.integer({ min: 300, max: 3000 })).map(([v, n]) => v.padEnd(n, 'a')),
  );
}
/** Mostly valid values, sometimes hostile: most documents parse, and every field sees hostile input. */
function mostly(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: hostile(valid), weight: 1 });
}
const list = (item: fc.Arbitrary<string>, max: number): fc.Arbitrary<string[]> =>
  fc.array(mostly(item), { maxLength: max });

const documentArb: fc.Arbitrary<PolicyDocument> = fc
  .record({
    name: mostly(label),
    description: mostly(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '')),
    owner: mostly(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 .@<>-]{0,30}$/)),
    role: mostly(fc.constantFrom('admin', 'main-node', 'initiator')),
    // fc.option's freq is the odds of undefined (1 in freq): undefined here means psm's own gate.
    gate: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 4 },
      { arbitrary: mostly(absPath), weight: 1 },
    ),
    popcobjrun: mostly(absPath),
    objects: list(objectPath, 3),
    permitOpen: list(hostPort, 3),
    from: list(fromEntry, 3),
    expiry: fc.option(mostly(expiry), { nil: undefined }),
  })
  .map((r) => {
    const doc: PolicyDocument = {
      ...basePolicyDocument(),
      name: r.name,
      description: r.description,
      owner: r.owner,
      role: r.role,
      // Mostly the gate psm generates for the policy (the only gate that may render), sometimes any path.
      command: { gate: r.gate ?? `/usr/local/libexec/psm/gate-${r.name}`, popcobjrun: r.popcobjrun },
      objects: [...new Set(r.objects)],
      permitOpen: [...new Set(r.permitOpen)],
      from: [...new Set(r.from)],
    };
    if (r.expiry === undefined) delete doc.expiry;
    else doc.expiry = r.expiry;
    return doc;
  });

const caseArb = fc.record({
  doc: documentArb,
  key: fc.constantFrom(...keys),
  appId: fc.option(mostly(contextId), { nil: null }),
  worker: fc.option(mostly(contextId), { nil: null }),
  nowSeconds: fc.integer({ min: 0, max: 4_000_000_000 }),
});

type Case = {
  doc: PolicyDocument;
  key: PublicKey;
  appId: string | null;
  worker: string | null;
  nowSeconds: number;
};

function render(c: Case) {
  const parsed = parsePolicy(policyYaml(c.doc), 'generated.yaml');
  if (!parsed.ok) return { parsed, rendered: undefined };
  const rendered = renderKeyLine(parsed.value, c.key, {
    appId: c.appId,
    worker: c.worker,
    now: new Date(c.nowSeconds * 1000),
  });
  return { parsed, rendered };
}

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** The options the document asks for, derived here without the renderer's code. */
function meaningOf(
  doc: PolicyDocument,
  nowSeconds: number,
): { options: Omit<KeyOptions, 'expiryTime'>; expiresAt: number | null } {
  const permitOpen = doc.permitOpen as string[];
  const expiryText = doc.expiry as string | undefined;
  const match = expiryText === undefined ? null : /^(\d+)([smhdw])$/.exec(expiryText);
  return {
    options: {
      restrict: true,
      permit: {
        portForwarding: permitOpen.length > 0,
        agentForwarding: false,
        x11Forwarding: false,
        pty: false,
        userRc: false,
      },
      certAuthority: false,
      noTouchRequired: false,
      verifyRequired: false,
      command: (doc.command as { gate: string }).gate,
      principals: null,
      from: (doc.from as string[]).length === 0 ? null : (doc.from as string[]).join(','),
      environment: [],
      permitOpen,
      permitListen: permitOpen.length > 0 ? [NO_LISTEN_SENTINEL] : [],
      tunnel: null,
    },
    expiresAt: match ? nowSeconds + Number(match[1]) * (UNIT[match[2] ?? ''] ?? NaN) : null,
  };
}

describe('policy key-line rendering (properties)', () => {
  // One pass checks all three properties on each of the 10,000 cases: parsing is the costly part.
  it('(a) refuses with a coded error or gives one clean line, (b) which means exactly the policy, (c) deterministically', () => {
    let rendered = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const { parsed, rendered: result } = render(c);
        if (!parsed.ok) {
          // (a) for documents: a coded error with the file and a line, never a rendered line.
          expect(parsed.error.length).toBeGreaterThan(0);
          for (const e of parsed.error) {
            expect(e.code).toMatch(/^POLICY_[A-Z_]+$/);
            expect(e.file).toBe('generated.yaml');
            expect(e.line).toBeGreaterThanOrEqual(1);
          }
          return;
        }
        // (c) the same policy, key and context give byte-identical output.
        const again = renderKeyLine(parsed.value, c.key, {
          appId: c.appId,
          worker: c.worker,
          now: new Date(c.nowSeconds * 1000),
        });
        expect(JSON.stringify(again)).toBe(JSON.stringify(result));
        if (!result?.ok) {
          expect(result?.error.code).toMatch(/^RENDER_[A-Z_]+$/);
          return;
        }
        rendered += 1;
        // (a) exactly one line, nothing that could end it early or smuggle a second one in.
        expect(result.value.line).not.toMatch(/[\r\n\0]/);
        expect(result.value.line.startsWith('restrict,')).toBe(true);
        // (b) the engine reads back exactly the document's meaning, and nothing more.
        const entry = parseAuthorizedKeysLine(result.value.line);
        if (!entry.ok || entry.value.kind !== 'key') throw new Error('the rendered line is not a key line');
        const { expiryTime, ...options } = entry.value.options;
        const meaning = meaningOf(c.doc, c.nowSeconds);
        expect(options).toStrictEqual(meaning.options);
        if (meaning.expiresAt === null) expect(expiryTime).toStrictEqual([]);
        else {
          expect(expiryTime).toHaveLength(1);
          expect(expiryTime[0]).toMatch(/^\d{14}Z$/);
          expect(parseExpiryTime(expiryTime[0] ?? '')).toBe(meaning.expiresAt);
        }
        expect(entry.value.key.type).toBe(c.key.type);
        expect(entry.value.key.base64).toBe(c.key.base64);
        expect(entry.value.comment).toContain(`fp=${c.key.fingerprint}`);
      }),
      { numRuns: RUNS },
    );
    // The properties are only worth something if plenty of documents really were rendered.
    expect(rendered).toBeGreaterThan(RUNS / 10);
  }, 300_000);

  it('never throws on arbitrary policy text, and every refusal has a code, the file and a line', () => {
    const yamlish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .array(
          fc.oneof(
            special,
            fc.constantFrom(
              'a: ',
              '- ',
              '\n',
              '  ',
              ': ',
              '&x ',
              '*x',
              '!!str ',
              '%YAML 1.1\n',
              '---\n',
              '[',
              '{',
            ),
          ),
          { maxLength: 40 },
        )
        .map((a) => a.join('')),
    );
    fc.assert(
      fc.property(yamlish, (text) => {
        const parsed = parsePolicy(text, 'fuzz.yaml');
        if (parsed.ok) return;
        for (const e of parsed.error) {
          expect(e.code).toMatch(/^POLICY_[A-Z_]+$/);
          expect(e.file).toBe('fuzz.yaml');
          expect(e.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
