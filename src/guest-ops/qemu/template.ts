import { resolve, join } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { WorkerTemplate } from '../guest-ops.js';
import { readWorkerImageManifest } from '../image/manifest.js';
import { QGA_PORT_NAME } from './command-line.js';

/** The psm worker image (`psm image build`) as a kernel template for the QEMU driver. */
export async function templateFromImage(imageDir: string): Promise<Result<WorkerTemplate, GuestOpsError>> {
  const dir = resolve(imageDir);
  const manifest = await readWorkerImageManifest(dir);
  if (!manifest.ok)
    return err(
      guestOpsError(
        'TEMPLATE_INVALID',
        `${manifest.error.message} (${manifest.error.code})`,
        manifest.error.file ?? dir,
      ),
    );
  const m = manifest.value;
  if (m.qgaPortName !== QGA_PORT_NAME)
    return err(
      guestOpsError(
        'TEMPLATE_INVALID',
        `the image's agent port is ${m.qgaPortName}, the driver uses ${QGA_PORT_NAME}`,
        dir,
      ),
    );
  return ok({
    kind: 'kernel',
    kernel: join(dir, m.kernel),
    initrd: join(dir, m.initrd),
    append: m.append,
    baseDisk: join(dir, m.baseDisk),
    dhcpRenew: { path: m.dhcpRenew.path, argv: [...m.dhcpRenew.argv] },
  });
}
