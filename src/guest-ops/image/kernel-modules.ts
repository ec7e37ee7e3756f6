import { err, ok, type Result } from '../../common/result.js';
import { imageError, type ImageError } from './errors.js';
import { runTool } from './host-tools.js';

/**
 * Which kernel module files the guest's /init loads, in load order, from
 * `modprobe -d ROOT -S VERSION --show-depends MODULE` against the unpacked kernel package.
 */
const MODPROBE_TIMEOUT_MS = 30_000;

/** Parses `--show-depends` output into module paths (absolute, under the unpacked root). */
export function parseShowDepends(text: string): Result<string[], ImageError> {
  const paths: string[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    // Built-in modules print "builtin NAME": nothing to load. Compressed modules (.ko.xz) fail closed:
    // busybox insmod in the guest loads plain .ko files only.
    if (/^builtin \S+$/.test(line)) continue;
    const match = /^insmod (\/\S+\.ko)(?: .*)?$/.exec(line);
    if (match?.[1] === undefined)
      return err({
        ...imageError('IMAGE_TOOL_FAILED', `unexpected modprobe output: ${line}`),
        line: index + 1,
      });
    paths.push(match[1]);
  }
  return ok(paths);
}

/**
 * Module files for `modules` and their dependencies, each once, dependencies first. `root` must
 * hold lib/modules/VERSION with a modules.dep (run depmod -b ROOT VERSION first).
 */
export async function moduleLoadOrder(
  root: string,
  version: string,
  modules: readonly string[],
  signal?: AbortSignal,
): Promise<Result<string[], ImageError>> {
  const order: string[] = [];
  for (const name of modules) {
    const run = await runTool('modprobe', ['-d', root, '-S', version, '--show-depends', name], {
      timeoutMs: MODPROBE_TIMEOUT_MS,
      signal,
    });
    if (!run.ok) return run;
    const parsed = parseShowDepends(run.value.stdout.toString('utf8'));
    if (!parsed.ok) return parsed;
    for (const path of parsed.value) {
      if (!path.startsWith(`${root}/`))
        return err(
          imageError('IMAGE_TOOL_FAILED', `modprobe named a module outside the kernel tree: ${path}`),
        );
      if (!order.includes(path)) order.push(path);
    }
  }
  return ok(order);
}
