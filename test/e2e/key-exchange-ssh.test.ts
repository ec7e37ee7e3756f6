/**
 * Key exchange on a real worker VM, proven with the real OpenSSH client: after psm writes the
 * admin key, `ssh -i` with psm's known_hosts (strict checking, no prompt) reaches only the gate;
 * an application's keys work while it holds the worker and are refused once it is revoked.
 */
import { createConnection } from 'node:net';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/guest-ops/guest-ops.js';
import { generateSshKeyPair } from '../../src/authorized-keys/keys/index.js';
import {
  ensureUserKey,
  grantApplication,
  GUEST_AUTHORIZED_KEYS,
  installAdminKey,
  readIntendedKeys,
  revokeApplication,
  type KeyExchangeSettings,
} from '../../src/psm/key-exchange/index.js';
import { QEMU_USER_ADMIN_ADDRESS } from '../../src/vault/schema.js';
import { freePort } from '../helpers/free-port.js';
import {
  bootPreparedWorker,
  BOOT_MS,
  makeKeyxLocation,
  sshEndpoint,
  type KeyxLocation,
} from '../helpers/keyx-worker.js';
import { keyAccepted, ssh, withLocalForward, type SshTarget } from '../helpers/openssh.js';

const OP_MS = 120_000;
const HELLO = '/usr/local/popc/objects/hello';
const PROBE = '/usr/local/popc/objects/probe';
// Run through the gate and popcobjrun: says whether the session has a terminal or an agent socket.
const PROBE_SCRIPT = `#!/bin/sh
if tty -s; then echo tty=yes; else echo tty=no; fi
echo "agent-sockets=$(ls -d /tmp/ssh-* 2>/dev/null | wc -l)"
`;

let at: KeyxLocation;
let worker: Worker;
let settings: KeyExchangeSettings;
let target: SshTarget;
let adminPub: string;

async function keyFile(name: string): Promise<{ file: string; pub: string }> {
  const pair = generateSshKeyPair('ed25519', name);
  const file = join(at.location, `${name}_ed25519`);
  await writeFile(file, pair.privateKey, { mode: 0o600 });
  return { file, pub: pair.publicKey };
}

/** One request/answer through a forwarded port (the guest's echo server sends it back). */
async function echoThrough(port: number, text: string): Promise<string> {
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const answer = await new Promise<string | null>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let got = '';
      socket.on('connect', () => socket.write(text));
      socket.on('data', (chunk: Buffer) => {
        got += chunk.toString();
        if (got.length >= text.length) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on('error', () => resolve(null));
      socket.on('close', () => resolve(got.length > 0 ? got : null));
      socket.setTimeout(10_000, () => socket.destroy());
    });
    if (answer !== null) return answer;
    await sleep(500);
  }
  throw new Error('the forwarded port never answered');
}

beforeAll(async () => {
  at = await makeKeyxLocation('keyx-ssh');
  worker = await bootPreparedWorker(at, 'kx1');
  settings = {
    location: at.location,
    policies: at.policies,
    adminAddress: QEMU_USER_ADMIN_ADDRESS,
    audit: at.audit,
  };
  const endpoint = await sshEndpoint(worker);
  target = { location: at.location, worker: 'kx1', user: 'popc', ...endpoint };
  adminPub = await readFile(`${at.adminKeyFile}.pub`, 'utf8');
}, BOOT_MS + 60_000);

afterAll(async () => {
  await worker?.close();
  await at?.remove();
}, 60_000);

