/**
 * Property (d) of issue 3: the generated gate, run by the real dash and busybox sh, refuses
 * (exit 126) every command with an argument outside the safe set, and its decisions agree with a
 * small model of the rules for 10,000 generated commands per shell (allowed objects, "..",
 * hidden or non-canonical object paths, length, hostile characters everywhere).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGate, GATE_MAX_COMMAND_LENGTH, GATE_REFUSED_EXIT } from '../../src/psm/gate/index.js';
import { GATE_SAFE_CHARS, parsePolicy } from '../../src/psm/policy/index.js';
import { basePolicyDocument, policyYaml } from '../helpers/policy-fixtures.js';
import { runGateCases, SHELLS, writeGateDriver } from '../helpers/policy-gate-runner.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const RUNS = 10_000;
const POPCOBJRUN = '/bin/true';
const DIRECTORY = '/srv/popc/objects/';
const FILE = '/opt/popc/app/solver.obj';
const SAFE = new Set(GATE_SAFE_CHARS);

const safeWord = fc.stringMatching(/^[A-Za-z0-9._,:=@%+/-]{1,12}$/);
const hostileChar = fc.oneof(
  fc.constantFrom(
    '"',
    "'",
    '\\',
    '$',
    '`',
    ';',
    '|',
    '&',
    '*',
    '?',
    '[',
    ']',
    '(',
    ')',
    '<',
    '>',
    '~',
    '#',
    '!',
    '{',
    '}',
  ),
  fc.constantFrom('\t', '\n', '\r', '\u00e9', '\u202e', '\u{1F600}', '\x01', '\x7f', '^'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).map((s) => s.replace(/\0/g, '\x01')),
);
const hostileWord = fc.oneof(
  fc
    .tuple(safeWord, hostileChar, fc.nat())
    .map(([w, c, i]) => `${w.slice(0, i % (w.length + 1))}${c}${w.slice(i % (w.length + 1))}`),
  fc.tuple(safeWord, safeWord).map(([a, b]) => `${a}..${b}`),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map((s) => s.replace(/\0/g, '\x01')),
);
const argument = fc.oneof({ arbitrary: safeWord, weight: 4 }, { arbitrary: hostileWord, weight: 1 });
const object = fc.oneof(
  safeWord.map((w) => `${DIRECTORY}${w}`),
  fc.constant(FILE),
  safeWord.map((w) => `/srv/popc/${w}`),
  fc.constantFrom(
    DIRECTORY,
    `${DIRECTORY}.hidden`,
    `${DIRECTORY}a//b`,
    `${DIRECTORY}../etc/passwd`,
    `${FILE}x`,
    '/bin/sh',
  ),
  hostileWord.map((w) => `${DIRECTORY}${w}`),
);
const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t');
const command = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.constantFrom('popcobjrun', POPCOBJRUN, 'sh', 'popcobjrun2'),
        object,
        fc.array(argument, { maxLength: 5 }),
        separator,
      )
      .map(([program, obj, args, sep]) => [program, obj, ...args].join(sep)),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((s) => s.replace(/\0/g, '\x01')) },
  {
    weight: 1,
    arbitrary: safeWord.map((w) => `popcobjrun ${DIRECTORY}${w} ${'a'.repeat(GATE_MAX_COMMAND_LENGTH)}`),
  },
);

/** The gate's rules, written again independently of the generator. */
function accepted(cmd: string): boolean {
  if (cmd.length === 0 || cmd.length > GATE_MAX_COMMAND_LENGTH) return false;
  if ([...cmd].some((ch) => ch !== ' ' && !SAFE.has(ch))) return false;
  const words = cmd.split(' ').filter((w) => w !== '');
  if (words[0] !== 'popcobjrun' && words[0] !== POPCOBJRUN) return false;
  const [obj, ...rest] = words.slice(1);
  if (obj === undefined || [obj, ...rest].some((w) => w.includes('..'))) return false;
  if (obj.endsWith('/') || obj.includes('/.') || obj.includes('//')) return false;
  return obj === FILE || obj.startsWith(DIRECTORY);
}

function hasUnsafeArgument(cmd: string): boolean {
  return cmd.split(' ').some((w) => w.includes('..') || [...w].some((ch) => !SAFE.has(ch)));
}

// fast-check runs batches of commands so one shell process decides a whole batch: 100 runs of
// 100 commands is 10,000 generated commands per shell, and a failing batch shrinks to its culprit.
const BATCH = 100;

describe('the generated gate (property d)', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let driver: string;

  beforeAll(async () => {
    dir = await makeTempDir('gate-prop');
    const doc = {
      ...basePolicyDocument(),
      command: { gate: '/usr/local/libexec/psm/gate-test-policy', popcobjrun: POPCOBJRUN },
      objects: [DIRECTORY, FILE],
    };
    const policy = parsePolicy(policyYaml(doc), 'gate.yaml');
    if (!policy.ok) throw new Error(JSON.stringify(policy.error));
    driver = await writeGateDriver(generateGate(policy.value).script, dir.path);
  });
  afterAll(async () => dir.remove());

  for (const shell of SHELLS) {
    it(`${shell.name}: refuses every unsafe argument and agrees with the rules on ${RUNS} commands`, async () => {
      let total = 0;
      let ran = 0;
      let unsafe = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: BATCH, maxLength: BATCH }), async (commands) => {
          const codes = await runGateCases(shell, driver, commands);
          commands.forEach((cmd, i) => {
            const code = codes[i];
            if (hasUnsafeArgument(cmd)) {
              unsafe += 1;
              expect({ cmd, code }).toStrictEqual({ cmd, code: GATE_REFUSED_EXIT });
            }
            expect({ cmd, code }).toStrictEqual({ cmd, code: accepted(cmd) ? 0 : GATE_REFUSED_EXIT });
            if (code === 0) ran += 1;
          });
          total += commands.length;
        }),
        { numRuns: RUNS / BATCH },
      );
      // Every generated command was decided by the shell, and both kinds really occurred.
      expect(total).toBeGreaterThanOrEqual(RUNS);
      expect(ran).toBeGreaterThan(RUNS / 20);
      expect(unsafe).toBeGreaterThan(RUNS / 10);
    }, 300_000);
  }
});
