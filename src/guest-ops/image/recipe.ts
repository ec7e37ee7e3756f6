/**
 * What goes into the worker image, in one place: the guest's account, kernel modules, qemu-ga's
 * allowed RPCs and the boot settings. Changing anything here changes the recipe digest recorded in
 * the manifest's inputs, so the next build rebuilds.
 */

/** Bump when the build's output changes in a way the inputs below do not capture. */
export const RECIPE_VERSION = '4';

/** The metapackage whose dependency names the kernel to use. */
export const KERNEL_METAPACKAGE = 'linux-image-amd64';

export const GUEST_USER = 'popc';
export const GUEST_UID = 1000;
export const GUEST_HOSTNAME = 'psm-worker';
export const QGA_PORT_NAME = 'org.qemu.guest_agent.0';
export const KERNEL_APPEND = 'console=ttyS0 quiet';

/**
 * The sshd_config psm installs when it prepares a clone (psm/host-keys/sshd-config.ts writes it):
 * when present, the image starts sshd with it and makes no host key of its own.
 */
export const PSM_SSHD_CONFIG = '/persist/etc/ssh/sshd_config.psm';
/**
 * psm's gate directory on workers (psm/policy DEFAULT_GATE_DIR, checked equal by a unit test).
 * The image links it to /persist, so the gates psm installs survive reboots like the keys do.
 */
export const GATE_DIR = '/usr/local/libexec/psm';

/** Size of the per-clone /persist disk (sparse: the qcow2 base holds only what is written). */
export const PERSIST_DISK_MIB = 256;

/** Kernel modules /init loads (with their dependencies, which modprobe adds in order). */
export const GUEST_MODULES = [
  'virtio_pci',
  'virtio_blk',
  'virtio_console',
  'virtio_net',
  'ext4',
  // with `-device virtio-rng-pci` the kernel's RNG is ready at once; otherwise sshd and ssh-keygen
  // wait ~2 s under TCG for jitter entropy. Without the device the module loads and idles.
  'virtio_rng',
  // the ACPI power button and evdev let acpid turn QMP system_powerdown into a clean poweroff
  'button',
  'evdev',
] as const;

/** Host programs copied into the initramfs with the libraries ldd lists for them. */
export const GUEST_BINARIES = ['/usr/sbin/sshd', '/usr/bin/ssh-keygen', '/usr/sbin/qemu-ga'] as const;
export const BUSYBOX = '/bin/busybox';

/** Debian packages whose versions are recorded in the manifest's inputs (for people; the file
 * digests are what decide a rebuild). */
export const RECORDED_PACKAGES = [
  'busybox-static',
  'openssh-server',
  'openssh-client',
  'qemu-guest-agent',
  'libc6',
  'e2fsprogs',
  'qemu-utils',
] as const;

/**
 * The qemu-ga RPCs psm uses; qemu-ga 7.2 has no --allow-rpcs, so the build passes every other RPC
 * the installed qemu-ga lists (`qemu-ga -b help`) to --block-rpcs. Notably blocked:
 * guest-set-user-password, guest-ssh-*-authorized-keys, guest-fsfreeze-*, guest-suspend-*,
 * guest-set-time, guest-set-vcpus, guest-set-memory-blocks.
 */
export const ALLOWED_RPCS = [
  'guest-sync-delimited',
  'guest-sync',
  'guest-ping',
  'guest-info',
  'guest-exec',
  'guest-exec-status',
  'guest-file-open',
  'guest-file-close',
  'guest-file-read',
  'guest-file-write',
  'guest-file-seek',
  'guest-file-flush',
  'guest-network-get-interfaces',
  'guest-get-osinfo',
  'guest-shutdown',
] as const;

/** guest-exec of this renews eth0's DHCP lease (one-shot udhcpc; runs the udhcpc script). */
export const DHCP_RENEW = {
  path: '/bin/busybox',
  argv: [
    'udhcpc',
    '-i',
    'eth0',
    '-f',
    '-q',
    '-n',
    '-t',
    '5',
    '-T',
    '1',
    '-s',
    '/usr/share/udhcpc/default.script',
  ],
} as const;

/** File names inside the image directory. */
export const IMAGE_FILES = {
  kernel: 'vmlinux',
  initrd: 'initrd.cpio',
  /** The base disk is `<stem>-<inputs digest>.qcow2` (see build.ts). */
  baseDiskStem: 'persist-base',
} as const;
