/**
 * The pool with real QEMU workers and psm's real trust steps (src/jobmgr/trusted-steps.ts):
 * prepareWorker pins fresh host keys, the key exchange installs the admin key and each
 * application's main-node key. Proven with the real OpenSSH client and psm's known_hosts (strict
 * host key checking): the application's key reaches the worker while it holds it and is refused
 * once it ended; the reverted worker serves the next application with its pinned host key.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSshKeyPair } from '../../src/authorized-keys/keys/index.js';
import { createLogger } from '../../src/common/logger.js';
import { callDaemon } from '../../src/jobmgr/client.js';
import { openQemuLifecycle } from '../../src/jobmgr/daemon/configure.js';
import { startDaemon, type RunningDaemon } from '../../src/jobmgr/daemon/run.js';
import { DEFAULT_POOL_SETTINGS } from '../../src/jobmgr/settings.js';
import { trustedSteps } from '../../src/jobmgr/trusted-steps.js';
import { defaultVmDirectory } from '../../src/guest-ops/driver-factory.js';
import { QEMU_USER_ADMIN_ADDRESS } from '../../src/vault/schema.js';
import { workerImageDir, ensureWorkerImage } from '../helpers/image-vm.js';
import { makeKeyxLocation, type KeyxLocation } from '../helpers/keyx-worker.js';
import { keyAccepted } from '../helpers/openssh.js';

describe('the pool with prepareWorker and the key exchange (real QEMU workers, real ssh)', () => {
  let at: KeyxLocation;
  let daemon: RunningDaemon | undefined;

  beforeAll(async () => {
    await ensureWorkerImage();
    at = await makeKeyxLocation('jobmgr-trusted');
    const policies = [at.policies.admin, at.policies.mainNode, at.policies.initiator];
    const lifecycle = await openQemuLifecycle({
      vmDirectory: defaultVmDirectory(at.location),
      imageDirectory: workerImageDir(),
      memoryMiB: 256,
      steps: trustedSteps({
        prepare: { location: at.location, policies },
        keyExchange: {
          location: at.location,
          policies: at.policies,
          adminAddress: QEMU_USER_ADMIN_ADDRESS,
          audit: at.audit,
        },
        adminPublicKey: (await readFile(`${at.adminKeyFile}.pub`, 'utf8')).trim(),
      }),
    });
    if (!lifecycle.ok) throw new Error(lifecycle.error.message);
    const started = await startDaemon({
      location: at.location,
      lifecycle: lifecycle.value,
      settings: { ...DEFAULT_POOL_SETTINGS, namePrefix: 'w-', maxVms: 2, keepFree: 1 },
      log: createLogger({ level: 'error' }),
      maintenanceMs: 500,
    });
    if (!started.ok) throw new Error(started.error.message);
    daemon = started.value;
  }, 300_000);
  afterAll(async () => {
    await daemon?.stop();
    await at?.remove();
  }, 120_000);

  async function post(path: string, body: unknown) {
    const answer = await callDaemon(daemon?.paths.socket ?? '', 'POST', path, body, { timeoutMs: 400_000 });
    if (!answer.ok) throw new Error(answer.error.message);
    return answer.value as { status: number; body: Record<string, unknown> };
  }

  async function mainKey(name: string): Promise<{ file: string; pub: string }> {
    const pair = generateSshKeyPair('ed25519', name);
    const file = join(at.location, `${name}_ed25519`);
    await writeFile(file, pair.privateKey, { mode: 0o600 });
    return { file, pub: pair.publicKey.trim() };
  }

  type Reserved = { worker: string; ssh: { host: string; port: number }; hostKeys: string[] };
  const target = (r: Reserved) => ({ location: at.location, worker: r.worker, user: 'popc', ...r.ssh });

  it('an application key works while it holds its worker, is refused after its end; the reverted worker serves the next one with its pinned host key', async () => {
    const pool = daemon?.pool;
    if (pool === undefined) throw new Error('no daemon');
    for (let i = 0; i < 2000 && pool.status().free < 1; i++) await sleep(200);
    const keyA = await mainKey('app-a');
    const a = await post('/v1/reserve', { app: 'A', job: '1', keys: [{ role: 'main-node', key: keyA.pub }] });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const first = a.body as unknown as Reserved;
    expect(first.hostKeys.length).toBeGreaterThan(0);
    expect(await keyAccepted(target(first), keyA.file)).toBe(true);

    const ended = await post('/v1/end', { app: 'A' });
    expect(ended.body).toMatchObject({ worker: first.worker, outcome: 'reverted' });
    expect(await keyAccepted(target(first), keyA.file)).toBe(false);

    // max_vms 2: B and C take both workers, one of them the reverted one.
    const keyB = await mainKey('app-b');
    const keyC = await mainKey('app-c');
    const [b, c] = await Promise.all([
      post('/v1/reserve', { app: 'B', job: '1', keys: [{ key: keyB.pub }] }),
      post('/v1/reserve', { app: 'C', job: '1', keys: [{ key: keyC.pub }] }),
    ]);
    expect([b.status, c.status]).toEqual([200, 200]);
    const onB = b.body.worker === first.worker;
    const onFirst = (onB ? b.body : c.body) as unknown as Reserved;
    const key = onB ? keyB : keyC;
    expect(onFirst.worker).toBe(first.worker);
    expect(onFirst.hostKeys).toEqual(first.hostKeys);
    expect(await keyAccepted(target(onFirst), key.file)).toBe(true);
    expect(await keyAccepted(target(onFirst), keyA.file)).toBe(false);
    expect(pool.store.checkInvariants()).toEqual([]);
  }, 900_000);
});
