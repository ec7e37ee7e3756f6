/**
 * Looking a host up in a parsed known_hosts file and judging a host key the way ssh does
 * (hostfile.c hostkeys_foreach_file + check_hostkeys_by_key_or_type + check_key_not_revoked).
 */
import type { KnownHostsMarker, KnownHostsLine } from './line.js';
import type { KnownHostsError } from './errors.js';
import type { Result } from '../../common/result.js';
import { HostNameHmac } from './hash.js';
import { globMatch, matchHostPatterns } from './pattern.js';
import { keyTypeInfo } from '../keys/key-types.js';
import { sha256Fingerprint, type PublicKey } from '../keys/public-key.js';

/** What the match functions need of a file: a line number and a parse result per line. */
export interface NumberedKnownHostsLine {
  readonly line: number;
  readonly result: Result<KnownHostsLine, KnownHostsError>;
}

export interface KnownHostsMatch {
  readonly line: number;
  readonly marker: KnownHostsMarker | null;
  /** The line's host field was a `|1|...` hash (so the name matched through HMAC, not a pattern). */
  readonly hashed: boolean;
  readonly key: PublicKey;
}

/**
 * Every valid line whose host field matches `name` (a lookupName() result: lowercased, and
 * `[host]:port` for ports other than 22), markers included, in file order, as `ssh-keygen -F`
 * lists them. Invalid lines never match (ssh skips them too); callers decide what an invalid
 * line means for them.
 */
export function findHost(lines: Iterable<NumberedKnownHostsLine>, name: string): KnownHostsMatch[] {
  return lookUpHost(lines, name).matches;
}

export interface HostLookup {
  readonly matches: KnownHostsMatch[];
  /** How many lines are invalid, and the first of them (null when every line is valid). */
  readonly invalidLines: number;
  readonly firstInvalid: { readonly line: number; readonly error: KnownHostsError } | null;
}

/**
 * findHost in one pass over the lines as they are parsed (nothing is kept but the matches), also
 * counting the invalid lines: psm judges a host only in a file it could read completely.
 */
export function lookUpHost(lines: Iterable<NumberedKnownHostsLine>, name: string): HostLookup {
  const matches: KnownHostsMatch[] = [];
  let invalidLines = 0;
  let firstInvalid: HostLookup['firstInvalid'] = null;
  const hmac = new HostNameHmac(name);
  for (const { line, result } of lines) {
    if (!result.ok) {
      invalidLines += 1;
      firstInvalid ??= { line, error: result.error };
      continue;
    }
    if (result.value.kind !== 'entry') continue;
    const entry = result.value;
    const hosts = entry.hosts;
    const hit =
      hosts.kind === 'hashed'
        ? hmac.matches(hosts.hashed)
        : matchHostPatterns(name, hosts.patterns) === 'positive';
    if (hit) matches.push({ line, marker: entry.marker, hashed: hosts.kind === 'hashed', key: entry.key });
  }
  return { matches, invalidLines, firstInvalid };
}

/** ssh's HOST_OK / HOST_REVOKED / HOST_CHANGED / HOST_NEW. */
export type HostKeyVerdict = 'trusted' | 'revoked' | 'changed' | 'unknown';

export interface HostKeyCheck {
  readonly verdict: HostKeyVerdict;
  /**
   * The line that decided: the trusting line, the last line with another key (changed), the
   * revoking line; null for unknown.
   */
  readonly line: number | null;
  /** For a certificate that a CA line matched but that is not valid for this host: why. */
  readonly certificateProblem: string | null;
}

export interface HostKeyCheckOptions {
  /** The host name without port, lowercased (certificate principals are compared to it). */
  readonly host: string;
  /** Seconds since the epoch for certificate validity; the current time by default. */
  readonly now?: bigint;
}

/**
 * sshkey_equal_public: same plain key type and same key material. Identity is the plain type and
 * the SHA-256 of the plain blob (a certificate's fingerprint is already of its plain key).
 */
interface KeyIdentity {
  readonly plainType: string;
  readonly fingerprint: string;
}

