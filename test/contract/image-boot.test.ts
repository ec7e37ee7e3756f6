/**
 * The worker image boots under the QEMU driver's exact command line: the agent answers on the
 * virtio-serial port, runs programs (path + argv), reports eth0's DHCP address and refuses blocked
 * RPCs; sshd accepts a key from /persist; /persist survives a reboot and never touches the base;
 * guest-shutdown and QMP system_powerdown both power the VM off.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import type { WorkerImageManifest } from '../../src/guest-ops/image/manifest.js';
import { GUEST_UID } from '../../src/guest-ops/image/recipe.js';
import {
  bootImageVm,
  ensureWorkerImage,
  qmpCommand,
  QgaLink,
  workerImageDir,
  type ImageVm,
} from '../helpers/image-vm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const AGENT_DEADLINE_MS = 90_000;
const KEYS_DIR = '/persist/etc/ssh/authorized_keys';

describe('worker image boots and serves the agent and sshd', () => {
  let manifest: WorkerImageManifest;
  let imageDir: string;
  let temp: { path: string; remove: () => Promise<void> };
  let overlay: string;
  let baseDigest: string;
  const vms: ImageVm[] = [];
  const links: QgaLink[] = [];

  const digest = async (path: string): Promise<string> =>
    createHash('sha256')
      .update(await readFile(path))
      .digest('hex');

  beforeAll(async () => {
    manifest = await ensureWorkerImage();
    imageDir = workerImageDir();
    temp = await makeTempDir('image-boot');
    overlay = join(temp.path, 'clone.qcow2');
    const base = join(imageDir, manifest.baseDisk);
    baseDigest = await digest(base);
    const create = await runProgram(
      'qemu-img',
      ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, overlay],
      {
        timeoutMs: 30_000,
      },
    );
    expect(create.exitCode).toBe(0);
  }, 300_000);

  afterAll(async () => {
    for (const link of links) link.close();
    for (const vm of vms) await vm.kill();
    await temp?.remove();
    // Nothing left behind: no QEMU process, and the temp dir with overlay, sockets and log is gone.
    for (const vm of vms) expect(await vm.waitExit(0)).toBe(true);
    if (temp !== undefined) expect(await stat(temp.path).catch(() => undefined)).toBeUndefined();
  });

  const boot = async (): Promise<{ vm: ImageVm; qga: QgaLink }> => {
    const vm = await bootImageVm(imageDir, manifest, overlay, temp.path);
    vms.push(vm);
    const qga = await QgaLink.connect(vm.qgaSocket, AGENT_DEADLINE_MS);
    links.push(qga);
    return { vm, qga };
  };

  it('first boot: agent, exec, network, blocked RPCs, ssh login, guest-shutdown', async () => {
    const { vm, qga } = await boot();
    expect((await qga.call('guest-ping')).return).toEqual({});

    const uname = await qga.exec('/bin/busybox', ['uname', '-a']);
    expect(uname.exitcode).toBe(0);
    expect(uname.stdout).toContain(`Linux psm-worker ${manifest.kernelVersion}`);

    // argv arrives verbatim: no shell between qemu-ga and the program.
    const echoed = await qga.exec('/bin/busybox', ['echo', 'a b', '$(id)', ';', "'q'"]);
    expect(echoed.stdout).toBe("a b $(id) ; 'q'\n");

    const interfaces = (await qga.call('guest-network-get-interfaces')).return as Array<{
      name: string;
      'ip-addresses'?: Array<{ 'ip-address': string; 'ip-address-type': string }>;
    }>;
    const eth0 = interfaces.find((i) => i.name === 'eth0');
    expect(
      eth0?.['ip-addresses']?.some((a) => a['ip-address-type'] === 'ipv4' && a['ip-address'] === '10.0.2.15'),
    ).toBe(true);

    const blocked = await qga.call('guest-set-user-password', {
      username: 'popc',
      password: 'eA==',
      crypted: false,
    });
    expect(blocked.error?.desc).toMatch(/disabled/);
    const info = (await qga.call('guest-info')).return as {
      supported_commands: Array<{ name: string; enabled: boolean }>;
    };
    const enabled = info.supported_commands.filter((c) => c.enabled).map((c) => c.name);
    expect(enabled.sort()).toEqual([...manifest.allowedRpcs].sort());

    const renew = await qga.exec(manifest.dhcpRenew.path, manifest.dhcpRenew.argv);
    expect(renew.exitcode).toBe(0);

    // A client key, installed the way psm will: root-owned 0644 file in the root-owned keys dir.
    const keyPath = join(temp.path, 'client_key');
    const keygen = await runProgram('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath], {
      timeoutMs: 30_000,
    });
    expect(keygen.exitCode).toBe(0);
    const userKeys = `${KEYS_DIR}/${manifest.guestUser}`;
    await qga.writeFile(userKeys, await readFile(`${keyPath}.pub`, 'utf8'));
    expect((await qga.exec('/bin/busybox', ['chmod', '644', userKeys])).exitcode).toBe(0);
    await qga.writeFile('/persist/home/popc/marker', 'survives reboot\n');

    // The clone's own host key, read out of band through the agent, is the only one ssh accepts.
    const hostPub = await qga.exec('/bin/busybox', ['cat', '/persist/etc/ssh/ssh_host_ed25519_key.pub']);
    expect(hostPub.exitcode).toBe(0);
    const knownHosts = join(temp.path, 'known_hosts');
    const [keyType, keyBody] = hostPub.stdout.split(' ');
    await writeFile(knownHosts, `[127.0.0.1]:${vm.sshPort} ${keyType} ${keyBody}\n`);
    const sshTo = (...command: string[]): ReturnType<typeof runProgram> =>
      runProgram(
        'ssh',
        [
          ...['-i', keyPath, '-p', String(vm.sshPort), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'],
          ...['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`],
          `${manifest.guestUser}@127.0.0.1`,
          ...command,
        ],
        { timeoutMs: 60_000 },
      );
    const ssh = await sshTo('id');
    const result = {
      exitCode: ssh.exitCode,
      stdout: ssh.stdout.toString(),
      stderr: ssh.stderr.toString(),
      console: ssh.exitCode === 0 ? '' : await readFile(vm.consoleLog, 'utf8'),
    };
    if (result.exitCode !== 0) throw new Error(`ssh failed: ${JSON.stringify(result, null, 1)}`);
    expect(result.stdout).toContain(`(${manifest.guestUser})`);

    // The POP-C++ stand-in: popcobjrun runs only objects.
    const hello = await sshTo('/usr/local/popc/bin/popcobjrun', '/usr/local/popc/objects/hello', 'a1');
    expect(hello.stdout.toString()).toBe(`hello from psm-worker (uid ${GUEST_UID}): a1\n`);
    const notObject = await sshTo('/usr/local/popc/bin/popcobjrun', '/bin/sh', '-c', 'id');
    expect(notObject.exitCode).toBe(2);
    expect(notObject.stdout.toString()).toBe('');

    // guest-shutdown has no reply on success; qemu exits once the guest has powered off.
    qga.close();
    const shutdown = await QgaLink.connect(vm.qgaSocket, 10_000);
    links.push(shutdown);
    await shutdown.call('guest-shutdown', undefined, 2_000).catch(() => undefined);
    expect(await vm.waitExit(60_000)).toBe(true);
  }, 240_000);

  it('second boot: /persist kept its host key and files; system_powerdown powers off; base untouched', async () => {
    const hostKeyBefore = (await readFile(join(temp.path, 'known_hosts'), 'utf8'))
      .split(' ')
      .slice(1)
      .join(' ');
    const { vm, qga } = await boot();
    const marker = await qga.exec('/bin/busybox', ['cat', '/persist/home/popc/marker']);
    expect(marker.stdout).toBe('survives reboot\n');
    const hostKey = await qga.exec('/bin/busybox', ['cat', '/persist/etc/ssh/ssh_host_ed25519_key.pub']);
    expect(hostKeyBefore).toContain(hostKey.stdout.split(' ').slice(0, 2).join(' '));

    expect(await qmpCommand(vm.qmpSocket, 'system_powerdown')).toHaveProperty('return');
    expect(await vm.waitExit(60_000)).toBe(true);
    expect(await digest(join(imageDir, manifest.baseDisk))).toBe(baseDigest);
  }, 240_000);
});
