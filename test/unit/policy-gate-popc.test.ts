/**
 * The gate of a policy with `command.arguments: popc`, run by the real dash and busybox sh with
 * SSH_ORIGINAL_COMMAND as sshd sets it, against test/vectors/popc/gate-popc-cases.json: argv
 * captured from POP-C++ 2.5's own client, and every near miss.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { GATE_REFUSED_EXIT, generateGate } from '../../src/psm/gate/index.js';
import { loadPolicyFile, parsePolicy, type KeyPolicy } from '../../src/psm/policy/index.js';
import { basePolicyDocument, policyYaml, SHIPPED_POLICIES } from '../helpers/policy-fixtures.js';
import { SHELLS } from '../helpers/policy-gate-runner.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface GateCase {
  name: string;
  command: string;
  expect: 'run' | 'refuse';
  argv?: string[];
  stderr?: string;
}

const { cases } = JSON.parse(
  readFileSync(join(import.meta.dirname, '../vectors/popc/gate-popc-cases.json'), 'utf8'),
) as { cases: GateCase[] };

function policyFor(popcobjrun: string, args: string | undefined): KeyPolicy {
  const doc = {
    ...basePolicyDocument(),
    command: {
      gate: '/usr/local/libexec/psm/gate-test-policy',
      popcobjrun,
      ...(args === undefined ? {} : { arguments: args }),
    },
  };
  const parsed = parsePolicy(policyYaml(doc), 'gate.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return parsed.value;
}

describe('the gate with command.arguments: popc', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let gate = '';
  let popcobjrun = '';

  beforeAll(async () => {
    dir = await makeTempDir('gate-popc');
    popcobjrun = join(dir.path, 'popcobjrun');
    await writeFile(popcobjrun, '#!/bin/sh\necho BEGIN\nfor a; do printf \'%s\\n\' "$a"; done\necho END\n', {
      mode: 0o755,
    });
    gate = join(dir.path, 'gate');
    await writeFile(gate, generateGate(policyFor(popcobjrun, 'popc')).script, { mode: 0o755 });
  });
  afterAll(async () => dir.remove());

  it('parses "popc" and "any", defaults to "any", and refuses anything else', () => {
    expect(policyFor('/usr/local/popc/services/popcobjrun', undefined).popcobjrunArguments).toBe('any');
    expect(policyFor('/usr/local/popc/services/popcobjrun', 'any').popcobjrunArguments).toBe('any');
    expect(policyFor('/usr/local/popc/services/popcobjrun', 'popc').popcobjrunArguments).toBe('popc');
    const bad = parsePolicy(
      policyYaml({
        ...basePolicyDocument(),
        command: {
          gate: '/usr/local/libexec/psm/gate-test-policy',
          popcobjrun: '/x/popcobjrun',
          arguments: 'POPC',
        },
      }),
      'bad.yaml',
    );
    expect(bad.ok).toBe(false);
  });

  it("the POP-C++ main-node policy allows only the POP-C++ shape at POP-C++'s path; the shipped ones stay generic", async () => {
    const popc = await loadPolicyFile(join(SHIPPED_POLICIES, 'popc', 'main-node.yaml'));
    if (!popc.ok) throw new Error('policies/popc/main-node.yaml does not load');
    expect([popc.value.role, popc.value.popcobjrunArguments, popc.value.popcobjrunPath]).toStrictEqual([
      'main-node',
      'popc',
      '/usr/local/popc/services/popcobjrun',
    ]);
    expect(popc.value.permitOpen.map((p) => `${p.host}:${p.port}`)).toStrictEqual([
      '127.0.0.1:2711',
      '127.0.0.1:2712',
      '127.0.0.1:2713',
      '127.0.0.1:2714',
      '127.0.0.1:2715',
    ]);
    expect(popc.value.permitListen.map((p) => `${p.host}:${p.port}`)).toStrictEqual([
      '127.0.0.1:2720',
      '127.0.0.1:2721',
    ]);
    expect(generateGate(popc.value).script).toContain('psm_popc_word "$psm_word"');
    for (const name of ['admin.yaml', 'main-node.yaml', 'initiator.yaml']) {
      const shipped = await loadPolicyFile(join(SHIPPED_POLICIES, name));
      if (!shipped.ok) throw new Error(`${name} does not load`);
      expect({ name, args: shipped.value.popcobjrunArguments }).toStrictEqual({ name, args: 'any' });
      expect(generateGate(shipped.value).script).not.toContain('psm_popc_word');
    }
  });

  for (const shell of SHELLS) {
    it(`${shell.name}: runs popcobjrun only for the POP-C++ shape`, async () => {
      for (const c of cases) {
        const command = c.command.replace('POPCOBJRUN', popcobjrun);
        const outcome = await runProgram(shell.file, [...shell.args, gate], {
          timeoutMs: 30_000,
          env: {
            PATH: '/usr/bin:/bin',
            SSH_CONNECTION: '127.0.0.1 5000 127.0.0.1 22',
            SSH_ORIGINAL_COMMAND: command,
          },
        });
        const stdout = outcome.stdout.toString();
        const stderr = outcome.stderr.toString();
        if (c.expect === 'run') {
          expect({ name: c.name, code: outcome.exitCode, stdout, stderr }).toStrictEqual({
            name: c.name,
            code: 0,
            stdout: `BEGIN\n${(c.argv ?? []).map((a) => `${a}\n`).join('')}END\n`,
            stderr: '',
          });
        } else {
          expect({ name: c.name, code: outcome.exitCode, stdout }).toStrictEqual({
            name: c.name,
            code: GATE_REFUSED_EXIT,
            stdout: '',
          });
          expect({ name: c.name, stderr }).toStrictEqual({
            name: c.name,
            stderr: expect.stringContaining(c.stderr ?? '?'),
          });
        }
      }
    }, 120_000);
  }
});
