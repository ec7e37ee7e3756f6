import { gunzipSync } from 'node:zlib';
import { runProgram, RunError } from '../../common/run-program.js';
import { err, ok, type Result } from '../../common/result.js';
import { imageError, type ImageError } from './errors.js';

/**
 * Gets the uncompressed ELF kernel (vmlinux) out of a bzImage (vmlinuz). QEMU boots the ELF
 * directly through its PVH entry point, which skips the in-guest decompression that costs seconds
 * under TCG. The x86 boot protocol (>= 2.08) says where the compressed payload is; the payload's
 * last 4 bytes are the uncompressed size, which the result must match.
 */

/** vmlinuz files are ~10 MB; refuse anything far beyond that before decompressing. */
export const MAX_VMLINUZ_BYTES = 128 * 1024 * 1024;
/** Uncompressed kernels are ~60 MB. */
export const MAX_VMLINUX_BYTES = 512 * 1024 * 1024;
const DECOMPRESS_TIMEOUT_MS = 120_000;

export type KernelCompression = 'gzip' | 'xz' | 'zstd';

export interface KernelPayload {
  readonly compression: KernelCompression;
  /** The compressed stream, without the appended size. */
  readonly data: Buffer;
  readonly uncompressedSize: number;
}

const MAGICS: ReadonlyArray<readonly [KernelCompression, Buffer]> = [
  ['gzip', Buffer.from([0x1f, 0x8b, 0x08])],
  ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
];

/** Finds the compressed payload through the boot-protocol header. Pure; never throws on bad input. */
export function locateKernelPayload(image: Buffer): Result<KernelPayload, ImageError> {
  const bad = (why: string): Result<never, ImageError> => err(imageError('IMAGE_KERNEL_FORMAT', why));
  if (image.length < 0x268 || image.length > MAX_VMLINUZ_BYTES)
    return bad('the kernel image has an implausible size');
  if (image.toString('latin1', 0x202, 0x206) !== 'HdrS')
    return bad('the kernel image has no x86 boot header');
  if (image.readUInt16LE(0x206) < 0x208) return bad('the kernel boot protocol is older than 2.08');
  const setupSectors = image[0x1f1] === 0 ? 4 : (image[0x1f1] ?? 4);
  const start = (setupSectors + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (length < 8 || start + length > image.length) return bad('the kernel payload lies outside the file');
  const payload = image.subarray(start, start + length);
  const found = MAGICS.find(([, magic]) => payload.subarray(0, magic.length).equals(magic));
  if (found === undefined)
    return bad('the kernel payload uses a compression psm does not handle (gzip, xz, zstd)');
  const uncompressedSize = payload.readUInt32LE(length - 4);
  if (uncompressedSize > MAX_VMLINUX_BYTES) return bad('the kernel claims an implausible uncompressed size');
  // gzip's own trailer ends with the size; the other formats have it appended by the kernel build.
  const data = found[0] === 'gzip' ? payload : payload.subarray(0, length - 4);
  return ok({ compression: found[0], data, uncompressedSize });
}

/** Decompresses the payload and checks the result is an ELF file of the announced size. */
export async function extractVmlinux(image: Buffer): Promise<Result<Buffer, ImageError>> {
  const located = locateKernelPayload(image);
  if (!located.ok) return located;
  const { compression, data, uncompressedSize } = located.value;
  let out: Buffer;
  try {
    out = await decompress(compression, data);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return err(
      imageError('IMAGE_KERNEL_FORMAT', `cannot decompress the ${compression} kernel payload: ${why}`),
    );
  }
  if (out.length !== uncompressedSize)
    return err(
      imageError(
        'IMAGE_KERNEL_FORMAT',
        `the kernel decompressed to ${out.length} bytes, not ${uncompressedSize}`,
      ),
    );
  if (!out.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])))
    return err(imageError('IMAGE_KERNEL_FORMAT', 'the decompressed kernel is not an ELF file'));
  return ok(out);
}

async function decompress(compression: KernelCompression, data: Buffer): Promise<Buffer> {
  if (compression === 'gzip') return gunzipSync(data, { maxOutputLength: MAX_VMLINUX_BYTES });
  const [file, args] = compression === 'xz' ? ['xz', ['-dc', '--single-stream']] : ['zstd', ['-dc', '-q']];
  try {
    const run = await runProgram(file, args, {
      input: data,
      timeoutMs: DECOMPRESS_TIMEOUT_MS,
      maxOutputBytes: MAX_VMLINUX_BYTES,
    });
    if (run.exitCode !== 0)
      throw new Error(`${file} exited with ${run.exitCode}: ${run.stderr.toString().trim()}`);
    return run.stdout;
  } catch (error) {
    if (error instanceof RunError) throw new Error(`${file}: ${error.message}`);
    throw error;
  }
}
