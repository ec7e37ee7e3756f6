/**
 * Every module error code keeps the exit code it had before codes got categories: the table in
 * test/vectors/exit-codes/module-codes.txt was read from the per-command switches those
 * categories replaced. Each union is read from its source, so a new code without a line fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authorizedKeysErrorCategory } from '../../src/authorized-keys/lines/errors.js';
import { knownHostsErrorCategory } from '../../src/authorized-keys/known-hosts/errors.js';
import { publicKeyErrorCategory } from '../../src/authorized-keys/keys/public-key-errors.js';
import { exitCodeForCategory, EXIT } from '../../src/cli/exit-codes.js';
import {
  ERROR_CATEGORIES,
  httpStatusForCategory,
  type ErrorCategory,
} from '../../src/common/error-category.js';
import { guestOpsErrorCategory } from '../../src/guest-ops/errors.js';
import { imageErrorCategory } from '../../src/guest-ops/image/errors.js';
import { policyErrorCategory, renderErrorCategory } from '../../src/psm/error-category.js';
import { publicKeyFileErrorCategory } from '../../src/psm/public-key-file.js';
import { vaultErrorCategory } from '../../src/vault/errors.js';
import { auditLogErrorCategory } from '../../src/psm/audit-log/errors.js';
import { hostKeyErrorCategory } from '../../src/psm/host-keys/errors.js';
import { keyExchangeErrorCategory } from '../../src/psm/key-exchange/errors.js';
import { popcRshErrorCategory } from '../../src/psm/popc-rsh/errors.js';
import { driftAuditErrorCategory } from '../../src/psm/drift-audit/errors.js';
import { rotationErrorCategory } from '../../src/psm/rotation/errors.js';
import { workerPrepareErrorCategory } from '../../src/psm/worker-prepare/errors.js';
import { jobMgrErrorCategory } from '../../src/jobmgr/errors.js';
import { daemonErrorCategory } from '../../src/jobmgr/daemon/errors.js';
import { runMainErrorCategory } from '../../src/psm/run-main/errors.js';

const ROOT = join(__dirname, '..', '..');

/** The string literals of `type <name> = ... ;` in a source file. */
function unionCodes(file: string, name: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  const start = text.indexOf(`type ${name}`);
  if (start < 0) throw new Error(`${name} not in ${file}`);
  const body = text.slice(start, text.indexOf(';', start));
  return [...body.matchAll(/(?:=|\||<)\s*'([A-Z0-9_]+)'/g)].map((m) => m[1] as string);
}

interface Module {
  readonly category: (code: string) => ErrorCategory;
  readonly codes: () => string[];
}

const MODULES: Record<string, Module> = {
  rotation: {
    category: rotationErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/rotation/errors.ts', 'RotationErrorCode'),
  },
  'drift-audit': {
    category: driftAuditErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/drift-audit/errors.ts', 'DriftAuditErrorCode'),
  },
  'popc-rsh': {
    category: popcRshErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/popc-rsh/errors.ts', 'PopcRshErrorCode'),
  },
  'key-exchange': {
    category: keyExchangeErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/key-exchange/errors.ts', 'KeyExchangeErrorCode'),
  },
  jobmgr: {
    category: jobMgrErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/jobmgr/errors.ts', 'JobMgrErrorCode'),
  },
  daemon: {
    category: daemonErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/jobmgr/daemon/errors.ts', 'DaemonErrorCode'),
  },
  'run-main': {
    category: runMainErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/run-main/errors.ts', 'RunMainErrorCode'),
  },
  'host-keys': {
    category: hostKeyErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/host-keys/errors.ts', 'HostKeyErrorCode'),
  },
  'worker-prepare': {
    category: workerPrepareErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/worker-prepare/errors.ts', 'WorkerPrepareErrorCode'),
  },
  'audit-log': {
    category: auditLogErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/audit-log/errors.ts', 'AuditLogErrorCode'),
  },
  vault: {
    category: vaultErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/vault/errors.ts', 'VaultErrorCode'),
  },
  'guest-ops': {
    category: guestOpsErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/guest-ops/errors.ts', 'GuestOpsErrorCode'),
  },
  image: {
    category: imageErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/guest-ops/image/errors.ts', 'ImageErrorCode'),
  },
  policy: {
    category: policyErrorCategory as (code: string) => ErrorCategory,
    codes: () => [
      ...unionCodes('src/psm/policy/types.ts', 'PolicyErrorCode'),
      ...unionCodes('src/psm/policy/lint.ts', 'LintErrorCode'),
      ...unionCodes('src/psm/policy/lint.ts', 'LintIoError'),
      ...unionCodes('src/psm/policy/install-shipped.ts', 'PolicyInstallError'),
    ],
  },
  render: {
    category: renderErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/render-key-line.ts', 'RenderErrorCode'),
  },
  'public-key': {
    category: publicKeyErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/authorized-keys/keys/public-key-errors.ts', 'PublicKeyErrorCode'),
  },
  // Its union adds three codes to PublicKeyErrorCode (listed under public-key).
  'public-key-file': {
    category: publicKeyFileErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/psm/public-key-file.ts', 'PublicKeyFileErrorCode'),
  },
  'known-hosts': {
    category: knownHostsErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/authorized-keys/known-hosts/errors.ts', 'KnownHostsErrorCode'),
  },
  'authorized-keys': {
    category: authorizedKeysErrorCategory as (code: string) => ErrorCategory,
    codes: () => unionCodes('src/authorized-keys/lines/errors.ts', 'AuthorizedKeysErrorCode'),
  },
};

const vectors = readFileSync(join(__dirname, '..', 'vectors', 'exit-codes', 'module-codes.txt'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'))
  .map((line) => {
    const [module, code, exit] = line.split(' ');
    return { module: module as string, code: code as string, exit: Number(exit) };
  });

describe('exit codes by error category', () => {
  it.each(vectors.map((v) => [`${v.module} ${v.code}`, v] as const))('%s', (_name, v) => {
    const module = MODULES[v.module];
    if (module === undefined) throw new Error(`unknown module ${v.module}`);
    expect(exitCodeForCategory(module.category(v.code))).toBe(v.exit);
  });

  it.each(Object.entries(MODULES))('lists every %s code exactly once', (name, module) => {
    const listed = vectors.filter((v) => v.module === name).map((v) => v.code);
    const codes = [...new Set(module.codes())];
    expect(codes.length).toBeGreaterThan(0);
    expect([...listed].sort()).toEqual([...codes].sort());
  });

  it('gives every category one exit code and one HTTP status', () => {
    expect(Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, exitCodeForCategory(c)]))).toEqual({
      usage: EXIT.USAGE,
      input: EXIT.INPUT,
      unreadable: EXIT.INPUT,
      refused: EXIT.REFUSED,
      auth: EXIT.AUTH,
      tampered: EXIT.TAMPERED,
      outside: EXIT.EXTERNAL,
      bug: EXIT.INTERNAL,
    });
    expect(Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, httpStatusForCategory(c)]))).toEqual({
      usage: 400,
      input: 422,
      unreadable: 404,
      refused: 409,
      auth: 403,
      tampered: 500,
      outside: 502,
      bug: 500,
    });
  });
});