describe('key exchange on a real worker, proven with OpenSSH', () => {
  it(
    'writes the admin key as one root-owned 0644 file that reads back as exactly the intended set',
    async () => {
      expect(await keyAccepted(target, at.adminKeyFile)).toBe(false);
      const installed = await installAdminKey(settings, worker, adminPub);
      expect(installed.ok, installed.ok ? '' : installed.error.message).toBe(true);
      const file = await worker.copyFromGuest(GUEST_AUTHORIZED_KEYS);
      if (!file.ok) throw new Error(file.error.message);
      expect([file.value.mode, file.value.owner]).toEqual([0o644, { uid: 0, gid: 0 }]);
      const lines = Buffer.from(file.value.data)
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('restrict'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^restrict,port-forwarding,permitopen="127\.0\.0\.1:2711",/);
      expect(lines[0]).toContain('from="10.0.2.2/32"');
      expect(lines[0]).toContain('command="/usr/local/libexec/psm/gate-admin"');
      expect(await keyAccepted(target, at.adminKeyFile)).toBe(true);
      // Installing the same key again changes nothing but the revision: the grant time is kept.
      const before = await readIntendedKeys(at.location, 'kx1');
      const again = await installAdminKey(settings, worker, adminPub);
      const after = await readIntendedKeys(at.location, 'kx1');
      expect(again.ok && before.ok && after.ok && after.value.admin[0]?.grantedAt).toBe(
        before.ok ? before.value.admin[0]?.grantedAt : 'x',
      );
    },
    OP_MS,
  );

  it(
    'lets the admin key reach only the gate: an allowed object runs, a shell or another command is refused',
    async () => {
      const hello = await ssh(target, at.adminKeyFile, ['-T'], ['popcobjrun', HELLO, 'a', 'b']);
      expect([hello.code, hello.stdout]).toEqual([
        0,
        expect.stringMatching(/^hello from psm-worker \(uid 1000\): a b\n$/),
      ]);
      const shell = await ssh(target, at.adminKeyFile, ['-T'], []);
      expect(shell.code).toBe(126);
      expect(shell.stderr).toMatch(/psm-gate: refused/);
      for (const command of [
        ['/bin/sh', '-c', 'id'],
        ['id'],
        ['popcobjrun', '/bin/sh'],
        ['popcobjrun', `${HELLO};id`],
      ]) {
        const refused = await ssh(target, at.adminKeyFile, ['-T'], command);
        expect([command, refused.code, refused.stdout]).toEqual([command, 126, '']);
      }
    },
    OP_MS,
  );

  it(
    'carries data over -L to the permitted port and refuses -L elsewhere, -R, a pty, agent and X11 forwarding',
    async () => {
      const started = await worker.runProgram('/sbin/start-stop-daemon', [
        // A pid file of its own: without one, any running busybox applet counts as "already running".
        ...['-S', '-b', '-m', '-p', '/run/psm-echo.pid', '-x', '/bin/busybox'],
        ...['--', 'nc', '-ll', '-p', '2711', '-e', '/bin/cat'],
      ]);
      expect(started.ok && started.value.exitCode).toBe(0);
      const local = await freePort();
      const forwarded = await withLocalForward(
        target,
        at.adminKeyFile,
        `127.0.0.1:${local}:127.0.0.1:2711`,
        () => echoThrough(local, 'through the tunnel\n'),
      );
      expect(forwarded.value).toBe('through the tunnel\n');

      const otherPort = await freePort();
      const elsewhere = await withLocalForward(
        target,
        at.adminKeyFile,
        `127.0.0.1:${otherPort}:127.0.0.1:22`,
        async () => {
          await sleep(3000);
          return new Promise<string>((resolve) => {
            const socket = createConnection({ host: '127.0.0.1', port: otherPort });
            let got = '';
            socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
            socket.on('close', () => resolve(got));
            socket.on('error', () => resolve(got));
            socket.setTimeout(10_000, () => socket.destroy());
          });
        },
      );
      // sshd's own banner would come back if the tunnel were allowed; the channel is refused instead.
      expect(elsewhere.value).toBe('');
      await sleep(500);
      expect(elsewhere.stderr).toMatch(/administratively prohibited/);

      const remote = await ssh(
        target,
        at.adminKeyFile,
        ['-N', '-o', 'ExitOnForwardFailure=yes', '-R', '127.0.0.1:0:127.0.0.1:9'],
        [],
      );
      expect(remote.code).toBe(255);
      expect(remote.stderr).toMatch(/remote port forwarding failed/);

      const probe = await worker.copyToGuest(Buffer.from(PROBE_SCRIPT), PROBE, {
        mode: 0o755,
        owner: { uid: 0, gid: 0 },
      });
      expect(probe.ok).toBe(true);
      const pty = await ssh(target, at.adminKeyFile, ['-tt'], ['popcobjrun', PROBE]);
      // ssh -tt gives up when the terminal it insisted on is refused: nothing ran.
      expect([pty.code, pty.stdout]).toEqual([255, '']);
      expect(pty.stderr).toMatch(/PTY allocation request failed/);

      const x11 = await ssh(target, at.adminKeyFile, ['-T', '-X'], ['popcobjrun', PROBE], {
        ...process.env,
        DISPLAY: ':99',
      });
      expect(x11.stderr).toMatch(/X11 forwarding request failed/);

      const agent = await startAgentWith(at.adminKeyFile);
      try {
        const forwardedAgent = await ssh(target, at.adminKeyFile, ['-T', '-A'], ['popcobjrun', PROBE], {
          ...process.env,
          SSH_AUTH_SOCK: agent.socket,
        });
        expect([forwardedAgent.code, forwardedAgent.stdout]).toEqual([0, 'tty=no\nagent-sockets=0\n']);
      } finally {
        await agent.stop();
      }
    },
    OP_MS * 2,
  );

  it(
    "accepts an application's main-node and initiator keys while it holds the worker and refuses them after revoke",
    async () => {
      const main = await keyFile('main-node');
      const initiator = await keyFile('initiator');
      expect(await keyAccepted(target, main.file)).toBe(false);
      const granted = await grantApplication(settings, worker, 'app-42', {
        mainNode: main.pub,
        initiator: [initiator.pub],
      });
      expect(granted.ok, granted.ok ? '' : granted.error.message).toBe(true);
      const runs = await ssh(target, main.file, ['-T'], ['popcobjrun', HELLO, 'main']);
      expect([runs.code, runs.stdout]).toEqual([0, expect.stringMatching(/^hello from .*: main\n$/)]);
      // The initiator logs in but its gate allows no object at all.
      const initiatorRun = await ssh(target, initiator.file, ['-T'], ['popcobjrun', HELLO]);
      expect(initiatorRun.code).toBe(126);
      expect(initiatorRun.stderr).toMatch(/object not allowed/);

      const revoked = await revokeApplication(settings, worker, 'app-42');
      expect(revoked.ok, revoked.ok ? '' : revoked.error.message).toBe(true);
      expect(await keyAccepted(target, main.file)).toBe(false);
      expect(await keyAccepted(target, initiator.file)).toBe(false);
      expect(await keyAccepted(target, at.adminKeyFile)).toBe(true);
      // Revoking again (a retry after a crash) succeeds and changes nothing.
      const again = await revokeApplication(settings, worker, 'app-42');
      expect(again.ok && again.value.fingerprints).toEqual(revoked.ok && revoked.value.fingerprints);
    },
    OP_MS,
  );

  it(
    'refuses bad ids, certificates, a key under two roles and an admin policy that would lock the admin out, changing nothing',
    async () => {
      const before = await worker.copyFromGuest(GUEST_AUTHORIZED_KEYS);
      const main = await keyFile('other-main');
      const badId = await grantApplication(settings, worker, '../x', { mainNode: main.pub, initiator: [] });
      expect(!badId.ok && badId.error.code).toBe('KEYX_BAD_ID');
      const badKey = await grantApplication(settings, worker, 'app-1', {
        mainNode: 'ssh-ed25519 AAAA',
        initiator: [],
      });
      expect(!badKey.ok && badKey.error.code).toBe('KEYX_BAD_KEY');
      const twoLines = await grantApplication(settings, worker, 'app-1', {
        mainNode: `${main.pub}\n${main.pub}`,
        initiator: [],
      });
      expect(!twoLines.ok && twoLines.error.code).toBe('KEYX_BAD_KEY');
      const duplicate = await grantApplication(settings, worker, 'app-1', {
        mainNode: adminPub,
        initiator: [],
      });
      expect(!duplicate.ok && duplicate.error.code).toBe('KEYX_DUPLICATE_KEY');
      const lockedOut = await installAdminKey(
        { ...settings, adminAddress: '192.168.122.1' },
        worker,
        adminPub,
      );
      expect(!lockedOut.ok && lockedOut.error.code).toBe('KEYX_ADMIN_FROM_MISMATCH');
      const after = await worker.copyFromGuest(GUEST_AUTHORIZED_KEYS);
      expect(
        after.ok && before.ok && Buffer.from(after.value.data).equals(Buffer.from(before.value.data)),
      ).toBe(true);
    },
    OP_MS,
  );

  it(
    "makes the worker's own user key: the private half only in the guest (0600, the POP-C++ user's), the public half returned",
    async () => {
      const made = await ensureUserKey(settings, worker);
      if (!made.ok) throw new Error(made.error.message);
      expect(made.value).toMatchObject({ created: true, guestPath: '/persist/home/popc/.ssh/id_ed25519' });
      expect(made.value.publicKey).toMatch(/^ssh-ed25519 AAAA/);
      const secret = await worker.copyFromGuest(made.value.guestPath);
      if (!secret.ok) throw new Error(secret.error.message);
      expect([secret.value.mode, secret.value.owner]).toEqual([0o600, { uid: 1000, gid: 1000 }]);
      secret.value.data.fill(0);
      const record = await readFile(join(at.location, 'var', 'psm', 'workers', 'kx1.keys.json'), 'utf8');
      expect(record).not.toMatch(/PRIVATE KEY|openssh-key-v1/);
      const again = await ensureUserKey(settings, worker);
      expect(again.ok && [again.value.created, again.value.fingerprint]).toEqual([
        false,
        made.value.fingerprint,
      ]);
    },
    OP_MS,
  );
});

/** ssh-agent on a private socket holding `key`, for the agent-forwarding probe. */
async function startAgentWith(key: string): Promise<{ socket: string; stop: () => Promise<void> }> {
  const { runProgram } = await import('../../src/common/run-program.js');
  const socket = join(at.location, 'agent.sock');
  const started = await runProgram('ssh-agent', ['-a', socket, '-s'], { timeoutMs: 10_000 });
  const pid = /SSH_AGENT_PID=(\d+)/.exec(started.stdout.toString())?.[1];
  if (pid === undefined) throw new Error('ssh-agent did not start');
  await chmod(key, 0o600);
  const added = await runProgram('ssh-add', [key], {
    timeoutMs: 10_000,
    env: { ...process.env, SSH_AUTH_SOCK: socket },
  });
  if (added.exitCode !== 0) throw new Error(`ssh-add: ${added.stderr.toString()}`);
  return {
    socket,
    async stop() {
      process.kill(Number(pid), 'SIGTERM');
    },
  };
}