function identityOf(key: PublicKey): KeyIdentity {
  return { plainType: keyTypeInfo(key.type)?.plain ?? key.type, fingerprint: key.fingerprint };
}

function sameIdentity(a: KeyIdentity, b: KeyIdentity): boolean {
  return a.plainType === b.plainType && a.fingerprint === b.fingerprint;
}

/**
 * Judges a presented host key against the lines that matched its host, as sshconnect.c
 * check_host_key does. A certificate is trusted by an `@cert-authority` line holding its CA key,
 * if it is a host certificate valid now for `host` with no critical options; otherwise ssh
 * retries with the certificate's plain key, and so does this. A plain key is trusted by an
 * unmarked line with the same key; unmarked lines with other keys make it "changed". A matching
 * `@revoked` line for the key (or for a certificate's CA key or plain key) wins over any trust.
 */
export function checkHostKey(
  matches: readonly KnownHostsMatch[],
  key: PublicKey,
  options: HostKeyCheckOptions,
): HostKeyCheck {
  const self = identityOf(key);
  const cert = key.cert;
  if (cert !== undefined) {
    const ca: KeyIdentity = {
      plainType: cert.signatureKeyType,
      fingerprint: sha256Fingerprint(cert.signatureKeyBlob),
    };
    const revoking = findRevoking(matches, [self, ca]);
    if (revoking !== null) return { verdict: 'revoked', line: revoking, certificateProblem: null };
    const trusting = matches.find(
      (m) => m.marker === 'cert-authority' && sameIdentity(identityOf(m.key), ca),
    );
    let problem: string | null = null;
    if (trusting !== undefined) {
      problem = hostCertificateProblem(cert, options);
      if (problem === null) return { verdict: 'trusted', line: trusting.line, certificateProblem: null };
    }
    return { ...checkPlainKey(matches, self), certificateProblem: problem };
  }
  return { ...checkPlainKey(matches, self), certificateProblem: null };
}

function checkPlainKey(
  matches: readonly KnownHostsMatch[],
  self: KeyIdentity,
): Omit<HostKeyCheck, 'certificateProblem'> {
  const revoking = findRevoking(matches, [self]);
  if (revoking !== null) return { verdict: 'revoked', line: revoking };
  let verdict: HostKeyVerdict = 'unknown';
  let line: number | null = null;
  for (const m of matches) {
    if (m.marker !== null) continue;
    // sshkey_equal: a certificate in an unmarked line never equals a plain key.
    if (!m.key.certificate && sameIdentity(identityOf(m.key), self))
      return { verdict: 'trusted', line: m.line };
    verdict = 'changed';
    line = m.line;
  }
  return { verdict, line };
}

function findRevoking(
  matches: readonly KnownHostsMatch[],
  identities: readonly KeyIdentity[],
): number | null {
  const hit = matches.find(
    (m) => m.marker === 'revoked' && identities.some((id) => sameIdentity(identityOf(m.key), id)),
  );
  return hit === undefined ? null : hit.line;
}

/** sshkey_cert_check_host as OpenSSH 9.2's ssh calls it, or null if the certificate is valid. */
function hostCertificateProblem(
  cert: NonNullable<PublicKey['cert']>,
  options: HostKeyCheckOptions,
): string | null {
  const now = options.now ?? BigInt(Math.floor(Date.now() / 1000));
  if (cert.certType !== 'host') return 'not a host certificate';
  if (now < cert.validAfter) return 'certificate is not yet valid';
  if (now >= cert.validBefore) return 'certificate has expired';
  // OpenSSH 9.2 calls match_pattern(principal, host): the host is the pattern, so a wildcard in a
  // principal is literal and matches nothing (checked against the real ssh in the conformance test).
  if (cert.principals.length > 0 && !cert.principals.some((p) => globMatch(p, options.host)))
    return `${options.host} is not a listed principal`;
  if (cert.criticalOptions.length > 0) return 'certificate has critical options (ssh refuses them for hosts)';
  return null;
}
