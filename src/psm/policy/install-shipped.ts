import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { errnoOf } from '../../common/errno.js';
import { err, ok, type CodedError, type Result } from '../../common/result.js';
import { lintPath } from './lint.js';

export type PolicyInstallError = CodedError<'POLICY_INSTALL_FAILED'>;

const isPolicyName = (name: string): boolean => /\.ya?ml$/.test(name) && !name.startsWith('.');

/**
 * Where the shipped policies come from: `base` (the package's policies/), and optionally an
 * `overlay` directory whose files replace the base files of the same name (policies/popc/ holds
 * the POP-C++ 2.5 main-node policy, which replaces the stand-in one). An overlay may only
 * replace, never add, so a location still gets exactly one policy per role.
 */
export interface ShippedPolicySource {
  readonly base: string;
  readonly overlay?: string;
}

/**
 * Gives a location the shipped policies when it has none (`psm init`): without them nothing can
 * prepare a worker or write a key. A directory that already holds any policy file is the
 * operator's and is never touched, so a policy removed on purpose stays removed. The shipped
 * files are linted first (an error refuses them all) and written atomically, 0600, like the rest
 * of etc/. Returns the paths written.
 */
export async function installShippedPolicies(
  source: ShippedPolicySource,
  policiesDir: string,
): Promise<Result<string[], PolicyInstallError>> {
  const present = await readdir(policiesDir).catch((error: unknown) => errnoOf(error));
  if (typeof present === 'string') return failed(`${policiesDir} cannot be read (${present})`);
  if (present.some(isPolicyName)) return ok([]);
  const files = await shippedFiles(source);
  if (!files.ok) return files;
  const written: string[] = [];
  try {
    for (const file of files.value) {
      const target = join(policiesDir, basename(file));
      await writeFileAtomic(target, await readFile(file), { mode: 0o600 });
      written.push(target);
    }
  } catch (error) {
    return failed(`could not write the shipped policies into ${policiesDir} (${errnoOf(error)})`);
  }
  return ok(written);
}

/** The files to install, base files replaced by the overlay's, each directory linted clean. */
async function shippedFiles(
  source: ShippedPolicySource,
): Promise<Result<readonly string[], PolicyInstallError>> {
  const base = await lintedFiles(source.base);
  if (!base.ok || source.overlay === undefined) return base;
  const overlay = await lintedFiles(source.overlay);
  if (!overlay.ok) return overlay;
  const byName = new Map(base.value.map((file) => [basename(file), file]));
  for (const file of overlay.value) {
    if (!byName.has(basename(file)))
      return failed(`the shipped policy ${file} replaces no policy of ${source.base}`);
    byName.set(basename(file), file);
  }
  return ok([...byName.values()]);
}

async function lintedFiles(dir: string): Promise<Result<readonly string[], PolicyInstallError>> {
  const lint = await lintPath(dir);
  if (!lint.ok) return failed(`the shipped policies: ${lint.error.message}`);
  const bad = lint.value.findings.find((f) => f.severity === 'error');
  if (bad !== undefined) return failed(`the shipped policy ${bad.file ?? dir}: ${bad.code}`);
  return ok(lint.value.files);
}

function failed(message: string): Result<never, PolicyInstallError> {
  return err({ code: 'POLICY_INSTALL_FAILED', message });
}
