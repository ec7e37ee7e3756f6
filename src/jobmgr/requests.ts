import { readKeyField } from '../authorized-keys/keys/public-key.js';
import { ok, type Result } from '../common/result.js';
import { jobFail, type JobMgrError } from './errors.js';
import {
  APP_ID_PATTERN,
  JOB_ID_PATTERN,
  MAX_APP_ID_CHARS,
  MAX_JOB_ID_CHARS,
  MAX_KEY_LINE_CHARS,
  MAX_KEYS_PER_APP,
} from './limits.js';
import { KEY_ROLES, type ApplicationKey, type KeyRole } from './state/rows.js';

/**
 * The job manager's untrusted inputs (application IDs, job IDs, keys), checked before the pool
 * touches anything. Keys go through psm's OpenSSH-exact parser and come out canonical (`type
 * base64`, the comment dropped): only a key, never options, reaches a worker's authorized_keys.
 */
export function checkAppId(value: unknown): Result<string, JobMgrError> {
  if (typeof value !== 'string' || value.length > MAX_APP_ID_CHARS || !APP_ID_PATTERN.test(value))
    return jobFail(
      'INVALID_APP_ID',
      `an application ID is 1 to ${MAX_APP_ID_CHARS} characters of [A-Za-z0-9_.:@-]`,
    );
  return ok(value);
}

export function checkJobId(value: unknown): Result<string, JobMgrError> {
  if (typeof value !== 'string' || value.length > MAX_JOB_ID_CHARS || !JOB_ID_PATTERN.test(value))
    return jobFail('INVALID_JOB_ID', `a job ID is 1 to ${MAX_JOB_ID_CHARS} characters of [A-Za-z0-9_.:@-]`);
  return ok(value);
}

/** One key: `{ role?, key }`, the key a public key line (`type base64 [comment]`). */
export function checkKey(value: unknown, index: number): Result<ApplicationKey, JobMgrError> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return jobFail('INVALID_KEY', `keys[${index}] must be an object {"role","key"}`);
  const { role = 'main-node', key, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0)
    return jobFail('INVALID_KEY', `keys[${index}] has fields psm does not know`);
  if (typeof role !== 'string' || !(KEY_ROLES as readonly string[]).includes(role))
    return jobFail('INVALID_KEY', `keys[${index}].role must be one of ${KEY_ROLES.join(', ')}`);
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LINE_CHARS)
    return jobFail(
      'INVALID_KEY',
      `keys[${index}].key must be one public key line of at most ${MAX_KEY_LINE_CHARS} characters`,
    );
  // eslint-disable-next-line no-control-regex -- a line break would be a second authorized_keys line
  if (/[\x00-\x1f\x7f]/.test(key))
    return jobFail('INVALID_KEY', `keys[${index}].key holds a control character`);
  const parsed = readKeyField(key, 0);
  if (!parsed.ok)
    return jobFail('INVALID_KEY', `keys[${index}].key: ${parsed.error.code}: ${parsed.error.message}`);
  if (parsed.value.key.certificate)
    return jobFail('INVALID_KEY', `keys[${index}].key is a certificate; give the plain public key`);
  return ok({ role: role as KeyRole, key: `${parsed.value.key.type} ${parsed.value.key.base64}` });
}

export function checkKeys(value: unknown): Result<ApplicationKey[], JobMgrError> {
  if (value === undefined) return ok([]);
  if (!Array.isArray(value)) return jobFail('INVALID_KEY', 'keys must be a list');
  if (value.length > MAX_KEYS_PER_APP)
    return jobFail('TOO_MANY', `at most ${MAX_KEYS_PER_APP} keys per application`);
  const keys: ApplicationKey[] = [];
  for (const [index, item] of value.entries()) {
    const key = checkKey(item, index);
    if (!key.ok) return key;
    keys.push(key.value);
  }
  return ok(mergeKeys([], keys));
}

/** `existing` plus the keys of `added` it does not have yet (same role and key), in order. */
export function mergeKeys(
  existing: readonly ApplicationKey[],
  added: readonly ApplicationKey[],
): ApplicationKey[] {
  const out = [...existing];
  for (const k of added) if (!out.some((o) => o.role === k.role && o.key === k.key)) out.push(k);
  return out;
}
