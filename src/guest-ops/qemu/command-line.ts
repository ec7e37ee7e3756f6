import type { WorkerTemplate } from '../guest-ops.js';
import type { VmLayout } from './vm-layout.js';

/**
 * The QEMU command line for a worker, as an argv array (never a string: runProgram passes it to
 * execve). Pure, so the exact line is unit-tested.
 *
 * - q35 with TCG or KVM; `-M microvm` hangs on about half the boots without tsc_early_khz.
 * - `-nodefaults -no-user-config`: only the devices listed here, nothing from /etc/qemu.
 * - The clone's overlay as a virtio disk; the template's base is only ever its backing file.
 * - The guest agent on a virtio-serial port whose chardev is a Unix socket in the VM directory.
 * - A virtio RNG (QEMU's built-in backend, fed by the host's getrandom): without it the guest
 *   waits ~2 s for entropy before sshd and ssh-keygen can start, on every boot.
 * - User-mode networking, `restrict=on` (the guest reaches nothing outside), with one host
 *   forward from 127.0.0.1:PORT to the guest's port 22. See docs/guest-ops.md for a bridge/tap.
 * - QMP on a second Unix socket; `-daemonize` with a pidfile so the VM outlives the psm process,
 *   and `-display none` + a serial file (`-nographic` cannot be combined with `-daemonize`).
 */

export type Accelerator = 'kvm' | 'tcg';

export interface QemuLaunch {
  readonly layout: VmLayout;
  readonly template: WorkerTemplate;
  readonly accel: Accelerator;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly sshPort: number;
  readonly qgaPortName: string;
}

export const QGA_PORT_NAME = 'org.qemu.guest_agent.0';

export function qemuArgs(launch: QemuLaunch): string[] {
  const { layout, template } = launch;
  const boot =
    template.kind === 'kernel'
      ? ['-kernel', template.kernel, '-initrd', template.initrd, '-append', template.append]
      : [];
  return [
    '-name',
    `psm-${layout.name}`,
    '-nodefaults',
    '-no-user-config',
    '-M',
    'q35',
    '-accel',
    launch.accel,
    '-m',
    String(launch.memoryMiB),
    '-smp',
    String(launch.cpus),
    ...boot,
    '-drive',
    `if=none,id=disk0,file=${layout.overlay},format=qcow2`,
    '-device',
    'virtio-blk-pci,drive=disk0',
    '-device',
    'virtio-serial-pci',
    '-chardev',
    `socket,id=qga0,path=${layout.qgaSocket},server=on,wait=off`,
    '-device',
    `virtserialport,chardev=qga0,name=${launch.qgaPortName}`,
    '-device',
    'virtio-rng-pci',
    '-netdev',
    `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${launch.sshPort}-:22`,
    '-device',
    'virtio-net-pci,netdev=n0',
    '-chardev',
    `socket,id=qmp0,path=${layout.qmpSocket},server=on,wait=off`,
    '-mon',
    'chardev=qmp0,mode=control',
    '-chardev',
    `file,id=console0,path=${layout.consoleLog}`,
    '-serial',
    'chardev:console0',
    '-display',
    'none',
    '-daemonize',
    '-pidfile',
    layout.pidfile,
  ];
}
