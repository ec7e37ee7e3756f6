/**
 * vmlinux extraction from synthetic bzImages laid out as the x86 boot protocol says, compressed
 * with the real gzip (node:zlib) and xz programs. The real Debian kernel is covered by the image
 * boot contract test.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { extractVmlinux, locateKernelPayload } from '../../src/guest-ops/image/vmlinux.js';

const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), randomBytes(70_000)]);

function sizeSuffix(size: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(size);
  return b;
}

/** setup_sects=3, protocol 2.15, payload at (3+1)*512 + 100 as the header says. */
function bzImage(payload: Buffer, options: { version?: number; magic?: string } = {}): Buffer {
  const setupSectors = 3;
  const payloadOffset = 100;
  const start = (setupSectors + 1) * 512 + payloadOffset;
  const image = Buffer.alloc(start + payload.length + 64);
  image[0x1f1] = setupSectors;
  image.write(options.magic ?? 'HdrS', 0x202, 'latin1');
  image.writeUInt16LE(options.version ?? 0x20f, 0x206);
  image.writeUInt32LE(payloadOffset, 0x248);
  image.writeUInt32LE(payload.length, 0x24c);
  payload.copy(image, start);
  return image;
}

async function xz(data: Buffer): Promise<Buffer> {
  const run = await runProgram('xz', ['-c', '--check=crc32'], { input: data, timeoutMs: 60_000 });
  expect(run.exitCode).toBe(0);
  return run.stdout;
}

describe('vmlinux extraction', () => {
  it('gzip payload: the gzip trailer carries the size', async () => {
    const out = await extractVmlinux(bzImage(gzipSync(ELF)));
    expect(out.ok && out.value.equals(ELF)).toBe(true);
  });

  it('xz payload with the size the kernel build appends', async () => {
    const image = bzImage(Buffer.concat([await xz(ELF), sizeSuffix(ELF.length)]));
    const located = locateKernelPayload(image);
    expect(located.ok && located.value.compression).toBe('xz');
    const out = await extractVmlinux(image);
    expect(out.ok && out.value.equals(ELF)).toBe(true);
  });

  it('a size that does not match what decompresses is refused', async () => {
    const out = await extractVmlinux(bzImage(Buffer.concat([await xz(ELF), sizeSuffix(ELF.length + 1)])));
    expect(!out.ok && out.error.code).toBe('IMAGE_KERNEL_FORMAT');
  });

  it('a payload that is not an ELF kernel is refused', async () => {
    const notElf = Buffer.from('not a kernel at all, just text');
    const out = await extractVmlinux(bzImage(gzipSync(notElf)));
    expect(!out.ok && out.error.message).toMatch(/not an ELF/);
  });

  it('corrupt compressed data is a coded error, not a throw', async () => {
    const packed = await xz(ELF);
    packed.fill(0x55, 40, 200);
    const out = await extractVmlinux(bzImage(Buffer.concat([packed, sizeSuffix(ELF.length)])));
    expect(!out.ok && out.error.code).toBe('IMAGE_KERNEL_FORMAT');
  });

  it('headers psm does not understand are refused', () => {
    const payload = gzipSync(ELF);
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.alloc(100), /size/],
      [bzImage(payload, { magic: 'NoHd' }), /boot header/],
      [bzImage(payload, { version: 0x206 }), /older than 2.08/],
      [bzImage(Buffer.concat([Buffer.from('BZh91AY&SY'), randomBytes(64)])), /compression/],
    ];
    for (const [image, why] of cases) {
      const located = locateKernelPayload(image);
      expect(located.ok).toBe(false);
      if (!located.ok) {
        expect(located.error.code).toBe('IMAGE_KERNEL_FORMAT');
        expect(located.error.message).toMatch(why);
      }
    }
    const outside = bzImage(payload);
    outside.writeUInt32LE(outside.length, 0x24c);
    const located = locateKernelPayload(outside);
    expect(!located.ok && located.error.message).toMatch(/outside/);
  });
});
