/**
 * The corpus for the sshd conformance suite: generated and adversarial authorized_keys lines,
 * each carrying the client's public key (sshd only evaluates a line's options after its key
 * matched the key being offered). Deterministic: a seeded generator, no Math.random.
 */

export interface CorpusLine {
  /** Which client key the line carries (the test logs in with that key). */
  readonly client: number;
  readonly line: string;
  readonly why: string;
}

/** xorshift32: reproducible "random" choices for the generated part of the corpus. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

const FLAGS = [
  'restrict',
  'port-forwarding',
  'no-port-forwarding',
  'agent-forwarding',
  'no-agent-forwarding',
  'x11-forwarding',
  'no-x11-forwarding',
  'pty',
  'no-pty',
  'user-rc',
  'no-user-rc',
  'touch-required',
  'no-touch-required',
  'verify-required',
  'no-verify-required',
];

const VALUED_OK = [
  'command="/bin/true"',
  'command="echo \\"quoted\\" and spaces"',
  'command=""',
  'environment="LANG=C"',
  'environment="PSM_X_1=a b c"',
  'permitopen="localhost:8080"',
  'permitopen="[::1]:22"',
  'permitopen="*:*"',
  'permitopen="host:ssh"',
  'permitlisten="9000"',
  'permitlisten="localhost:9001"',
  'permitlisten="[::1]:9002"',
  'tunnel="0"',
  'tunnel="any"',
  'tunnel="42"',
  'expiry-time="20991231"',
  'expiry-time="209912312359Z"',
  'expiry-time="20991231235959UTC"',
  'from="127.0.0.1"',
  'from="127.0.0.0/8,::1"',
];

const VALUED_BAD = [
  'command=/bin/true',
  'command="unterminated',
  'environment="NOEQUALS"',
  'environment="BAD-NAME=1"',
  'environment="=empty"',
  'permitopen="host"',
  'permitopen="host:0"',
  'permitopen="host:65536"',
  'permitopen="::1:22"',
  'permitopen="[::1:22"',
  'permitopen="host:nosuchservice"',
  'permitlisten="70000"',
  'tunnel="-1"',
  'tunnel="2147483646"',
  'tunnel="tun0"',
  'expiry-time="2099"',
  'expiry-time="20991301"',
  'expiry-time="19700101Z"',
  'expiry-time="2099123a"',
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomCase(random: () => number, text: string): string {
  // Option names are case-insensitive; values are not, so only change the name part.
  const equals = text.indexOf('=');
  const name = equals === -1 ? text : text.slice(0, equals);
  const rest = equals === -1 ? '' : text.slice(equals);
  const mixed = [...name].map((c) => (random() < 0.3 ? c.toUpperCase() : c)).join('');
  return `${mixed}${rest}`;
}

/** Hand-written adversarial lines; `K` is replaced by the client's "type base64". */
const ADVERSARIAL: Array<[string, string]> = [
  ['K', 'plain key'],
  ['K comment with  spaces', 'comment'],
  ['  \tK', 'leading blanks'],
  ['restrict K', 'restrict'],
  ['restrict,pty K', 'restrict then pty'],
  ['pty,restrict K', 'pty then restrict'],
  ['RESTRICT,PTY K', 'upper case'],
  ['restrict,,pty K', 'empty item'],
  [',restrict K', 'leading comma'],
  ['restrict, K', 'trailing comma then blank'],
  ['restrict,\tK', 'trailing comma then tab'],
  ['restrict\tK', 'tab after options'],
  ['restricted K', 'flag prefix with junk'],
  ['no-restrict K', 'negated restrict'],
  ['no-cert-authority K', 'negated cert-authority'],
  ['frobnicate K', 'unknown option'],
  ['restrict,frobnicate K', 'unknown option later'],
  ['pty="yes" K', 'flag with value'],
  ['command="a",command="b" K', 'duplicate command'],
  ['from="127.0.0.1",from="127.0.0.1" K', 'duplicate from'],
  ['principals="a",principals="b" K', 'duplicate principals'],
  ['command="a",command=b K', 'duplicate before quote check'],
  ['command="x"y K', 'text after closing quote'],
  ['command="a\\" b" K', 'escaped quote keeps field open'],
  ['command="c:\\dir" K', 'literal backslash'],
  ['command="tab\there" K', 'tab inside quotes'],
  ['command="ends with backslash\\" K', 'backslash-quote at end: unterminated'],
  ['command="x K', 'unterminated quote'],
  ['"restrict" K', 'quoted flag'],
  ['restrict="" K', 'flag with empty value'],
  ['command ="x" K', 'blank before ='],
  ['principals="alice" K', 'principals on a plain key (refused at auth)'],
  ['cert-authority K', 'cert-authority on the client key (never matches)'],
  ['from="10.0.0.1" K', 'from that does not match (refused at auth)'],
  ['from="127.0.0.1" K', 'from that matches'],
  ['expiry-time="20000101" K', 'expired (refused at auth)'],
  ['expiry-time="20991231",expiry-time="20000101" K', 'earliest expiry wins'],
  ['environment="A=1",environment="A=2" K', 'repeated environment name'],
  ['environment="A=1",environment="B=2",environment="C=3" K', 'three environment entries'],
  ['permitopen="h:22",permitopen="h:23",permitlisten="1",permitlisten="*:2" K', 'several permits'],
  ['permitopen="host/22" K', 'slash separator'],
  ['permitopen="host: +22" K', 'port with blank and sign'],
  ['permitopen=":22" K', 'empty host'],
  ['permitopen="[]:22" K', 'empty brackets'],
  ['permitopen="[::1]x:22" K', 'junk after bracket'],
  ['permitopen="h:*" K', 'wildcard port'],
  ['permitlisten="h/22" K', 'bare listen with slash'],
  ['tunnel="ANY" K', 'tunnel ANY'],
  ['tunnel=" 7" K', 'tunnel with leading blank'],
  ['tunnel="+7" K', 'tunnel with sign'],
  ['tunnel="007" K', 'tunnel with zeros'],
  ['tunnel="" K', 'empty tunnel'],
  ['tunnel="2147483645" K', 'largest tunnel'],
  ['tunnel="1",tunnel="2" K', 'last tunnel wins'],
  ['expiry-time="20990231" K', 'day rolls over'],
  ['expiry-time="209912312360" K', 'minute 60'],
  ['expiry-time="20991231246000" K', 'hour 24'],
  ['expiry-time="2099 1 1" K', 'blank-padded fields'],
  ['expiry-time="20991231z" K', 'lower-case z'],
  ['expiry-time="20991231utc" K', 'lower-case utc'],
  ['expiry-time="20991231 Z" K', 'blank before Z'],
  ['expiry-time="" K', 'empty expiry'],
  ['verify-required K', 'verify-required on a plain key'],
  ['no-touch-required K', 'no-touch-required'],
  ['environment="A=1" K', 'one environment entry'],
  ['restrict,port-forwarding,agent-forwarding,x11-forwarding,pty,user-rc K', 'restrict then all back'],
  ['no-port-forwarding,no-agent-forwarding,no-x11-forwarding,no-pty,no-user-rc K', 'all off'],
  [
    'restrict,command="/usr/bin/rsync --server",from="127.0.0.1",permitopen="localhost:873" K',
    'typical psm line',
  ],
];

