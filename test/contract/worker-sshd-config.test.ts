import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { generateSshKeyPair, wipeKeyPair } from '../../src/authorized-keys/keys/index.js';
import { renderWorkerSshdConfig, WORKER_SSHD_HARDENING } from '../../src/psm/host-keys/sshd-config.js';
import { ensureTestUser, SSHD_PATH } from '../helpers/sshd.js';
import { checkEffectiveConfig } from '../../src/psm/worker-prepare/sshd-switch.js';
import { WORKER_IMAGE_LAYOUT } from '../../src/psm/worker-prepare/guest-layout.js';

/** The worker sshd_config psm writes is what the real sshd accepts and applies, setting by setting. */
let dir: string;
beforeAll(async () => {
  await ensureTestUser();
  dir = await mkdtemp(join(tmpdir(), 'psm-sshd-config-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function configWith(extra?: string): Promise<string> {
  const paths: string[] = [];
  for (const algorithm of ['ed25519', 'ecdsa'] as const) {
    const pair = generateSshKeyPair(algorithm, '');
    const path = join(dir, `ssh_host_${algorithm}_key`);
    await writeFile(path, pair.privateKey, { mode: 0o600 });
    wipeKeyPair(pair);
    paths.push(path);
  }
  const file = join(dir, 'sshd_config.psm');
  await writeFile(
    file,
    renderWorkerSshdConfig({ hostKeyPaths: paths, ...(extra === undefined ? {} : { extra }) }),
  );
  return file;
}

describe('worker sshd_config vs sshd -t / -T', () => {
  it("passes sshd -t and sshd -T shows every hardening setting and only psm's host keys", async () => {
    const file = await configWith();
    const checked = await runProgram(SSHD_PATH, ['-t', '-f', file], { timeoutMs: 20_000 });
    expect(checked.exitCode, checked.stderr.toString()).toBe(0);
    const effective = await runProgram(
      SSHD_PATH,
      ['-T', '-f', file, '-C', 'user=popc,host=h,addr=10.0.2.2'],
      { timeoutMs: 20_000 },
    );
    expect(effective.exitCode, effective.stderr.toString()).toBe(0);
    const lines = new Set(effective.stdout.toString().split('\n'));
    for (const [keyword, value] of WORKER_SSHD_HARDENING)
      expect(lines).toContain(`${keyword.toLowerCase()} ${value}`);
    const hostKeys = [...lines].filter((line) => line.startsWith('hostkey '));
    expect(hostKeys).toEqual([
      `hostkey ${join(dir, 'ssh_host_ed25519_key')}`,
      `hostkey ${join(dir, 'ssh_host_ecdsa_key')}`,
    ]);
    expect([...lines].some((line) => line.startsWith('acceptenv '))).toBe(false);
  });

  it('an injected bad line fails sshd -t (what prepare checks before switching)', async () => {
    const file = await configWith('NoSuchKeyword yes');
    const checked = await runProgram(SSHD_PATH, ['-t', '-f', file], { timeoutMs: 20_000 });
    expect(checked.exitCode).not.toBe(0);
    expect(checked.stderr.toString()).toMatch(/Bad configuration option|NoSuchKeyword/);
  });
});

describe("prepare's check of sshd -T output, against the real sshd", () => {
  const effective = async (file: string) =>
    runProgram(SSHD_PATH, ['-T', '-f', file, '-C', 'user=popc,host=psm-prepare,addr=127.0.0.1'], {
      timeoutMs: 20_000,
    });
  const keyPaths = () => [join(dir, 'ssh_host_ed25519_key'), join(dir, 'ssh_host_ecdsa_key')];

  it("accepts what sshd -T prints for psm's config", async () => {
    const out = await effective(await configWith());
    expect(out.exitCode, out.stderr.toString()).toBe(0);
    expect(checkEffectiveConfig(out.stdout.toString(), keyPaths(), WORKER_IMAGE_LAYOUT)).toEqual({
      ok: true,
      value: undefined,
    });
  });

  it('refuses site lines that sshd accepts but that undo a setting (a Match block), or another key', async () => {
    const out = await effective(await configWith('Match all\n  AllowStreamLocalForwarding yes'));
    expect(out.exitCode, out.stderr.toString()).toBe(0);
    expect(checkEffectiveConfig(out.stdout.toString(), keyPaths(), WORKER_IMAGE_LAYOUT)).toMatchObject({
      ok: false,
      error: {
        code: 'SSHD_CONFIG_INEFFECTIVE',
        message: expect.stringContaining('allowstreamlocalforwarding no'),
      },
    });
    const plain = await effective(await configWith());
    expect(
      checkEffectiveConfig(plain.stdout.toString(), keyPaths().slice(0, 1), WORKER_IMAGE_LAYOUT),
    ).toMatchObject({
      ok: false,
      error: { code: 'SSHD_CONFIG_INEFFECTIVE', message: expect.stringContaining('hostkey') },
    });
  });
});
