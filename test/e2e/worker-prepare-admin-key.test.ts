/**
 * `psm worker prepare` as an operator runs it, with the real CLI: the worker gets psm's host keys
 * and its admin key (key exchange, restricted by policies/admin.yaml), every act is in the audit
 * log, `ssh -i` with the admin key reaches the gate with no prompt, `psm audit` is clean, and the
 * admin key survives a revert to the clean snapshot (taken again after the key was written).
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { DEFAULT_WORKER_IMAGE_DIR, WORKER_IMAGE_ENV } from '../../src/guest-ops/image/manifest.js';
import { layoutOf } from '../../src/vault/index.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { ssh, type SshTarget } from '../helpers/openssh.js';

const PSM = resolve('bin/psm.js');
const IMAGE = resolve(process.env[WORKER_IMAGE_ENV] ?? DEFAULT_WORKER_IMAGE_DIR);
const NAME = 'wp1';
let temp: { path: string; remove: () => Promise<void> };
let location: string;

async function psm(args: readonly string[]) {
  // POPC_LOCATION, so `psm vm` and `psm worker` share the location's VM directory.
  const ran = await runProgram(process.execPath, [PSM, ...args], {
    timeoutMs: 240_000,
    env: { ...process.env, POPC_LOCATION: location },
  });
  return { code: ran.exitCode, stdout: ran.stdout.toString(), stderr: ran.stderr.toString() };
}

async function ok(args: readonly string[]) {
  const run = await psm(args);
  expect(run.code, `psm ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run;
}

beforeAll(async () => {
  temp = await makeTempDir('worker-prepare');
  location = join(temp.path, 'popc');
  await ok(['init']);
  const { policiesDir } = layoutOf(location);
  await mkdir(policiesDir, { recursive: true });
  for (const file of ['admin.yaml', 'main-node.yaml', 'initiator.yaml'])
    await copyFile(resolve('policies', file), join(policiesDir, file));
  await ok(['vm', 'clone', NAME, '--image', IMAGE]);
  await ok(['vm', 'start', NAME]);
}, 300_000);

afterAll(async () => {
  await psm(['vm', 'destroy', NAME]);
  await temp?.remove();
}, 60_000);

describe('psm worker prepare writes the admin key and records what it did', () => {
  it('prepares, and ssh -i with the admin key reaches only the gate', async () => {
    const prepared = JSON.parse((await ok(['worker', 'prepare', NAME, '--json'])).stdout) as {
      ssh: { host: string; port: number };
      adminKey: string;
    };
    const admin = layoutOf(location).adminKey;
    const fingerprint = (
      await runProgram('ssh-keygen', ['-l', '-f', `${admin}.pub`], { timeoutMs: 10_000 })
    ).stdout
      .toString()
      .split(' ')[1];
    expect(prepared.adminKey).toBe(fingerprint);
    const target: SshTarget = { location, worker: NAME, user: 'popc', ...prepared.ssh };
    const hello = await ssh(target, admin, ['-T'], ['popcobjrun', '/usr/local/popc/objects/hello']);
    expect([hello.code, hello.stdout]).toEqual([0, expect.stringMatching(/^hello from /)]);
    expect((await ssh(target, admin, ['-T'], ['/bin/sh'])).code).toBe(126);

    const audit = await psm(['audit', '--json']);
    expect(audit.code, audit.stdout).toBe(0);

    await ok(['vm', 'revert', NAME]);
    const after = await ssh(target, admin, ['-T'], ['popcobjrun', '/usr/local/popc/objects/hello']);
    expect(after.code, after.stderr).toBe(0);

    const log = (await readFile(join(location, 'var', 'psm', 'audit.log'), 'utf8')).trim().split('\n');
    const actions = log.map((line) => (JSON.parse(line) as { action: string }).action);
    expect(actions).toEqual(
      expect.arrayContaining(['host-key.made', 'host-key.pinned', 'key-exchange.admin-install', 'audit.run']),
    );
    expect(log.join('\n')).not.toMatch(/PRIVATE KEY|AAAAC3NzaC1lZDI1NTE5/);
    expect((await psm(['audit-log', 'verify'])).code).toBe(0);
  }, 300_000);
});
