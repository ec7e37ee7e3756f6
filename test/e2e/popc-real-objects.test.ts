/**
 * A real POP-C++ 2.5 program whose parallel objects run inside two psm-prepared workers (real
 * QEMU VMs from the worker image built with POP-C++'s worker side), started by POP-C++'s own
 * client through psm's $POPC_RSH over the application's restricted main-node key and the pinned
 * host keys, with only the tunnels docs/popc.md describes. Then the same key, with the real
 * OpenSSH client: no shell, no other command, no tunnel beyond the documented ones.
 */
import { createConnection } from 'node:net';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/guest-ops/guest-ops.js';
import { generateSshKeyPair } from '../../src/authorized-keys/keys/index.js';
import {
  grantApplication,
  installAdminKey,
  loadRolePolicies,
  type KeyExchangeSettings,
} from '../../src/psm/key-exchange/index.js';
import { knownHostsPath } from '../../src/psm/host-keys/pin-store.js';
import { runProgram } from '../../src/common/run-program.js';
import { QEMU_USER_ADMIN_ADDRESS } from '../../src/vault/schema.js';
import { freePort } from '../helpers/free-port.js';
import {
  bootPreparedWorker,
  BOOT_MS,
  makeKeyxLocation,
  sshEndpoint,
  type KeyxLocation,
} from '../helpers/keyx-worker.js';
import { ssh, withLocalForward, type SshTarget } from '../helpers/openssh.js';

const POPC = resolve(process.env.PSM_POPC ?? '.cache/popc-2.5');
const POPC_LOCATION = join(POPC, 'root/usr/local/popc');
const PSMSUM = join(POPC, 'programs/psmsum/psmsum');
const RSH = resolve('bin/psm-popc-rsh.js');
const OP_MS = 240_000;
/** The ports the POP-C++ main-node policy permits (policies/popc/main-node.yaml). */
const OBJECT_PORTS = { pw1: 2712, pw2: 2713 } as const;
const CALLBACK_PORT = 2720;
const APPSERVICE_PORT = 2721;

let at: KeyxLocation;
const workers: Worker[] = [];
let mainKey = '';
const targets: Record<string, SshTarget> = {};

beforeAll(
  async () => {
    const shipped = await makeKeyxLocation('popc-real');
    // A POP-C++ grid's location: the POP-C++ main-node policy in place of the shipped one.
    await copyFile(resolve('policies/popc/main-node.yaml'), join(shipped.policiesDir, 'main-node.yaml'));
    const policies = await loadRolePolicies(shipped.policiesDir);
    if (!policies.ok) throw new Error(policies.error.message);
    at = { ...shipped, policies: policies.value };
    const settings: KeyExchangeSettings = {
      location: at.location,
      policies: at.policies,
      adminAddress: QEMU_USER_ADMIN_ADDRESS,
      audit: at.audit,
    };
    const pair = generateSshKeyPair('ed25519', 'psmsum-main-node');
    mainKey = join(at.location, 'main_ed25519');
    await writeFile(mainKey, pair.privateKey, { mode: 0o600 });
    for (const name of Object.keys(OBJECT_PORTS)) {
      const worker = await bootPreparedWorker(at, name);
      workers.push(worker);
      const admin = await installAdminKey(settings, worker, await readFile(`${at.adminKeyFile}.pub`, 'utf8'));
      if (!admin.ok) throw new Error(`admin key on ${name}: ${admin.error.message}`);
      const granted = await grantApplication(settings, worker, 'psmsum', {
        mainNode: pair.publicKey,
        initiator: [],
      });
      if (!granted.ok) throw new Error(`grant on ${name}: ${granted.error.message}`);
      targets[name] = { location: at.location, worker: name, user: 'popc', ...(await sshEndpoint(worker)) };
    }
  },
  2 * BOOT_MS + 120_000,
);

afterAll(async () => {
  for (const w of workers) await w.close();
  await at?.remove();
}, 60_000);

async function tunnelMap(): Promise<string> {
  const file = join(at.location, 'popc-tunnels.json');
  const entries = Object.entries(OBJECT_PORTS).map(([name, port]) => ({
    name,
    sshHost: targets[name]?.host,
    sshPort: targets[name]?.port,
    user: 'popc',
    identityFile: mainKey,
    knownHostsFile: knownHostsPath(at.location),
    hostKeyAlias: name,
    objectPorts: [port],
    callbackPort: CALLBACK_PORT,
    appservicePort: APPSERVICE_PORT,
  }));
  await writeFile(file, JSON.stringify({ workers: entries }), { mode: 0o600 });
  return file;
}

