import type { Command } from 'commander';
import { imageErrorCategory } from '../guest-ops/image/errors.js';
import { defaultImageCacheDirectory, type WorkerImageManifest } from '../guest-ops/image/manifest.js';
import { failureOf } from './failure.js';
import type { Interrupt } from './interrupt.js';
import { printJson, printLine, type CliIo } from './output.js';

/** `psm image build|show`: the worker test image (docs/worker-image.md). */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  const image = program.command('image').description('Build and inspect the worker test VM image');

  image
    .command('build')
    .description('Build the worker test image (kernel, initramfs, /persist base disk) from Debian packages')
    .requiredOption('--out <dir>', 'image directory to create or update')
    .option('--cache <dir>', 'where the kernel package is kept between builds', defaultImageCacheDirectory())
    .option(
      '--popc <dir>',
      "put POP-C++'s worker side from this build (scripts/popc-build.mjs) into the image",
    )
    .option('--force', 'rebuild even if the image is up to date', false)
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
Rebuilds only when an input changed (kernel package version, the host binaries and libraries
copied in, psm's recipe); the inputs are recorded in DIR/manifest.json. A test/demo image: real
deployments bring a distro image with qemu-guest-agent and openssh-server.

Examples:
  psm image build --out .cache/worker-image
  psm image build --out .cache/worker-image --popc .cache/popc-2.5
  psm image build --out /var/lib/psm/worker-image --cache /var/cache/psm --force --json`,
    )
    .action(async (opts: { out: string; cache: string; popc?: string; force: boolean; json: boolean }) => {
      const { buildWorkerImage } = await import('../guest-ops/image/build.js');
      const progress = !opts.json && io.stderr.isTTY === true;
      const built = await buildWorkerImage({
        out: opts.out,
        cache: opts.cache,
        popc: opts.popc,
        force: opts.force,
        signal: interrupt.signal,
        onProgress: progress
          ? (step) => io.stderr.write(`\r\x1b[Kbuilding worker image: ${step}`)
          : undefined,
      });
      if (progress) io.stderr.write('\r\x1b[K');
      if (!built.ok) throw failureOf(built.error, imageErrorCategory);
      const { dir, manifest, rebuilt } = built.value;
      if (opts.json) printJson(io, { dir, rebuilt, manifest });
      else
        printLine(
          io,
          `${rebuilt ? 'built' : 'up to date:'} worker image in ${dir} (kernel ${manifest.kernelVersion})`,
        );
    });

  image
    .command('show')
    .description("Print a worker image's manifest")
    .argument('<dir>', 'image directory')
    .option('--json', 'print the manifest as JSON', false)
    .addHelpText(
      'after',
      `
Checks that the manifest is valid and that the kernel, initrd and base disk it names exist.

Examples:
  psm image show .cache/worker-image
  psm image show .cache/worker-image --json`,
    )
    .action(async (dir: string, opts: { json: boolean }) => {
      const { readWorkerImageManifest } = await import('../guest-ops/image/manifest.js');
      const read = await readWorkerImageManifest(dir);
      if (!read.ok) throw failureOf(read.error, imageErrorCategory);
      if (opts.json) printJson(io, read.value);
      else for (const line of describe(read.value)) printLine(io, line);
    });
}

function describe(m: WorkerImageManifest): string[] {
  return [
    `format:         ${m.format}`,
    `kernel:         ${m.kernel} (${m.kernelVersion})`,
    `initrd:         ${m.initrd}`,
    `base disk:      ${m.baseDisk}`,
    `append:         ${m.append}`,
    `guest user:     ${m.guestUser}`,
    `agent port:     ${m.qgaPortName}`,
    `dhcp renew:     ${[m.dhcpRenew.path, ...m.dhcpRenew.argv].join(' ')}`,
    `allowed rpcs:   ${m.allowedRpcs.join(', ')}`,
    `built at:       ${m.builtAt}`,
    ...Object.entries(m.inputs).map(([k, v]) => `input ${k}: ${v}`),
  ];
}
