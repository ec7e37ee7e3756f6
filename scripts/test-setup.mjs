#!/usr/bin/env node
// Set-up that `npm test` runs first (npm's `pretest`), so the README's one test command works on a
// fresh Debian 12 machine: the Debian packages the real-part tests use, a fresh build of dist/,
// the worker VM image and the vSphere simulator (both built once into .cache/, reused afterwards).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildPopc, POPC_BUILD_PACKAGES } from './popc-build.mjs';
import { buildVcsim } from './vcsim-build.mjs';

const DEBIAN_PACKAGES = {
  // program that must exist -> Debian package that provides it
  '/usr/sbin/sshd': 'openssh-server',
  '/usr/bin/ssh': 'openssh-client',
  '/usr/bin/ssh-keygen': 'openssh-client',
  '/usr/bin/qemu-system-x86_64': 'qemu-system-x86',
  '/usr/bin/qemu-img': 'qemu-utils',
  '/usr/sbin/qemu-ga': 'qemu-guest-agent',
  '/bin/busybox': 'busybox-static',
  '/sbin/mkfs.ext4': 'e2fsprogs',
  '/usr/bin/cpio': 'cpio',
  '/sbin/modprobe': 'kmod',
  // the worker image: Debian's vmlinuz payload is xz-compressed
  '/usr/bin/xz': 'xz-utils',
  // service names in permitopen/permitlisten (sshd and psm both read /etc/services)
  '/etc/services': 'netbase',
  // the vSphere driver's tests: govmomi's simulator, built from Debian's Go sources (GOPATH mode)
  '/usr/bin/go': 'golang-go',
  '/usr/share/gocode/src/github.com/vmware/govmomi/simulator/simulator.go':
    'golang-github-vmware-govmomi-dev',
  // POP-C++ 2.5 (scripts/popc-build.mjs): its compilers, build tools and SunRPC's XDR
  ...POPC_BUILD_PACKAGES,
};

function run(file, args) {
  execFileSync(file, args, { stdio: 'inherit', timeout: 15 * 60 * 1000 });
}

function ensureDebianPackages() {
  const missing = [
    ...new Set(
      Object.entries(DEBIAN_PACKAGES)
        .filter(([p]) => !existsSync(p))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`psm test set-up: missing Debian packages: ${missing.join(' ')}`);
    console.error(`install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.log(`psm test set-up: installing ${missing.join(' ')}`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

ensureDebianPackages();
run('npm', ['run', '--silent', 'build']);

// POP-C++ 2.5 with psm's patch, and the POP-C++ programs the tests run: built once into
// .cache/popc-2.5 (or $PSM_POPC), keyed by the tarball's and the patch's sha256. Before the
// worker image: the image carries POP-C++'s worker side from this tree.
const popc = buildPopc(process.env.PSM_POPC ?? '.cache/popc-2.5');

// The worker VM image the contract suites boot: built once into .cache/worker-image (or
// $PSM_WORKER_IMAGE) and reused; `psm image build` skips the work when its inputs are unchanged.
run(process.execPath, [
  'bin/psm.js',
  'image',
  'build',
  '--out',
  process.env.PSM_WORKER_IMAGE ?? '.cache/worker-image',
  '--cache',
  '.cache/worker-image-cache',
  '--popc',
  popc,
]);

// govmomi's vCenter simulator with psm's fixture (test/helpers/vcsim/), for the vSphere driver's
// tests: built into .cache/vcsim (or $PSM_VCSIM) when its sources or Go changed, else reused.
buildVcsim(process.env.PSM_VCSIM ?? '.cache/vcsim/psm-vcsim');
