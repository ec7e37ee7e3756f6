/**
 * Worker identity end to end (issue 11): two clones prepared concurrently by the built CLI, then
 * the real OpenSSH client against them with psm's known_hosts, a revert and a reboot, a drop-in
 * sshd refuses, hostile guest answers, and the Unix-socket forwarding psm's sshd config closes.
 * The two VMs are booted once and shared by the cases, in order.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSshKeyPair, wipeKeyPair } from '../../src/authorized-keys/keys/index.js';
import { defaultVmDirectory, openDriver } from '../../src/guest-ops/driver-factory.js';
import type { Worker } from '../../src/guest-ops/guest-ops.js';
import { knownHostsPath } from '../../src/psm/host-keys/pin-store.js';
import { loadPolicyFile } from '../../src/psm/policy/index.js';
import type { KeyPolicy } from '../../src/psm/policy/types.js';
import { prepareWorker, readWorkerRecord, type PrepareFailure } from '../../src/psm/worker-prepare/index.js';
import { DEFAULT_WORKER_IMAGE_DIR } from '../../src/guest-ops/image/manifest.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import {
  clientKey,
  guestHostKeyFiles,
  keyscanFingerprints,
  psmAt,
  sshWithPins,
  type PrepareJson,
} from '../helpers/worker-identity.js';

const IMAGE = process.env.PSM_WORKER_IMAGE ?? DEFAULT_WORKER_IMAGE_DIR;
const NAMES = ['wid-a', 'wid-b'] as const;

let temp: { path: string; remove: () => Promise<void> };
let location: string;
let psm: ReturnType<typeof psmAt>;
let key: { path: string; line: string };
let policies: KeyPolicy[];
const prepared: Record<string, PrepareJson> = {};
const firstBootKeys: string[] = [];

async function expectOk(args: string[]) {
  const run = await psm(args);
  expect(run.code, `psm ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run;
}

/** Runs `work` on an in-process handle of the worker (the CLI processes have closed theirs). */
async function withWorker<T>(name: string, work: (worker: Worker) => Promise<T>): Promise<T> {
  const driver = await openDriver({ kind: 'qemu', vmDirectory: defaultVmDirectory(location) });
  if (!driver.ok) throw new Error(driver.error.message);
  const worker = await driver.value.openWorker(name);
  if (!worker.ok) throw new Error(worker.error.message);
  try {
    return await work(worker.value);
  } finally {
    await worker.value.close();
  }
}

async function installLoginKey(name: string) {
  const file = join(temp.path, 'authorized_keys');
  await writeFile(file, key.line);
  await expectOk([
    'vm',
    'copy-in',
    name,
    file,
    '/persist/etc/ssh/authorized_keys/popc',
    '--mode',
    '0644',
    '--owner',
    '0:0',
  ]);
}

function failureOf(result: { ok: boolean; error?: PrepareFailure }): { code?: string; step?: string } {
  return result.ok ? {} : { code: result.error?.code, step: result.error?.step };
}

beforeAll(async () => {
  temp = await makeTempDir('worker-identity');
  location = join(temp.path, 'location');
  psm = psmAt(location);
  // prepare records what it did in the location's audit log (its key is in the vault).
  await expectOk(['init', '--location', location]);
  key = await clientKey(temp.path);
  policies = [];
  for (const file of ['admin.yaml', 'main-node.yaml', 'initiator.yaml']) {
    const loaded = await loadPolicyFile(join('policies', file));
    if (!loaded.ok) throw new Error(`${file}: ${loaded.error[0]?.message}`);
    policies.push(loaded.value);
  }
  // No --vm-dir anywhere: `psm vm` and `psm worker` share the location's VM directory.
  await Promise.all(NAMES.map((n) => expectOk(['vm', 'clone', n, '--image', IMAGE])));
  await Promise.all(NAMES.map((n) => expectOk(['vm', 'start', n])));
  for (const n of NAMES) {
    const pub = await expectOk([
      'vm',
      'exec',
      n,
      '--',
      '/bin/cat',
      '/persist/etc/ssh/ssh_host_ed25519_key.pub',
    ]);
    firstBootKeys.push(pub.stdout.split(' ')[1] ?? '');
    await installLoginKey(n);
  }
}, 400_000);

