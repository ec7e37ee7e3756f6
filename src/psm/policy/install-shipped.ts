import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { errnoOf } from '../../common/errno.js';
import { err, ok, type CodedError, type Result } from '../../common/result.js';
import { lintPath } from './lint.js';

export type PolicyInstallError = CodedError<'POLICY_INSTALL_FAILED'>;

const isPolicyName = (name: string): boolean => /\.ya?ml$/.test(name) && !name.startsWith('.');

/**
 * Gives a location the shipped policies when it has none (`psm init`): without them nothing can
 * prepare a worker or write a key. A directory that already holds any policy file is the
 * operator's and is never touched, so a policy removed on purpose stays removed. The shipped
 * files are linted first (an error refuses them all) and written atomically, 0600, like the rest
 * of etc/. Returns the paths written.
 */
export async function installShippedPolicies(
  shippedDir: string,
  policiesDir: string,
): Promise<Result<string[], PolicyInstallError>> {
  const failed = (message: string): Result<never, PolicyInstallError> =>
    err({ code: 'POLICY_INSTALL_FAILED', message });
  const present = await readdir(policiesDir).catch((error: unknown) => errnoOf(error));
  if (typeof present === 'string') return failed(`${policiesDir} cannot be read (${present})`);
  if (present.some(isPolicyName)) return ok([]);
  const lint = await lintPath(shippedDir);
  if (!lint.ok) return failed(`the shipped policies: ${lint.error.message}`);
  const bad = lint.value.findings.find((f) => f.severity === 'error');
  if (bad !== undefined) return failed(`the shipped policy ${bad.file ?? shippedDir}: ${bad.code}`);
  const written: string[] = [];
  try {
    for (const file of lint.value.files) {
      const target = join(policiesDir, basename(file));
      await writeFileAtomic(target, await readFile(file), { mode: 0o600 });
      written.push(target);
    }
  } catch (error) {
    return failed(`could not write the shipped policies into ${policiesDir} (${errnoOf(error)})`);
  }
  return ok(written);
}
