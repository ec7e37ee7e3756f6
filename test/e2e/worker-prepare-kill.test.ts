/**
 * kill -9 of `psm worker prepare` at each of its steps, then a rerun (issue 11): the rerun always
 * completes, the worker then presents exactly the keys it printed and pinned, no other host key
 * file (nor a half-copied one) is left, psm never recorded the worker as prepared before the run
 * that finished, and the worker's sshd answered after every kill. One clone for every trial.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_IMAGE_DIR } from '../../src/guest-ops/image/manifest.js';
import { pinnedKeys } from '../../src/psm/host-keys/pin-store.js';
import { PREPARE_STEPS, readWorkerRecord } from '../../src/psm/worker-prepare/index.js';
import { layoutOf } from '../../src/vault/index.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import {
  guestHostKeyFiles,
  keyscanFingerprints,
  PSM,
  psmAt,
  sshBanner,
  type PrepareJson,
} from '../helpers/worker-identity.js';

const IMAGE = process.env.PSM_WORKER_IMAGE ?? DEFAULT_WORKER_IMAGE_DIR;
const NAME = 'wkill';

let temp: { path: string; remove: () => Promise<void> };
let location: string;
let psm: ReturnType<typeof psmAt>;
let port: number;

/** Starts prepare, waits for it to announce step `index`, and kills it with SIGKILL there. */
function prepareKilledAt(index: number): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PSM, 'worker', 'prepare', NAME, '--json'], {
      env: { ...process.env, POPC_LOCATION: location },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    const marker = `step ${index}/${PREPARE_STEPS.length} `;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!killed && stderr.includes(marker)) {
        killed = child.kill('SIGKILL');
      }
    });
    child.on('exit', () => resolve({ killed, stderr }));
  });
}

beforeAll(async () => {
  temp = await makeTempDir('worker-kill');
  location = join(temp.path, 'location');
  psm = psmAt(location);
  // A location as an operator has it (psm init, the shipped policies), so every run, killed or
  // not, is the whole default prepare: host keys, then the admin key and the clean snapshot.
  const init = await psm(['init']);
  expect(init.code, init.stderr).toBe(0);
  const { policiesDir } = layoutOf(location);
  await mkdir(policiesDir, { recursive: true });
  for (const file of ['admin.yaml', 'main-node.yaml', 'initiator.yaml'])
    await copyFile(resolve('policies', file), join(policiesDir, file));
  expect((await psm(['vm', 'clone', NAME, '--image', IMAGE])).code).toBe(0);
  const started = await psm(['vm', 'start', NAME, '--json']);
  expect(started.code, started.stderr).toBe(0);
  port = (JSON.parse(started.stdout) as { ssh: { port: number } }).ssh.port;
}, 300_000);

afterAll(async () => {
  await psm(['vm', 'destroy', NAME]);
  await temp?.remove();
}, 120_000);

describe('kill -9 of psm worker prepare at every step', () => {
  it.each(PREPARE_STEPS.map((step, i) => [i + 1, step] as const))(
    'killed at step %i (%s): sshd answers, not prepared; the rerun completes with exactly its keys',
    async (index) => {
      const stopped = await prepareKilledAt(index);
      expect(stopped.killed, stopped.stderr).toBe(true);
      // Until a run finishes, the worker is not prepared (the record is the run's very last write,
      // so a kill announced at that step may land just after it).
      if (index < PREPARE_STEPS.length) expect((await readWorkerRecord(location, NAME)).ok).toBe(false);
      expect(await sshBanner(port)).toMatch(/^SSH-2\.0-OpenSSH/);

      const rerun = await psm(['worker', 'prepare', NAME, '--json']);
      expect(rerun.code, rerun.stderr).toBe(0);
      const out = JSON.parse(rerun.stdout) as PrepareJson;
      expect(out.ssh.port).toBe(port);
      const printed = out.hostKeys.map((k) => k.fingerprint).sort();
      expect(await keyscanFingerprints(port, temp.path, ['ed25519'])).toEqual(printed);
      // Exactly this run's two files: no earlier key, no half-copied one (.psm-copy-*).
      const files = await guestHostKeyFiles(psm, NAME);
      expect(files).toHaveLength(2);
      expect(new Set(files.map((f) => f.replace(/\.pub$/, ''))).size).toBe(1);
      expect(files.every((f) => f.startsWith('/persist/etc/ssh/psm_host_ed25519_key-'))).toBe(true);
      const pins = await pinnedKeys(location, NAME);
      expect(pins.ok && pins.value.map((k) => k.fingerprint).sort()).toEqual(printed);
      const record = await readWorkerRecord(location, NAME);
      expect(record.ok && record.value.identity.hostKeys.map((k) => k.fingerprint).sort()).toEqual(printed);
    },
    180_000,
  );
});