afterAll(async () => {
  for (const n of NAMES) await psm(['vm', 'destroy', n]);
  await temp?.remove();
}, 120_000);

describe('psm worker prepare on two clones at once', () => {
  it('gives each clone its own keys, exactly what ssh-keyscan sees, and no other host key file', async () => {
    const runs = await Promise.all(
      NAMES.map((n) => psm(['worker', 'prepare', n, '--json', '--no-admin-key', '--policies', 'policies'])),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.code, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout) as PrepareJson;
      expect(out).toMatchObject({
        worker: NAMES[i],
        ssh: { host: '127.0.0.1' },
        knownHosts: knownHostsPath(location),
      });
      expect(out.hostKeys).toHaveLength(1);
      expect(out.hostKeys[0]?.type).toBe('ssh-ed25519');
      prepared[NAMES[i] ?? ''] = out;
      expect(run.stderr).toMatch(/step 15\/15 record/);
    }
    const [a, b] = NAMES.map((n) => prepared[n] as PrepareJson) as [PrepareJson, PrepareJson];
    expect(a.hostKeys[0]?.fingerprint).not.toBe(b.hostKeys[0]?.fingerprint);
    for (const out of [a, b]) {
      expect(await keyscanFingerprints(out.ssh.port, temp.path)).toEqual(
        out.hostKeys.map((k) => k.fingerprint),
      );
      const files = await guestHostKeyFiles(psm, out.worker);
      expect(files).toHaveLength(2);
      expect(
        files.every((f) => /^\/persist\/etc\/ssh\/psm_host_ed25519_key-[0-9a-f]{12}(\.pub)?$/.test(f)),
      ).toBe(true);
      // Not the key the clone made itself at first boot (which is gone).
      const pub = await expectOk([
        'vm',
        'exec',
        out.worker,
        '--',
        '/bin/cat',
        `${files.find((f) => f.endsWith('.pub'))}`,
      ]);
      expect(firstBootKeys).not.toContain(pub.stdout.split(' ')[1]);
      const record = await readWorkerRecord(location, out.worker);
      expect(record.ok && record.value.identity.hostKeys.map((k) => k.fingerprint)).toEqual(
        out.hostKeys.map((k) => k.fingerprint),
      );
    }
  }, 300_000);

  it('ssh with StrictHostKeyChecking=yes reaches each by alias and by address; a swapped alias or port is refused', async () => {
    const [a, b] = NAMES.map((n) => prepared[n] as PrepareJson) as [PrepareJson, PrepareJson];
    for (const out of [a, b]) {
      const byAlias = await sshWithPins(location, key.path, out.ssh.port, [
        '-o',
        `HostKeyAlias=${out.worker}`,
      ]);
      expect([byAlias.code, byAlias.stdout, byAlias.stderr]).toEqual([0, 'reached\n', '']);
      const byAddress = await sshWithPins(location, key.path, out.ssh.port, []);
      expect([byAddress.code, byAddress.stdout]).toEqual([0, 'reached\n']);
    }
    const aliasAtB = await sshWithPins(location, key.path, b.ssh.port, ['-o', `HostKeyAlias=${a.worker}`]);
    expect(aliasAtB.code).toBe(255);
    expect(aliasAtB.stderr).toMatch(/Host key verification failed/);
    expect(aliasAtB.stdout).toBe('');
    const bAtA = await sshWithPins(location, key.path, a.ssh.port, ['-o', `HostKeyAlias=${b.worker}`]);
    expect(bAtA.stderr).toMatch(/Host key verification failed/);

    expect((await psm(['worker', 'verify', a.worker])).code).toBe(0);
    const swapped = await psm(['worker', 'verify', a.worker, '--ssh-port', String(b.ssh.port), '--json']);
    expect(swapped.code).toBe(1);
    expect(JSON.parse(swapped.stdout)).toMatchObject({
      verified: false,
      error: { code: 'HOST_KEY_MISMATCH' },
    });
    expect(swapped.stderr).toMatch(/^psm: HOST_KEY_MISMATCH: /);
  }, 180_000);

  it('refuses Unix-socket forwarding both ways on a prepared worker (the key allows port forwarding)', async () => {
    const a = prepared[NAMES[0]] as PrepareJson;
    const local = join(temp.path, 'fwd.sock');
    const ssh = spawn('ssh', [
      ...[
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-i',
        key.path,
        '-o',
        'StrictHostKeyChecking=yes',
      ],
      ...['-o', `UserKnownHostsFile=${knownHostsPath(location)}`, '-o', `HostKeyAlias=${a.worker}`],
      ...['-N', '-L', `${local}:/run/qemu-ga.sock`, '-p', String(a.ssh.port), 'popc@127.0.0.1'],
    ]);
    let stderr = '';
    ssh.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      let connected = false;
      for (let i = 0; i < 100 && !connected; i += 1) {
        connected = await new Promise<boolean>((done) => {
          const socket = createConnection(local);
          socket.once('connect', () => {
            socket.once('close', () => done(true));
            socket.resume();
          });
          socket.once('error', () => done(false));
        });
        if (!connected) await sleep(200);
      }
      expect(connected).toBe(true);
      for (let i = 0; i < 50 && !/open failed/.test(stderr); i += 1) await sleep(100);
      expect(stderr).toMatch(/channel \d+: open failed/);
    } finally {
      ssh.kill('SIGTERM');
    }
    const console = await readFile(join(defaultVmDirectory(location), a.worker, 'console.log'), 'utf8');
    expect(console).toMatch(/refused streamlocal port forward: .*target \/run\/qemu-ga\.sock/);
    // And the other direction, the gap the policy work found: listening on a worker's Unix socket.
    const listen = await sshWithPins(location, key.path, a.ssh.port, [
      ...['-o', `HostKeyAlias=${a.worker}`, '-o', 'ExitOnForwardFailure=yes'],
      ...['-N', '-R', '/run/psm-listen.sock:127.0.0.1:9'],
    ]);
    expect(listen.code).toBe(255);
    expect(listen.stderr).toMatch(/remote port forwarding failed for listen path \/run\/psm-listen\.sock/);
  }, 120_000);
});

