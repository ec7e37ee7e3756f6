import { assertNever } from '../../common/result.js';
import { fromCoverage } from './from-match-all.js';
import type { HostPort, KeyPolicy, KeyRole } from './types.js';

/** What a key under a policy can and cannot do, in words for people who do not know sshd options. */
export interface PolicyExplanation {
  readonly name: string;
  readonly role: KeyRole;
  readonly holder: string;
  readonly owner: string;
  readonly description: string;
  readonly can: readonly string[];
  readonly cannot: readonly string[];
  /** What the worker itself must be set up to do, for the restrictions to hold completely. */
  readonly workerRequirements: readonly string[];
}

const WRAP_WIDTH = 96;

export function explainPolicy(policy: KeyPolicy): PolicyExplanation {
  const can: string[] = [];
  const cannot: string[] = [];
  can.push(describeLogin(policy.from));
  if (policy.objects.length === 0)
    cannot.push(`Start any program: every command it sends is refused by the gate ${policy.gatePath}.`);
  else
    can.push(
      `Start POP-C++ objects with popcobjrun (${policy.popcobjrunPath}), and only these: ` +
        `${policy.objects.map((o) => (o.kind === 'directory' ? `any file below ${o.path}` : o.path)).join('; ')}. ` +
        'Every word of the command must use only letters, digits and . _ , : = @ % + / - and must not contain "..".' +
        (policy.popcobjrunArguments === 'popc'
          ? " After the object only the options POP-C++'s client sends to start one are allowed: " +
            '-callback=, -object=, -appservice=, -jobservice=, -core=, -socket_port=, -runlocal, -cwd=, each once.'
          : ''),
    );
  if (policy.permitOpen.length > 0)
    can.push(
      `Open tunnels through the worker (like "ssh -L") to ${policy.permitOpen.map(describeHostPort).join(', ')} ` +
        '(as seen from the worker), and to nowhere else.',
    );
  else cannot.push('Open any tunnel (port forwarding is switched off).');
  if (policy.permitListen.length > 0)
    can.push(
      `Ask the worker to listen and tunnel back (like "ssh -R") on: ${policy.permitListen.map(describeHostPort).join(', ')}.`,
    );
  else if (policy.permitOpen.length > 0)
    cannot.push('Ask the worker to listen for connections and tunnel them back (like "ssh -R").');
  can.push(
    policy.expiry === null
      ? 'Be used with no end date (the policy has no "expiry").'
      : `Be used for ${describeDuration(policy.expiry.seconds)} after psm writes it; after that the worker's SSH server refuses it.`,
  );
  cannot.push(
    `Get a shell or run any other command: whatever it asks to run, the worker runs the gate ${policy.gatePath}` +
      (policy.objects.length === 0
        ? ', which refuses everything.'
        : ', which refuses everything except the objects above.'),
    'Get a terminal (no pty), so nothing interactive runs.',
    'Forward the SSH agent or X11 (graphical) connections.',
    "Set environment variables, or make the worker run the account's ~/.ssh/rc.",
  );
  const workerRequirements = [
    `Have the gate installed at ${policy.gatePath} (from "psm policy gate"), owned by root and not writable by others.`,
    'Have the key written for an account that is not root.',
  ];
  if (policy.permitOpen.length > 0)
    workerRequirements.push(
      'Say "AllowStreamLocalForwarding no" in its sshd_config: once port forwarding is on, an ' +
        'authorized_keys line cannot stop the key from asking the worker to listen on a Unix socket.',
    );
  return {
    name: policy.name,
    role: policy.role,
    holder: roleHolder(policy.role),
    owner: policy.owner,
    description: policy.description.trim(),
    can,
    cannot,
    workerRequirements,
  };
}

export function formatExplanation(e: PolicyExplanation): string {
  return [
    `Policy "${e.name}": for ${e.holder} (role ${e.role}).`,
    `Owner: ${e.owner}`,
    '',
    ...e.description.split('\n'),
    '',
    'A key written under this policy CAN:',
    ...e.can.map((line) => `  - ${line}`),
    '',
    'It CANNOT:',
    ...e.cannot.map((line) => `  - ${line}`),
    '',
    'The worker must also:',
    ...e.workerRequirements.map((line) => `  - ${line}`),
    '',
  ]
    .flatMap((line) => wrap(line))
    .join('\n');
}

/** Wraps at WRAP_WIDTH columns, indenting continuation lines of a "  - " item under its text. */
function wrap(line: string): string[] {
  if (line.length <= WRAP_WIDTH) return [line];
  const item = line.startsWith('  - ');
  const indent = item ? '    ' : '';
  const out: string[] = [];
  let current = item ? '  -' : '';
  for (const word of (item ? line.slice(4) : line).split(' ')) {
    if (current !== '' && current.length + 1 + word.length > WRAP_WIDTH) {
      out.push(current);
      current = indent + word;
    } else current = current === '' ? word : `${current} ${word}`;
  }
  out.push(current);
  return out;
}

function roleHolder(role: KeyRole): string {
  switch (role) {
    case 'admin':
      return "the admin VM's key on the workers";
    case 'main-node':
      return "the key of an application's main node";
    case 'initiator':
      return "a job initiator's key";
    default:
      return assertNever(role);
  }
}

function describeLogin(from: readonly string[]): string {
  if (from.length === 0) return 'Log in from anywhere (the policy has no "from" list).';
  const positive = from.filter((p) => !p.startsWith('!'));
  const excluded = from.filter((p) => p.startsWith('!')).map((p) => describeFrom(p.slice(1)));
  const except = excluded.length === 0 ? '' : `, but never from ${excluded.join(', ')}`;
  const covers = positive.map(fromCoverage);
  if (
    covers.some((c) => c.allIPv4 && c.allIPv6) ||
    (covers.some((c) => c.allIPv4) && covers.some((c) => c.allIPv6))
  )
    return `Log in from anywhere${except} (the "from" list matches every address).`;
  return `Log in only from ${positive.map(describeFrom).join(', ')}${except}.`;
}

function describeFrom(pattern: string): string {
  const cover = fromCoverage(pattern);
  if (cover.allIPv4) return `any IPv4 address (${pattern})`;
  if (cover.allIPv6) return `any IPv6 address (${pattern})`;
  if (pattern.includes('/')) return `addresses in ${pattern}`;
  if (pattern.includes('*') || pattern.includes('?')) return `addresses or names matching ${pattern}`;
  return pattern;
}

function describeHostPort(p: HostPort): string {
  const host = p.host === '*' ? 'any host' : p.host;
  const port = p.port === '*' ? 'any port' : `port ${p.port}`;
  return `${host} on ${port}`;
}

function describeDuration(seconds: number): string {
  const units: [number, string][] = [
    [604_800, 'week'],
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, name] of units)
    if (seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  return `${seconds} seconds`;
}
