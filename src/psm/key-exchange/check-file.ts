import { isDeepStrictEqual } from 'node:util';
import { parseAuthorizedKeysFile, type KeyOptions } from '../../authorized-keys/index.js';
import { parseExpiryTime } from '../../authorized-keys/lines/option-values.js';
import type { ExpectedLine } from './render-file.js';

/**
 * What a worker's authorized_keys means, compared with the lines psm intends it to hold, read
 * with psm's OpenSSH-exact parser. Key exchange accepts a write only when this finds nothing
 * (expiry aside); `psm audit` reports every finding.
 */
export type KeyFileFindingCode =
  /** A key psm did not grant on this worker. */
  | 'UNKNOWN_KEY'
  /** A key psm granted is not in the file. */
  | 'MISSING_KEY'
  /** A key line without `restrict`: everything psm's options do not forbid is allowed. */
  | 'LINE_WITHOUT_RESTRICT'
  /** A granted key whose options are not the ones its policy renders. */
  | 'OPTIONS_DIFFER'
  /** A granted key with the right options but another comment (psm's tag names policy, app and gate). */
  | 'COMMENT_DIFFERS'
  /** A line whose expiry-time has passed: sshd refuses it, and it should have been rotated or revoked. */
  | 'EXPIRED_LINE'
  /** A key on more than one line: sshd uses the first matching line only. */
  | 'DUPLICATE_KEY'
  /** A line sshd would not read as a key (skipped by sshd, but not written by psm). */
  | 'INVALID_LINE';

export interface KeyFileFinding {
  readonly code: KeyFileFindingCode;
  readonly message: string;
  readonly line?: number;
  readonly fingerprint?: string;
}

const restricted = (options: KeyOptions): boolean => options.restrict;

function expired(options: KeyOptions, nowSeconds: number): boolean {
  return options.expiryTime.some((text) => {
    const epoch = parseExpiryTime(text);
    return epoch !== null && epoch <= nowSeconds;
  });
}

export function compareKeyFile(
  data: Uint8Array | string,
  expected: readonly ExpectedLine[],
  now: Date,
): KeyFileFinding[] {
  const findings: KeyFileFinding[] = [];
  const byBlob = new Map(expected.map((line) => [Buffer.from(line.key.blob).toString('base64'), line]));
  const seen = new Set<string>();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  for (const parsed of parseAuthorizedKeysFile(data)) {
    const at = parsed.line;
    if (!parsed.result.ok) {
      findings.push({
        code: 'INVALID_LINE',
        line: at,
        message: `${parsed.result.error.code}: ${parsed.result.error.message}`,
      });
      continue;
    }
    const entry = parsed.result.value;
    if (entry.kind !== 'key') continue;
    const fingerprint = entry.key.fingerprint;
    const blob = Buffer.from(entry.key.blob).toString('base64');
    const where = { line: at, fingerprint };
    if (seen.has(blob))
      findings.push({ code: 'DUPLICATE_KEY', ...where, message: `${fingerprint} is on an earlier line too` });
    seen.add(blob);
    if (!restricted(entry.options))
      findings.push({
        code: 'LINE_WITHOUT_RESTRICT',
        ...where,
        message: `${fingerprint} has no restrict option`,
      });
    if (expired(entry.options, nowSeconds))
      findings.push({
        code: 'EXPIRED_LINE',
        ...where,
        message: `${fingerprint} expired (${entry.options.expiryTime.join(',')})`,
      });
    const intended = byBlob.get(blob);
    if (intended === undefined) {
      findings.push({
        code: 'UNKNOWN_KEY',
        ...where,
        message: `${fingerprint} (${entry.key.type}) was not granted by psm`,
      });
      continue;
    }
    const role = intended.appId === null ? intended.role : `${intended.role} of ${intended.appId}`;
    if (!isDeepStrictEqual(entry.options, intended.options))
      findings.push({
        code: 'OPTIONS_DIFFER',
        ...where,
        message: `${fingerprint} (${role}) does not have the options of its policy`,
      });
    else if (entry.comment !== intended.comment)
      findings.push({
        code: 'COMMENT_DIFFERS',
        ...where,
        message: `${fingerprint} (${role}) has another comment than psm wrote`,
      });
  }
  for (const line of expected) {
    const blob = Buffer.from(line.key.blob).toString('base64');
    if (!seen.has(blob))
      findings.push({
        code: 'MISSING_KEY',
        fingerprint: line.key.fingerprint,
        message: `${line.key.fingerprint} (${line.appId === null ? line.role : `${line.role} of ${line.appId}`}) is not in the file`,
      });
  }
  return findings;
}
