/**
 * renderKeyLine against test/vectors/policy/render-cases.json (exact lines for the shipped and
 * vector policies with the real vector keys, and the coded refusals), plus refusals that need a
 * live input: a certificate, an invalid time, and a value the options writer cannot represent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readKeyField } from '../../src/authorized-keys/index.js';
import { runProgram } from '../../src/common/run-program.js';
import { loadPolicyFile } from '../../src/psm/policy/index.js';
import { renderKeyLine } from '../../src/psm/render-key-line.js';
import { loadVectorKeys, POLICY_VECTORS, SHIPPED_POLICIES } from '../helpers/policy-fixtures.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface RenderCase {
  policy: string;
  key: number;
  app: string | null;
  worker: string | null;
  now: string;
  expect?: string;
  expectError?: string;
}

const REPO = join(SHIPPED_POLICIES, '..');
const keys = loadVectorKeys();
const { cases } = JSON.parse(readFileSync(join(POLICY_VECTORS, 'render-cases.json'), 'utf8')) as {
  cases: RenderCase[];
};

async function policy(file: string) {
  const loaded = await loadPolicyFile(join(REPO, file));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  return loaded.value;
}

describe('renderKeyLine vectors', () => {
  cases.forEach((c, i) => {
    it(`case ${i}: ${c.policy} -> ${c.expectError ?? 'line'}`, async () => {
      const key = keys[c.key];
      if (!key) throw new Error(`no vector key ${c.key}`);
      const result = renderKeyLine(await policy(c.policy), key, {
        appId: c.app,
        worker: c.worker,
        now: new Date(c.now),
      });
      if (c.expectError !== undefined)
        expect(result.ok ? result.value.line : result.error.code).toBe(c.expectError);
      else expect(result.ok ? result.value.line : result.error).toBe(c.expect);
    });
  });

  it('has cases for every shipped policy and every refusal code that a context can cause', () => {
    const policies = new Set(cases.map((c) => c.policy));
    for (const name of ['admin', 'main-node', 'initiator'])
      expect(policies).toContain(`policies/${name}.yaml`);
    const codes = new Set(cases.map((c) => c.expectError).filter(Boolean));
    expect([...codes].sort()).toStrictEqual(['RENDER_BAD_APP_ID', 'RENDER_BAD_TIME', 'RENDER_BAD_WORKER']);
  });
});

describe('renderKeyLine refusals', () => {
  it('refuses a certificate instead of writing it as a restricted key', async () => {
    const dir = await makeTempDir('policy-cert');
    try {
      const ca = join(dir.path, 'ca');
      const user = join(dir.path, 'user');
      for (const file of [ca, user])
        expect(
          (
            await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], {
              timeoutMs: 30_000,
            })
          ).exitCode,
        ).toBe(0);
      const signed = await runProgram(
        'ssh-keygen',
        ['-q', '-s', ca, '-I', 'id', '-n', 'psmtest', `${user}.pub`],
        {
          timeoutMs: 30_000,
        },
      );
      expect(signed.exitCode).toBe(0);
      const cert = readKeyField(readFileSync(`${user}-cert.pub`, 'utf8').trim(), 0);
      if (!cert.ok) throw new Error(cert.error.message);
      const result = renderKeyLine(await policy('policies/main-node.yaml'), cert.value.key, {
        now: new Date(0),
      });
      expect(result.ok ? result.value.line : result.error.code).toBe('RENDER_CERTIFICATE_KEY');
    } finally {
      await dir.remove();
    }
  });

  it('refuses a shell or a non-canonical gate in a policy built without the parser (issue 9, defect 1)', async () => {
    const key = keys[0];
    if (!key) throw new Error('no key');
    const main = await policy('policies/main-node.yaml');
    for (const unchecked of [
      { ...main, gatePath: '/usr/local/../../bin/sh' },
      { ...main, gatePath: '/bin/sh' },
      { ...main, gatePath: '/usr/local/libexec/psm//gate-main-node' },
      { ...main, popcobjrunPath: '/bin/busybox' },
      { ...main, popcobjrunPath: '/usr/bin/python3.11' },
      { ...main, popcobjrunPath: '/usr/./bin/popcobjrun' },
    ]) {
      const result = renderKeyLine(unchecked, key, { now: new Date(0) });
      expect(result.ok ? result.value.line : result.error.code).toBe('RENDER_UNSAFE_COMMAND');
    }
    expect(renderKeyLine(main, key, { now: new Date(0), gateDir: '/opt/psm' }).ok).toBe(false);
  });

  it('refuses an invalid time of writing', async () => {
    const key = keys[0];
    if (!key) throw new Error('no key');
    const result = renderKeyLine(await policy('policies/admin.yaml'), key, { now: new Date(Number.NaN) });
    expect(result.ok ? 'ok' : result.error.code).toBe('RENDER_BAD_TIME');
  });

  it('is byte-identical for the same input, and the expiry counts whole seconds from now', async () => {
    const key = keys[2];
    if (!key) throw new Error('no key');
    const p = await policy('policies/initiator.yaml');
    const a = renderKeyLine(p, key, { appId: 'x', now: new Date('2026-05-05T05:05:05.999Z') });
    const b = renderKeyLine(p, key, { appId: 'x', now: new Date('2026-05-05T05:05:05.000Z') });
    expect(a).toStrictEqual(b);
    expect(a.ok ? a.value.expiresAt : null).toBe('2026-05-06T05:05:05.000Z');
  });
});