/** Runs psmsum under POP-C++'s popcrun, placing one object on each MACHINE ("WORKER:PORT"). */
async function psmsum(machines: string[]): Promise<Awaited<ReturnType<typeof runProgram>>> {
  const map = await tunnelMap();
  // The object map: the code file at its path on the workers (the worker image puts it there).
  const objMap = join(at.location, 'obj.map');
  await writeFile(objMap, 'Counter x86_64-unknown-Linux /usr/local/popc/objects/psmsum.obj\n');
  return runProgram(join(POPC_LOCATION, 'bin/popcrun'), [objMap, PSMSUM, ...machines], {
    timeoutMs: OP_MS - 30_000,
    cwd: at.location,
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      POPC_LOCATION,
      POPC_RSH: RSH,
      POPC_HOST: '127.0.0.1',
      POPC_JOBSERVICE: '127.0.0.1:2711',
      PSM_POPC_TUNNELS: map,
    },
  });
}

describe('a real POP-C++ program with its objects in psm workers', () => {
  it(
    "psmsum's two Counter objects run in the two workers and return the right sums",
    async () => {
      const run = await psmsum([`pw1:${OBJECT_PORTS.pw1}`, `pw2:${OBJECT_PORTS.pw2}`]);
      const stdout = run.stdout.toString();
      expect({ code: run.exitCode, stdout, stderr: run.stderr.toString() }).toStrictEqual({
        code: 0,
        stdout: expect.stringMatching(
          /^object 1 on psm-worker pid \d+: sum=55\nobject 2 on psm-worker pid \d+: sum=210\ntotal=265\n$/,
        ),
        stderr: expect.any(String),
      });
      // "psm-worker" is the guests' host name (the admin's is not): the objects ran in the workers.
      expect(stdout).not.toContain(hostname());
    },
    OP_MS,
  );

  it(
    'a second object on a worker that runs one is refused (its tunnel ports are taken) and the program fails cleanly',
    async () => {
      const run = await psmsum([`pw1:${OBJECT_PORTS.pw1}`, `pw1:${OBJECT_PORTS.pw1}`]);
      // popcrun exits 0 even when the program failed (POP-C++ 2.5's own behaviour): read the output.
      const stderr = run.stderr.toString();
      expect(stderr).toContain('psm-popc-rsh: POPC_RSH_WORKER_BUSY: worker pw1 is running another object');
      // No result at all: the program stopped at the failed allocation (POP-C++'s own exit notice only).
      expect(run.stdout.toString()).not.toMatch(/sum=|total=/);
      expect(stderr).toContain('psmsum: POP-C++ exception');
    },
    OP_MS,
  );

  it(
    'the same key gets no shell, no other command, and no tunnel beyond the documented ones',
    async () => {
      const target = targets.pw1;
      if (target === undefined) throw new Error('no worker');
      const shell = await ssh(target, mainKey, ['-T'], []);
      expect([shell.code, shell.stdout]).toStrictEqual([126, '']);
      for (const command of [
        ['id'],
        ['/bin/sh', '-c', 'id'],
        ['popcobjrun', '/bin/sh'],
        ['popcobjrun', '/usr/local/popc/objects/psmsum.obj', '-object=Counter', 'x'],
        ['popcobjrun', '/usr/local/popc/objects/psmsum.obj', '-batch=sge'],
        ['/usr/local/popc/bin/popcobjrun', '/usr/local/popc/objects/hello'],
      ]) {
        const refused = await ssh(target, mainKey, ['-T'], command);
        expect([command, refused.code, refused.stdout]).toStrictEqual([command, 126, '']);
      }

      // -L only to the object ports and the job manager; sshd's banner would come back through 22.
      const local = await freePort();
      const toSshd = await withLocalForward(target, mainKey, `127.0.0.1:${local}:127.0.0.1:22`, async () => {
        await sleep(3000);
        return new Promise<string>((done) => {
          const socket = createConnection({ host: '127.0.0.1', port: local });
          let got = '';
          socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
          socket.on('close', () => done(got));
          socket.on('error', () => done(got));
          socket.setTimeout(10_000, () => socket.destroy());
        });
      });
      expect(toSshd.value).toBe('');
      await sleep(500);
      expect(toSshd.stderr).toMatch(/administratively prohibited/);

      // -R only on the callback and appservice ports.
      for (const spec of ['127.0.0.1:2722:127.0.0.1:9', '127.0.0.1:0:127.0.0.1:9']) {
        const remote = await ssh(target, mainKey, ['-N', '-o', 'ExitOnForwardFailure=yes', '-R', spec], []);
        expect([spec, remote.code]).toStrictEqual([spec, 255]);
        expect(remote.stderr).toMatch(/remote port forwarding failed/);
      }
    },
    OP_MS,
  );
});
