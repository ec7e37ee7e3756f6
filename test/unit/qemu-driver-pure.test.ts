import { describe, expect, it } from 'vitest';
import { qemuArgs } from '../../src/guest-ops/qemu/command-line.js';
import { hasVirtualisationFlag } from '../../src/guest-ops/qemu/host.js';
import { checkVmName, vmLayout } from '../../src/guest-ops/qemu/vm-layout.js';
import {
  parseVmRecord,
  serializeVmRecord,
  VM_RECORD_FORMAT,
  type VmRecord,
} from '../../src/guest-ops/qemu/vm-record.js';

describe('QEMU driver: pure parts', () => {
  it('builds the exact command line as an argv array', () => {
    const layout = vmLayout('/var/psm/vms', 'w1');
    if (!layout.ok) throw new Error(layout.error.message);
    const argv = qemuArgs({
      layout: layout.value,
      template: {
        kind: 'kernel',
        kernel: '/img/vmlinux',
        initrd: '/img/initrd',
        append: 'console=ttyS0 quiet',
        baseDisk: '/img/base.qcow2',
      },
      accel: 'tcg',
      memoryMiB: 256,
      cpus: 1,
      sshPort: 40022,
      qgaPortName: 'org.qemu.guest_agent.0',
    });
    expect(argv).toEqual([
      '-name',
      'psm-w1',
      '-nodefaults',
      '-no-user-config',
      '-M',
      'q35',
      '-accel',
      'tcg',
      '-m',
      '256',
      '-smp',
      '1',
      '-kernel',
      '/img/vmlinux',
      '-initrd',
      '/img/initrd',
      '-append',
      'console=ttyS0 quiet',
      '-drive',
      'if=none,id=disk0,file=/var/psm/vms/w1/disk.qcow2,format=qcow2',
      '-device',
      'virtio-blk-pci,drive=disk0',
      '-device',
      'virtio-serial-pci',
      '-chardev',
      'socket,id=qga0,path=/var/psm/vms/w1/qga.sock,server=on,wait=off',
      '-device',
      'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
      '-device',
      'virtio-rng-pci',
      '-netdev',
      'user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22',
      '-device',
      'virtio-net-pci,netdev=n0',
      '-chardev',
      'socket,id=qmp0,path=/var/psm/vms/w1/qmp.sock,server=on,wait=off',
      '-mon',
      'chardev=qmp0,mode=control',
      '-chardev',
      'file,id=console0,path=/var/psm/vms/w1/console.log',
      '-serial',
      'chardev:console0',
      '-display',
      'none',
      '-daemonize',
      '-pidfile',
      '/var/psm/vms/w1/qemu.pid',
    ]);
  });

  it('boots a disk template without -kernel', () => {
    const layout = vmLayout('/v', 'd');
    if (!layout.ok) throw new Error(layout.error.message);
    const argv = qemuArgs({
      layout: layout.value,
      template: { kind: 'disk', bootDisk: '/img/debian.qcow2' },
      accel: 'kvm',
      memoryMiB: 512,
      cpus: 2,
      sshPort: 1,
      qgaPortName: 'org.qemu.guest_agent.0',
    });
    expect(argv).not.toContain('-kernel');
    expect(argv.slice(6, 8)).toEqual(['-accel', 'kvm']);
  });

  it('validates worker names and refuses directories whose socket paths would not fit', () => {
    for (const good of ['a', 'worker-01', 'W_2']) expect(checkVmName(good).ok).toBe(true);
    for (const bad of ['', '-a', '../x', 'a/b', 'a b', 'x'.repeat(64), '.hidden'])
      expect(checkVmName(bad).ok).toBe(false);
    const long = vmLayout(`/${'d'.repeat(95)}`, 'worker');
    expect(!long.ok && long.error.code).toBe('INVALID_ARGUMENT');
    const comma = vmLayout('/tmp/a,b', 'w');
    expect(!comma.ok && comma.error.message).toMatch(/comma/);
  });

  it('uses KVM only when the CPU advertises vmx or svm', () => {
    expect(hasVirtualisationFlag('processor\t: 0\nflags\t\t: fpu vme sse2 vmx ept\n')).toBe(true);
    expect(hasVirtualisationFlag('flags\t\t: fpu svm\n')).toBe(true);
    expect(hasVirtualisationFlag('flags\t\t: fpu sse2 hypervisor\n')).toBe(false);
    expect(hasVirtualisationFlag('vmx flags\t: ept\n')).toBe(false);
  });

  it('round-trips the VM record and refuses records psm did not write', () => {
    const record: VmRecord = {
      format: VM_RECORD_FORMAT,
      name: 'w1',
      createdAt: '2026-01-01T00:00:00.000Z',
      memoryMiB: 256,
      cpus: 1,
      template: {
        kind: 'kernel',
        kernel: '/i/k',
        initrd: '/i/r',
        append: 'quiet',
        baseDisk: '/i/b.qcow2',
        dhcpRenew: { path: '/bin/busybox', argv: ['udhcpc', '-q'] },
      },
      sshPort: 40022,
    };
    expect(parseVmRecord(serializeVmRecord(record))).toEqual({ ok: true, value: record });
    const disk: VmRecord = { ...record, template: { kind: 'disk', bootDisk: '/i/d.qcow2' }, sshPort: null };
    expect(parseVmRecord(serializeVmRecord(disk))).toEqual({ ok: true, value: disk });
    for (const bad of [
      '{}',
      'nope',
      serializeVmRecord({ ...record, format: 'x' } as unknown as VmRecord),
      serializeVmRecord({ ...record, memoryMiB: 1 }),
      serializeVmRecord({ ...record, sshPort: 70000 }),
      serializeVmRecord({ ...record, template: { kind: 'disk', bootDisk: 'relative.qcow2' } }),
      JSON.stringify({ ...record, extra: 1 }),
    ])
      expect(parseVmRecord(bad).ok).toBe(false);
  });
});
