import { ok, type Result } from '../../common/result.js';
import { parseAuthorizedKeysLine, type KeyOptions, type PublicKey } from '../../authorized-keys/index.js';
import { renderKeyLine } from '../render-key-line.js';
import type { KeyPolicy, KeyRole } from '../policy/types.js';
import { keyxError, type KeyExchangeError } from './errors.js';
import type { RolePolicies } from './policies.js';
import type { IntendedKeys } from './record.js';

/** One line the worker's file must hold, and what sshd must read in it. */
export interface ExpectedLine {
  readonly role: KeyRole;
  readonly appId: string | null;
  readonly key: PublicKey;
  readonly options: KeyOptions;
  readonly comment: string | null;
  /** The absolute expiry written into the line (ISO 8601), or null. */
  readonly expiresAt: string | null;
  readonly line: string;
}

export interface RenderedFile {
  readonly text: string;
  readonly lines: readonly ExpectedLine[];
}

export const FILE_HEADER =
  '# Written by psm from its intended keys for this worker; edits are found by psm audit and undone.';

/**
 * The worker's whole authorized_keys, rendered from the record: admin keys first, then each
 * application (by id) with its main node's key and its initiators' keys. Every line is rendered
 * with the moment its key was granted, so the same record always gives the same bytes.
 */
export function renderIntendedFile(
  record: IntendedKeys,
  policies: RolePolicies,
  gateDir?: string,
): Result<RenderedFile, KeyExchangeError> {
  const lines: ExpectedLine[] = [];
  const add = (
    policy: KeyPolicy,
    key: PublicKey,
    appId: string | null,
    grantedAt: string,
  ): KeyExchangeError | null => {
    const rendered = renderKeyLine(policy, key, {
      appId,
      worker: record.worker,
      now: new Date(grantedAt),
      ...(gateDir === undefined ? {} : { gateDir }),
    });
    if (!rendered.ok)
      return {
        code: 'KEYX_RENDER',
        message: `${policy.name} line for ${key.fingerprint}: ${rendered.error.message}`,
      };
    const parsed = parseAuthorizedKeysLine(rendered.value.line);
    if (!parsed.ok || parsed.value.kind !== 'key') throw new Error('bug: a rendered line does not parse');
    lines.push({
      role: policy.role,
      appId,
      key,
      options: parsed.value.options,
      comment: parsed.value.comment,
      expiresAt: rendered.value.expiresAt,
      line: rendered.value.line,
    });
    return null;
  };
  for (const admin of record.admin) {
    const failed = add(policies.admin, admin.key, null, admin.grantedAt);
    if (failed) return keyxError(failed.code, failed.message);
  }
  const apps = [...record.applications].sort((a, b) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0));
  for (const app of apps) {
    const failed =
      add(policies.mainNode, app.mainNode, app.appId, app.grantedAt) ??
      app.initiators.reduce<KeyExchangeError | null>(
        (first, key) => first ?? add(policies.initiator, key, app.appId, app.grantedAt),
        null,
      );
    if (failed) return keyxError(failed.code, failed.message);
  }
  const text = [FILE_HEADER, ...lines.map((l) => l.line)].join('\n') + '\n';
  return ok({ text, lines });
}
