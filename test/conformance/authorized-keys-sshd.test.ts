/**
 * psm's authorized_keys parser against the real Debian sshd: every corpus line (generated and
 * adversarial, each carrying the client's key) must get the same verdict from both, and where
 * sshd logs the options it applied, the same options. Fingerprints are compared with sshd's log
 * here and with `ssh-keygen -l -f` below.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthorizedKeysLine, type KeyOptions } from '../../src/authorized-keys/index.js';
import { parseExpiryTime } from '../../src/authorized-keys/lines/option-values.js';
import { runProgram } from '../../src/common/run-program.js';
import { generateKeyPair, type TestKeyPair } from '../helpers/keys.js';
import { tryPublicKeyLogin } from '../helpers/ssh-client.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { buildCorpus, type CorpusLine } from './authorized-keys-corpus.js';

/** sshd's "bad key options" reason for each psm options error code (auth-options.c errstr). */
const SSHD_REASONS: Record<string, RegExp> = {
  UNKNOWN_OPTION: /^unknown key option$/,
  MISSING_START_QUOTE: /^missing start quote$/,
  MISSING_END_QUOTE: /^missing end quote$/,
  DUPLICATE_OPTION: /^multiple "(command|principals|from)" clauses$/,
  UNEXPECTED_END_OF_OPTIONS: /^unexpected end-of-options$/,
  INVALID_EXPIRY_TIME: /^invalid expires time$/,
  INVALID_ENVIRONMENT: /^invalid environment string$/,
  TOO_MANY_ENVIRONMENT: /^too many environment strings$/,
  INVALID_PERMIT_HOST: /^invalid permission hostname$/,
  INVALID_PERMIT_PORT: /^invalid permission port$/,
  TOO_MANY_PERMITS: /^too many permission directives$/,
  INVALID_TUNNEL: /^invalid tun device$/,
};

/** The "key options:" summary sshd's auth_log_authopts prints for a set of options. */
function sshdSummary(o: KeyOptions): string {
  const tunnel = o.tunnel === null ? '' : ` tun=${o.tunnel === 'any' ? 0x7fffffff : o.tunnel}`;
  return [
    o.permit.agentForwarding ? ' agent-forwarding' : '',
    o.command === null ? '' : ' command',
    o.environment.length > 0 ? ' environment' : '',
    o.expiryTime.length > 0 ? 'expires' : '', // sshd prints this one without a leading blank
    o.noTouchRequired ? ' no-touch-required' : '',
    o.permitOpen.length > 0 ? ' permitopen' : '',
    o.permitListen.length > 0 ? ' permitlisten' : '',
    o.permit.portForwarding ? ' port-forwarding' : '',
    o.principals === null ? '' : ' principals',
    o.permit.pty ? ' pty' : '',
    o.verifyRequired ? ' uv' : '',
    tunnel,
    o.permit.userRc ? ' user-rc' : '',
    o.permit.x11Forwarding ? ' x11-forwarding' : '',
  ].join('');
}

function firstEvaluation(values: string[], evaluations: number): string[] {
  return evaluations === 0 ? values : values.slice(0, values.length / evaluations);
}

/** sshd's log escapes values with strnvis (VIS_SAFE | VIS_OCTAL): \\ for a backslash, \ooo for others. */
function unvis(text: string): string {
  return text.replace(/\\(\\|[0-7]{3})/g, (_whole, code: string) =>
    code === '\\' ? '\\' : String.fromCharCode(parseInt(code, 8)),
  );
}

function all(log: string, pattern: RegExp): string[] {
  return [...log.matchAll(pattern)].map((m) => unvis(m[1]!));
}

interface Verdict {
  readonly line: CorpusLine;
  readonly problems: string[];
}

