/**
 * `psm known-hosts match|hash`: thin adapter over src/authorized-keys/known-hosts/index.ts. The library
 * is imported inside the actions so `psm` starts without loading it.
 */
import type { Command } from 'commander';
import type { ReadError } from '../common/bounded-read.js';
import { assertNever } from '../common/result.js';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import { printJson, printLine, type CliIo } from './output.js';

export function register(program: Command, io: CliIo): void {
  const group = program
    .command('known-hosts')
    .description('Look hosts up in, check host keys against, and hash OpenSSH known_hosts files');

  group
    .command('match')
    .description('List the lines of FILE that apply to HOST; with --key, judge that host key as ssh would')
    .argument('<host>', 'HOST, HOST:PORT or [HOST]:PORT (port 22 when not given)')
    .argument('<file>', 'a known_hosts file')
    .option('--key <pubfile>', "the host's public key or certificate, as a .pub file (type base64 [comment])")
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Exit codes: without --key, 0 if any line applies to the host and 1 if none does (like
ssh-keygen -F). With --key, 0 if the key is trusted and 1 if it is revoked, changed (the host
is known with other keys) or unknown. 2 usage, 3 unreadable or invalid file (psm refuses to
judge a file it cannot read completely).

Examples:
  psm known-hosts match example.org ~/.ssh/known_hosts
  psm known-hosts match '[10.0.0.5]:2222' /etc/ssh/ssh_known_hosts --json
  psm known-hosts match worker3.grid --key /var/lib/psm/worker3/ssh_host_ed25519_key.pub known_hosts`,
    )
    .action(async (target: string, file: string, options: { key?: string; json?: boolean }) => {
      await runMatch(io, target, file, options);
    });

  group
    .command('hash')
    .description('Hash the host names of FILE in place, like ssh-keygen -H (atomic rewrite, mode kept)')
    .argument('<file>', 'a known_hosts file')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Each name of a plain host list becomes its own |1|salt|hash line; lines with a marker, a
wildcard or negation, hashed lines, comments and blank lines are kept as they are. If any line
is invalid nothing is written (exit 3). Unlike ssh-keygen, no FILE.old copy with the clear
names is left behind. Exit codes: 0 done, 2 usage, 3 unreadable or invalid file, 4 refused
(FILE is a symlink or not a regular file).

Examples:
  psm known-hosts hash ~/.ssh/known_hosts
  psm known-hosts hash /etc/ssh/ssh_known_hosts --json`,
    )
    .action(async (file: string, options: { json?: boolean }) => {
      await runHash(io, file, options);
    });
}

async function runMatch(
  io: CliIo,
  target: string,
  file: string,
  options: { key?: string; json?: boolean },
): Promise<void> {
  const kh = await import('../authorized-keys/known-hosts/index.js');
  const parsedTarget = kh.parseLookupTarget(target);
  if (!parsedTarget.ok) throw new CliFailure(parsedTarget.error.code, parsedTarget.error.message, 'usage');
  const { host, port } = parsedTarget.value;
  const name = kh.lookupName(host, port);
  if (!name.ok) throw new CliFailure(name.error.code, name.error.message, 'usage');
  // Loaded only for --key: psm known-hosts starts without it.
  const key =
    options.key === undefined
      ? null
      : await (await import('./public-key-option.js')).readPublicKeyOption(options.key);
  const { readKnownHostsFile } = await import('../authorized-keys/known-hosts/on-disk.js');
  const read = await readKnownHostsFile(file);
  if (!read.ok) throw readFailure(file, read.error);
  const data = read.value;
  const lookup = kh.lookUpHostInFile(data, name.value);
  refuseInvalid(lookup, file);
  const matches = lookup.matches;
  const check = key === null ? null : kh.checkHostKey(matches, key, { host });
  if (options.json) {
    printJson(io, {
      host,
      port,
      lookupName: name.value,
      matches: matches.map((m) => ({
        line: m.line,
        marker: m.marker,
        hashed: m.hashed,
        type: m.key.type,
        fingerprint: m.key.fingerprint,
      })),
      verdict: check?.verdict ?? null,
      verdictLine: check?.line ?? null,
      certificateProblem: check?.certificateProblem ?? null,
    });
  } else {
    printLine(io, `${host} (looked up as ${name.value}): ${matches.length} line(s) in ${file}`);
    for (const m of matches) {
      const marker = m.marker === null ? '' : `@${m.marker} `;
      printLine(
        io,
        `  line ${m.line}: ${marker}${m.key.type} ${m.key.fingerprint}${m.hashed ? ' (hashed)' : ''}`,
      );
    }
    if (check !== null) {
      const at = check.line === null ? '' : ` (line ${check.line})`;
      printLine(io, `verdict: ${check.verdict}${at}`);
      if (check.certificateProblem !== null)
        printLine(io, `certificate not accepted: ${check.certificateProblem}; checked as a plain key`);
    }
  }
  const success = check === null ? matches.length > 0 : check.verdict === 'trusted';
  if (!success) process.exitCode = EXIT.FINDINGS;
}

async function runHash(io: CliIo, file: string, options: { json?: boolean }): Promise<void> {
  const { hashKnownHostsFileInPlace } = await import('../authorized-keys/known-hosts/on-disk.js');
  const hashed = await hashKnownHostsFileInPlace(file);
  if (!hashed.ok) {
    if (hashed.error.kind === 'read') throw readFailure(file, hashed.error.error);
    throw new CliFailure(hashed.error.error.code, `${file}: ${hashed.error.error.message}`, 'input');
  }
  const { rewritten: changed, hashedNames, keptUnhashed, alreadyHashed } = hashed.value;
  if (options.json) {
    printJson(io, { file, rewritten: changed, hashedNames, keptUnhashed, alreadyHashed });
  } else {
    printLine(
      io,
      changed
        ? `${file}: hashed ${hashedNames} host name(s); kept ${keptUnhashed} line(s) with markers or wildcards unhashed`
        : `${file}: nothing to hash (${alreadyHashed} hashed line(s), ${keptUnhashed} kept unhashed); file unchanged`,
    );
  }
}

function refuseInvalid(
  lookup: {
    invalidLines: number;
    firstInvalid: { line: number; error: { code: string; message: string } } | null;
  },
  file: string,
): void {
  const first = lookup.firstInvalid;
  if (first === null) return;
  const more = lookup.invalidLines > 1 ? ` (and ${lookup.invalidLines - 1} more invalid line(s))` : '';
  throw new CliFailure(
    'FILE_HAS_INVALID_LINES',
    `${file}:${first.line}: ${first.error.code}: ${first.error.message}${more}`,
    'input',
  );
}

/** A file that cannot be read, as the CLI reports it (the codes and messages psm has always used). */
function readFailure(path: string, error: ReadError): CliFailure {
  switch (error.code) {
    case 'NOT_FOUND':
    case 'UNREADABLE':
      return new CliFailure(
        'FILE_UNREADABLE',
        `cannot read ${path}: ${error.errno ?? error.message}`,
        'unreadable',
      );
    case 'SYMLINK':
      return new CliFailure('REFUSED_SYMLINK', error.message, 'refused');
    case 'NOT_REGULAR':
      return new CliFailure('NOT_A_FILE', error.message, 'refused');
    case 'TOO_LARGE':
      return new CliFailure('FILE_TOO_LARGE', error.message, 'input');
    default:
      return assertNever(error.code);
  }
}