describe('a prepared worker keeps its identity', () => {
  it('after a revert to the clean snapshot, even once its key files were deleted', async () => {
    const a = prepared[NAMES[0]] as PrepareJson;
    const files = await guestHostKeyFiles(psm, a.worker);
    await expectOk(['vm', 'exec', a.worker, '--', '/bin/rm', '-f', ...files]);
    expect(await guestHostKeyFiles(psm, a.worker)).toEqual([]);
    await expectOk(['vm', 'revert', a.worker]);
    expect(await guestHostKeyFiles(psm, a.worker)).toEqual(files);
    expect((await psm(['worker', 'verify', a.worker])).code).toBe(0);
    expect(await keyscanFingerprints(a.ssh.port, temp.path)).toEqual(a.hostKeys.map((k) => k.fingerprint));
  }, 180_000);

  it("after a reboot (the image starts sshd with psm's config and makes no key of its own)", async () => {
    const b = prepared[NAMES[1]] as PrepareJson;
    await expectOk(['vm', 'stop', b.worker]);
    await expectOk(['vm', 'start', b.worker]);
    expect(await guestHostKeyFiles(psm, b.worker)).toHaveLength(2);
    const verified = await psm(['worker', 'verify', b.worker, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    const now = JSON.parse(verified.stdout) as { ssh: { port: number } };
    expect(await keyscanFingerprints(now.ssh.port, temp.path)).toEqual(b.hostKeys.map((k) => k.fingerprint));
    const alias = await sshWithPins(location, key.path, now.ssh.port, ['-o', `HostKeyAlias=${b.worker}`]);
    expect(alias.stdout).toBe('reached\n');
  }, 240_000);
});

describe('what prepare refuses', () => {
  it('a drop-in sshd -t rejects, and one that would weaken a setting: coded, worker untouched', async () => {
    const a = prepared[NAMES[0]] as PrepareJson;
    const pinsBefore = await readFile(knownHostsPath(location));
    const filesBefore = await guestHostKeyFiles(psm, a.worker);
    for (const [extra, code] of [
      ['NoSuchKeyword yes', 'SSHD_CONFIG_REJECTED'],
      ['Match all\n  AllowStreamLocalForwarding yes', 'SSHD_CONFIG_INEFFECTIVE'],
    ] as const) {
      const outcome = await withWorker(a.worker, (w) =>
        prepareWorker(w, { location, policies, sshdConfigExtra: extra }),
      );
      expect(failureOf(outcome)).toEqual({ code, step: 'check-config' });
      expect((await psm(['worker', 'verify', a.worker])).code).toBe(0);
      expect(await guestHostKeyFiles(psm, a.worker)).toEqual(filesBefore);
      expect(await readFile(knownHostsPath(location))).toEqual(pinsBefore);
      // Nothing was switched, so the worker is still the prepared one.
      expect((await readWorkerRecord(location, a.worker)).ok).toBe(true);
    }
    const ls = await expectOk(['vm', 'exec', a.worker, '--', '/bin/ls', '/persist/etc/ssh']);
    expect(ls.stdout).not.toMatch(/sshd_config\.psm\.new/);
    const reached = await sshWithPins(location, key.path, a.ssh.port, ['-o', `HostKeyAlias=${a.worker}`]);
    expect(reached.stdout).toBe('reached\n');
  }, 240_000);

  it('hostile guest answers (not a key, another key, a huge file) are coded and leave the pins untouched', async () => {
    const a = prepared[NAMES[0]] as PrepareJson;
    const pinsBefore = await readFile(knownHostsPath(location));
    const other = generateSshKeyPair('ed25519', '');
    wipeKeyPair(other);
    const cases = [
      ['not a key\n', 'GUEST_KEY_INVALID'],
      [other.publicKey, 'GUEST_KEY_MISMATCH'],
      [`ssh-ed25519 ${'A'.repeat(40_000)}\n`, 'GUEST_ANSWER_TOO_LARGE'],
    ] as const;
    for (const [swap, code] of cases) {
      // The guest really holds these bytes: what psm wrote as the .pub is replaced in the guest.
      const outcome = await withWorker(a.worker, (real) => {
        const hostile: Worker = {
          name: real.name,
          powerOn: (o) => real.powerOn(o),
          status: (o) => real.status(o),
          waitForAgent: (o) => real.waitForAgent(o),
          readAddress: (o) => real.readAddress(o),
          renewAddress: (o) => real.renewAddress(o),
          copyToGuest: (data, path, o) =>
            real.copyToGuest(/psm_host_.*\.pub$/.test(path) ? Buffer.from(swap) : data, path, o),
          copyFromGuest: (path, o) => real.copyFromGuest(path, o),
          runProgram: (path, argv, o) => real.runProgram(path, argv, o),
          takeSnapshot: (snapshot, o) => real.takeSnapshot(snapshot, o),
          revertToSnapshot: (snapshot, o) => real.revertToSnapshot(snapshot, o),
          powerOff: (o) => real.powerOff(o),
          close: () => real.close(),
        };
        return prepareWorker(hostile, { location, policies });
      });
      expect(failureOf(outcome)).toEqual({ code, step: 'read-back' });
      expect(await readFile(knownHostsPath(location))).toEqual(pinsBefore);
      expect((await psm(['worker', 'verify', a.worker])).code).toBe(0);
    }
  }, 240_000);

  it('forget removes the pins and the record; verify then says NOT_PINNED', async () => {
    const b = prepared[NAMES[1]] as PrepareJson;
    const forgot = await psm(['worker', 'forget', b.worker, '--json']);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(JSON.parse(forgot.stdout)).toMatchObject({ worker: b.worker, removedRecord: true });
    const text = await readFile(knownHostsPath(location), 'utf8');
    expect(text).not.toContain(b.worker);
    expect(text).toContain(prepared[NAMES[0]]?.worker);
    const verify = await psm(['worker', 'verify', b.worker, '--json']);
    expect(verify.code).toBe(3);
    expect(JSON.parse(verify.stdout)).toMatchObject({ error: { code: 'NOT_PINNED' } });
    expect((await psm(['worker', 'forget', b.worker])).code).toBe(3);
  }, 120_000);
});
