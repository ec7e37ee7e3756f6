/**
 * The generated gate, executed as a file by the real dash and busybox sh with SSH_ORIGINAL_COMMAND
 * set as sshd sets it, against test/vectors/policy/gate-cases.json; and what the script must and
 * must not contain.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { GATE_MAX_COMMAND_LENGTH, GATE_REFUSED_EXIT, generateGate } from '../../src/psm/gate/index.js';
import { loadPolicyFile, parsePolicy, type KeyPolicy } from '../../src/psm/policy/index.js';
import {
  basePolicyDocument,
  POLICY_VECTORS,
  policyYaml,
  SHIPPED_POLICIES,
} from '../helpers/policy-fixtures.js';
import { SHELLS, writeGateDriver } from '../helpers/policy-gate-runner.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface GateCase {
  command: string | null;
  expect: 'run' | 'refuse';
  argv?: string[];
  stderr?: string;
}

const { cases } = JSON.parse(readFileSync(join(POLICY_VECTORS, 'gate-cases.json'), 'utf8')) as {
  cases: GateCase[];
};

function policyFor(popcobjrun: string): KeyPolicy {
  const doc = {
    ...basePolicyDocument(),
    command: { gate: '/usr/local/libexec/psm/gate-test-policy', popcobjrun },
    objects: ['/srv/popc/objects/', '/opt/popc/solver.obj'],
  };
  const parsed = parsePolicy(policyYaml(doc), 'gate.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

describe('the generated gate', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let gate = '';
  let popcobjrun = '';

  beforeAll(async () => {
    dir = await makeTempDir('gate-unit');
    popcobjrun = join(dir.path, 'popcobjrun');
    // Prints its argv one per line between markers, so the test sees exactly what it received.
    await writeFile(popcobjrun, '#!/bin/sh\necho BEGIN\nfor a; do printf \'%s\\n\' "$a"; done\necho END\n', {
      mode: 0o755,
    });
    gate = join(dir.path, 'gate');
    await writeFile(gate, generateGate(policyFor(popcobjrun)).script, { mode: 0o755 });
  });
  afterAll(async () => dir.remove());

  it('is deterministic, POSIX sh, and never evaluates its input', () => {
    const a = generateGate(policyFor('/usr/local/popc/bin/popcobjrun'));
    const b = generateGate(policyFor('/usr/local/popc/bin/popcobjrun'));
    expect(a).toStrictEqual(b);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(a.script).toContain('\nset -f\n');
    const code = a.script
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    for (const banned of [/\beval\b/, /\bsource\b/, /\$\(/, /`/, /\bsh -c\b/, /\bbash\b/, /^\s*\. /m])
      expect(code).not.toMatch(banned);
    expect(a.script.split('\n').filter((l) => l.includes('exec '))).toStrictEqual([
      '\texec /usr/bin/env -i "PATH=$PATH" LC_ALL=C "$psm_popcobjrun" "$@"',
    ]);
  });

  it('issue 9 defect 5: under bash with an exported exit function it runs nothing (the exact reproduction)', async () => {
    const main = await loadPolicyFile(join(SHIPPED_POLICIES, 'main-node.yaml'));
    if (!main.ok) throw new Error('main-node.yaml does not load');
    const shipped = join(dir.path, 'g');
    await writeFile(shipped, generateGate(main.value).script, { mode: 0o755 });
    const withRun = join(dir.path, 'g-run');
    await writeFile(withRun, generateGate(policyFor(popcobjrun)).script, { mode: 0o755 });
    for (const [file, command] of [
      [shipped, 'id -u'],
      [withRun, 'id -u'],
      [withRun, 'popcobjrun /opt/popc/solver.obj'],
    ] as const) {
      const outcome = await runProgram('/bin/bash', [file], {
        timeoutMs: 30_000,
        env: { 'BASH_FUNC_exit%%': '() { :; }', psm_refused: 'x', SSH_ORIGINAL_COMMAND: command },
      });
      expect(outcome.exitCode).not.toBe(0);
      expect(outcome.stdout.toString()).toBe('');
      expect(outcome.stderr.toString()).toContain('psm-gate: refused: run by a shell that imports functions');
    }
  });

  it('issue 9 defect 5: popcobjrun gets only PATH and LC_ALL, nothing from the client', async () => {
    const envDump = join(dir.path, 'popcobjrun-env');
    await writeFile(envDump, '#!/bin/sh\nexec /usr/bin/env\n', { mode: 0o755 });
    const script = generateGate(policyFor(envDump)).script;
    const file = join(dir.path, 'gate-env');
    await writeFile(file, script, { mode: 0o755 });
    for (const shell of SHELLS) {
      const outcome = await runProgram(shell.file, [...shell.args, file], {
        timeoutMs: 30_000,
        env: {
          PATH: '/tmp/evil:/usr/bin:/bin',
          LANG: 'xx_XX.UTF-8',
          LC_EVIL: '() { :; }',
          LD_PRELOAD: '/tmp/evil.so',
          SSH_ORIGINAL_COMMAND: 'popcobjrun /opt/popc/solver.obj',
        },
      });
      const names = outcome.stdout
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.split('=')[0])
        .filter((n) => n !== 'PWD')
        .sort();
      expect({ shell: shell.name, names }).toStrictEqual({ shell: shell.name, names: ['LC_ALL', 'PATH'] });
      expect(outcome.stdout.toString()).toContain('PATH=/usr/sbin:/usr/bin:/sbin:/bin\n');
    }
  });

  for (const shell of SHELLS) {
    it(`${shell.name}: parses the script`, async () => {
      const outcome = await runProgram(shell.file, [...shell.args, '-n', gate], { timeoutMs: 30_000 });
      expect({ code: outcome.exitCode, stderr: outcome.stderr.toString() }).toStrictEqual({
        code: 0,
        stderr: '',
      });
    });

    it(`${shell.name}: runs popcobjrun only as the vectors say`, async () => {
      for (const c of cases) {
        const command =
          c.command === 'LONG'
            ? `popcobjrun /opt/popc/solver.obj ${'a'.repeat(GATE_MAX_COMMAND_LENGTH)}`
            : c.command === null
              ? null
              : c.command.replace('POPCOBJRUN', popcobjrun);
        const env: NodeJS.ProcessEnv = {
          PATH: '/usr/bin:/bin',
          SSH_CONNECTION: '127.0.0.1 5000 127.0.0.1 22',
        };
        if (command !== null) env.SSH_ORIGINAL_COMMAND = command;
        const outcome = await runProgram(shell.file, [...shell.args, gate], { timeoutMs: 30_000, env });
        const stdout = outcome.stdout.toString();
        const stderr = outcome.stderr.toString();
        if (c.expect === 'run') {
          expect({ command, code: outcome.exitCode, stdout, stderr }).toStrictEqual({
            command,
            code: 0,
            stdout: `BEGIN\n${(c.argv ?? []).map((a) => `${a}\n`).join('')}END\n`,
            stderr: '',
          });
        } else {
          expect({ command, code: outcome.exitCode, stdout }).toStrictEqual({
            command,
            code: GATE_REFUSED_EXIT,
            stdout: '',
          });
          expect(stderr).toMatch(/^psm-gate: refused by policy test-policy: /);
          expect(stderr).toContain(c.stderr);
        }
      }
    }, 120_000);

    it(`${shell.name}: refuses every non-ASCII byte, also when started in a UTF-8 locale`, async () => {
      const driver = await writeGateDriver(generateGate(policyFor(popcobjrun)).script, dir.path, true);
      const lines: Buffer[] = [];
      for (let byte = 0x80; byte <= 0xff; byte += 1)
        lines.push(
          Buffer.concat([
            Buffer.from('popcobjrun /srv/popc/objects/a'),
            Buffer.from([byte]),
            Buffer.from('\n'),
          ]),
        );
      lines.push(Buffer.from('popcobjrun /srv/popc/objects/a\n'));
      const cases = join(dir.path, `bytes-${shell.name.replace(' ', '-')}`);
      await writeFile(cases, Buffer.concat(lines));
      for (const locale of ['C', 'C.UTF-8']) {
        const outcome = await runProgram(shell.file, [...shell.args, driver, cases], {
          timeoutMs: 60_000,
          env: { PATH: '/usr/bin:/bin', LC_ALL: locale, LANG: locale },
        });
        const codes = outcome.stdout.toString().trim().split('\n').map(Number);
        expect(codes).toStrictEqual([...Array<number>(128).fill(GATE_REFUSED_EXIT), 0]);
      }
    }, 120_000);
  }
});
