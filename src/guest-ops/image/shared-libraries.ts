import { err, ok, type Result } from '../../common/result.js';
import { imageError, type ImageError } from './errors.js';
import { runTool } from './host-tools.js';

/**
 * The shared libraries (and the dynamic loader) a host binary needs, from `ldd`, so the
 * initramfs can carry exactly what sshd, ssh-keygen and qemu-ga load.
 */
const LDD_TIMEOUT_MS = 30_000;
const MAX_LIBRARIES = 256;

/** Parses ldd's output into absolute library paths. Fails closed on a line it does not understand. */
export function parseLddOutput(text: string): Result<string[], ImageError> {
  const paths: string[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('linux-vdso.so') || line === 'statically linked') continue;
    const arrow = /^\S+ => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    const loader = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    const path = arrow?.[1] ?? loader?.[1];
    if (path === undefined) {
      const why = line.includes('not found') ? 'a library is missing on the host' : 'unexpected ldd output';
      return err({ ...imageError('IMAGE_TOOL_FAILED', `${why}: ${line}`), line: index + 1 });
    }
    if (!paths.includes(path)) paths.push(path);
    if (paths.length > MAX_LIBRARIES)
      return err(imageError('IMAGE_TOOL_FAILED', 'ldd listed too many libraries'));
  }
  return ok(paths);
}

/** Union of the libraries of every binary, in first-seen order. */
export async function sharedLibrariesOf(
  binaries: readonly string[],
  signal?: AbortSignal,
): Promise<Result<string[], ImageError>> {
  const all: string[] = [];
  for (const binary of binaries) {
    const run = await runTool('ldd', [binary], { timeoutMs: LDD_TIMEOUT_MS, signal });
    if (!run.ok) return run;
    const parsed = parseLddOutput(run.value.stdout.toString('utf8'));
    if (!parsed.ok) return err({ ...parsed.error, file: binary });
    for (const path of parsed.value) if (!all.includes(path)) all.push(path);
  }
  return ok(all);
}
