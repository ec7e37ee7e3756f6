/**
 * Issue 9 defect 1: policies whose command paths are shells, interpreters, multiplexers or
 * non-canonical spellings never parse (lint reports an error) and never render, 10,000 runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FORBIDDEN_PROGRAMS, parsePolicy } from '../../src/psm/policy/index.js';
import { renderKeyLine } from '../../src/psm/render-key-line.js';
import { basePolicyDocument, loadVectorKeys, policyYaml } from '../helpers/policy-fixtures.js';

const keys = loadVectorKeys();
const GATE = '/usr/local/libexec/psm/gate-test-policy';
const POPC = '/usr/local/popc/bin/popcobjrun';
const dir = fc.constantFrom('/bin', '/usr/bin', '/usr/local/bin', '/usr/local/popc/bin', '/opt/x');
const forbidden = fc
  .tuple(dir, fc.constantFrom(...FORBIDDEN_PROGRAMS), fc.constantFrom('', '3', '5.36', '3.11', '-7'))
  .map(([d, name, version]) => `${d}/${name}${version}`);
/** A canonical path spelled non-canonically: "/./", "//", "/x/../", a trailing "/". */
const spoil = (path: string): fc.Arbitrary<string> =>
  fc.constantFrom(0, 1, 2, 3, 4).map((how) => {
    const cut = path.indexOf('/', 1);
    const head = path.slice(0, cut);
    const tail = path.slice(cut);
    return (
      [`${head}/.${tail}`, `${head}/${tail}`, `${head}/x/..${tail}`, `${path}/`, `/${path}`][how] ?? path
    );
  });
const badGate = fc.oneof(
  forbidden,
  spoil(GATE),
  dir.map((d) => `${d}/gate-test-policy`),
);
const badPopc = fc.oneof(forbidden, spoil(POPC), forbidden.chain(spoil));
const command = fc.oneof(
  badGate.map((gate) => ({ gate, popcobjrun: POPC })),
  badPopc.map((popcobjrun) => ({ gate: GATE, popcobjrun })),
  fc.tuple(badGate, badPopc).map(([gate, popcobjrun]) => ({ gate, popcobjrun })),
);

describe('policies with unsafe command paths', () => {
  it('never parse, and never render even when built without the parser (10,000 runs)', () => {
    const key = keys[0];
    if (!key) throw new Error('no key');
    const base = parsePolicy(policyYaml(basePolicyDocument()), 'base.yaml');
    if (!base.ok) throw new Error('base policy does not parse');
    fc.assert(
      fc.property(command, (c) => {
        const parsed = parsePolicy(policyYaml({ ...basePolicyDocument(), command: c }), 'p.yaml');
        expect(parsed.ok).toBe(false);
        const unchecked = { ...base.value, gatePath: c.gate, popcobjrunPath: c.popcobjrun };
        const rendered = renderKeyLine(unchecked, key, { now: new Date(0) });
        expect(rendered.ok ? 'rendered' : rendered.error.code).toBe('RENDER_UNSAFE_COMMAND');
      }),
      { numRuns: 10_000 },
    );
  }, 120_000);
});