/** Variants of the key field itself; `T` is the type, `B` the base64. */
const KEY_FIELD: Array<[string, string]> = [
  ['T', 'type alone'],
  ['T ', 'type and blank'],
  ['ssh-rsa B', 'wrong type name for the blob'],
  ['ecdsa-sha2-nistp521 B', 'another wrong type name'],
  ['T B=', 'extra padding'],
  ['T =B', 'padding first'],
  ['T B!', 'junk character'],
  ['T BAAAA', 'four more characters: trailing bytes'],
  ['T Bx', 'one more character'],
  ['restrict T', 'options and no base64'],
  ['restrict', 'options only'],
  ['T B trailing', 'comment'],
  ['T\tB', 'tab between type and data'],
  ['T  B', 'two blanks between type and data'],
  ['restrict T B', 'restrict in front'],
];

/**
 * Builds the corpus for client keys given as "type base64". Key-field variants that need a
 * particular encoding are skipped where they would not apply (for example, no padding to drop).
 */
export function buildCorpus(clientKeys: readonly string[], generated = 160): CorpusLine[] {
  const corpus: CorpusLine[] = [];
  ADVERSARIAL.forEach(([template, why], index) => {
    const client = index % clientKeys.length;
    corpus.push({ client, line: template.replaceAll('K', clientKeys[client]!), why });
  });
  clientKeys.forEach((key, client) => {
    const [type, b64] = key.split(' ') as [string, string];
    for (const [template, why] of KEY_FIELD) {
      corpus.push({
        client,
        line: template.replaceAll('T', type).replaceAll('B', b64),
        why: `key field: ${why}`,
      });
    }
    // Names sshd also reads as this key's type: signature-algorithm aliases in the type field,
    // and (inside the blob) a short name in any case.
    if (type === 'ssh-rsa') {
      for (const alias of ['rsa-sha2-256', 'rsa-sha2-512', 'RSA-SHA2-256'])
        corpus.push({
          client,
          line: `restrict ${alias} ${b64} alias`,
          why: `key field: type alias ${alias}`,
        });
    }
    const short = type === 'ssh-rsa' ? 'RSA' : type === 'ssh-ed25519' ? 'ED25519' : 'ECDSA';
    for (const name of [short, short.toLowerCase(), `${short}-cert-v01@openssh.com`]) {
      const blob = Buffer.from(b64, 'base64');
      const body = blob.subarray(4 + blob.readUInt32BE(0));
      const length = Buffer.alloc(4);
      length.writeUInt32BE(name.length);
      const rewrapped = Buffer.concat([length, Buffer.from(name), body]).toString('base64');
      corpus.push({ client, line: `pty ${type} ${rewrapped}`, why: `key field: blob type named ${name}` });
    }
    if (b64.endsWith('=')) {
      corpus.push({ client, line: `${type} ${b64.replace(/=+$/, '')}`, why: 'key field: padding dropped' });
    }
    // Flip the spare bits of the last data character (non-canonical base64).
    const padding = b64.length - b64.replace(/=+$/, '').length;
    if (padding > 0) {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const at = b64.length - padding - 1;
      const flipped = alphabet[alphabet.indexOf(b64[at]!) ^ 1]!;
      corpus.push({
        client,
        line: `${type} ${b64.slice(0, at)}${flipped}${b64.slice(at + 1)}`,
        why: 'key field: non-zero padding bits',
      });
    }
  });
  // sshd's limits are checked as "more than N" before adding one: N + 1 entries still load.
  const permits = (n: number): string =>
    Array.from({ length: n }, (_, i) => `permitopen="h:${i + 1}"`).join(',');
  const envs = (n: number): string => Array.from({ length: n }, (_, i) => `environment="V${i}=1"`).join(',');
  for (const [field, why] of [
    [permits(4097), '4097 permitopen'],
    [permits(4098), '4098 permitopen'],
    [envs(1025), '1025 environment'],
    [envs(1026), '1026 environment'],
  ] as const)
    corpus.push({ client: 0, line: `${field} ${clientKeys[0]!}`, why: `limits: ${why}` });
  const random = seededRandom(0x5eed);
  for (let i = 0; i < generated; i++) {
    const client = i % clientKeys.length;
    const items: string[] = [];
    const count = 1 + Math.floor(random() * 5);
    for (let j = 0; j < count; j++) {
      const roll = random();
      if (roll < 0.5) items.push(randomCase(random, pick(random, FLAGS)));
      else if (roll < 0.85) items.push(randomCase(random, pick(random, VALUED_OK)));
      else items.push(pick(random, VALUED_BAD));
    }
    // Occasional separator damage: a doubled comma, or a trailing comma before the key.
    let field = items.join(random() < 0.1 ? ',,' : ',');
    if (random() < 0.08) field += ',';
    corpus.push({ client, line: `${field} ${clientKeys[client]!} gen-${i}`, why: `generated ${i}` });
  }
  return corpus;
}