let sshd: TestSshd;
const clients: TestKeyPair[] = [];
let clientKeys: string[] = [];
let corpus: CorpusLine[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  clients.push(
    await generateKeyPair('ed25519'),
    await generateKeyPair('ecdsa', 256),
    await generateKeyPair('rsa', 2048),
  );
  clientKeys = clients.map((c) => c.publicLine.split(' ').slice(0, 2).join(' '));
  corpus = buildCorpus(clientKeys);
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

async function sshdVerdict(entry: CorpusLine): Promise<string> {
  await sshd.writeAuthorizedKeys(`${entry.line}\n`);
  const offset = await sshd.logOffset();
  await tryPublicKeyLogin(sshd, clients[entry.client]!.privateKey);
  return sshd.waitForLog(
    offset,
    /Accepted publickey|Connection closed by authenticating user|Disconnected from authenticating user|Received disconnect from/,
    15_000,
  );
}

function compare(entry: CorpusLine, log: string): string[] {
  const problems: string[] = [];
  const psm = parseAuthorizedKeysLine(entry.line);
  const bad = /\d: bad key options: (.*)$/m.exec(log)?.[1];
  const invalidString = /invalid key option string/.test(log);
  const matching = /matching key found: \S+ (SHA256:\S+)/.exec(log)?.[1];
  if (!psm.ok) {
    if (matching !== undefined) problems.push(`psm: invalid (${psm.error.code}); sshd: key matched`);
    const reason = SSHD_REASONS[psm.error.code];
    if (reason !== undefined && (bad === undefined || !reason.test(bad)))
      problems.push(
        `psm: ${psm.error.code}; sshd: ${bad === undefined ? 'no "bad key options"' : `"${bad}"`}`,
      );
    if (psm.error.code === 'UNTERMINATED_QUOTE' && !invalidString)
      problems.push('psm: UNTERMINATED_QUOTE; sshd did not log "invalid key option string"');
    if (reason === undefined && psm.error.code !== 'UNTERMINATED_QUOTE' && bad !== undefined)
      problems.push(`psm: ${psm.error.code} (a key-field error); sshd: bad key options "${bad}"`);
    return problems;
  }
  if (psm.value.kind !== 'key') return [`psm: ${psm.value.kind}, not a key line`];
  const { options, key } = psm.value;
  if (bad !== undefined || invalidString) return [`psm: valid; sshd: ${bad ?? 'invalid key option string'}`];
  if (options.certAuthority) {
    if (matching !== undefined) problems.push('psm: cert-authority line; sshd matched it to a plain key');
    return problems;
  }
  if (matching === undefined) return ['psm: valid; sshd: key not matched (line skipped)'];
  if (matching !== key.fingerprint) problems.push(`fingerprint: psm ${key.fingerprint}, sshd ${matching}`);
  const evaluations = all(log, /^debug1: \S+:\d+: key options:(.*)$/gm);
  const expired = options.expiryTime.some((t) => (parseExpiryTime(t) ?? 0) * 1000 < Date.now());
  const mustAuthorise = options.principals === null && options.from === null && !expired;
  if (evaluations.length === 0) {
    if (mustAuthorise) problems.push('sshd refused a line psm sees as authorising');
    return problems;
  }
  if (evaluations[0] !== sshdSummary(options))
    problems.push(`options: psm "${sshdSummary(options)}", sshd "${evaluations[0]}"`);
  const n = evaluations.length;
  const compareList = (label: string, pattern: RegExp, expected: readonly string[]): void => {
    const seen = firstEvaluation(all(log, pattern), n);
    if (JSON.stringify(seen) !== JSON.stringify(expected))
      problems.push(`${label}: psm ${JSON.stringify(expected)}, sshd ${JSON.stringify(seen)}`);
  };
  compareList('environment', /^debug1: \S+:\d+: environment: (.*)$/gm, options.environment);
  compareList('permitopen', /^debug1: \S+:\d+: permitted open: (.*)$/gm, options.permitOpen);
  compareList('permitlisten', /^debug1: \S+:\d+: permitted listen: (.*)$/gm, options.permitListen);
  compareList(
    'command',
    /^debug1: \S+:\d+: forced command: "(.*)"$/gm,
    options.command === null ? [] : [options.command],
  );
  return problems;
}

describe('authorized_keys: psm and the real sshd agree', () => {
  it('has at least 200 corpus lines, valid and invalid', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    const valid = corpus.filter((c) => parseAuthorizedKeysLine(c.line).ok).length;
    expect(valid).toBeGreaterThan(50);
    expect(corpus.length - valid).toBeGreaterThan(50);
  });

  it('gives every corpus line the same verdict and options as sshd', async () => {
    const disagreements: Verdict[] = [];
    for (const entry of corpus) {
      const log = await sshdVerdict(entry);
      const problems = compare(entry, log);
      if (problems.length > 0) disagreements.push({ line: entry, problems });
    }
    const report = disagreements.map(
      (d) => `${d.line.why}: ${JSON.stringify(d.line.line)}\n  ${d.problems.join('\n  ')}`,
    );
    expect(report).toEqual([]);
  }, 600_000);

  it('prints the same fingerprints and bits as ssh-keygen -l -f', async () => {
    const file = join(sshd.dir, 'fingerprints');
    const lines = corpus.filter((c) => parseAuthorizedKeysLine(c.line).ok).map((c) => c.line);
    await writeFile(file, `${lines.join('\n')}\n`);
    const listing = await runProgram('ssh-keygen', ['-l', '-f', file], { timeoutMs: 60_000 });
    expect(listing.exitCode).toBe(0);
    const keygen = listing.stdout
      .toString()
      .trim()
      .split('\n')
      .map((row) => row.split(' ').slice(0, 2).join(' '));
    const psm = lines.map((line) => {
      const parsed = parseAuthorizedKeysLine(line);
      return parsed.ok && parsed.value.kind === 'key'
        ? `${parsed.value.key.bits} ${parsed.value.key.fingerprint}`
        : '';
    });
    expect(psm).toEqual(keygen);
  }, 120_000);
});
