/**
 * `psm known-hosts match|hash`: thin adapter over src/authorized-keys/known-hosts.ts. The library
 * is imported inside the actions so `psm` starts without loading it.
 */
import type { Command } from 'commander';
import { lstat, open, stat } from 'node:fs/promises';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import { readPublicKeyOption } from './public-key-option.js';
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
  const kh = await import('../authorized-keys/known-hosts.js');
  const parsedTarget = kh.parseLookupTarget(target);
  if (!parsedTarget.ok) throw new CliFailure(parsedTarget.error.code, parsedTarget.error.message, 'usage');
  const { host, port } = parsedTarget.value;
  const name = kh.lookupName(host, port);
  if (!name.ok) throw new CliFailure(name.error.code, name.error.message, 'usage');
  const key = options.key === undefined ? null : await readPublicKeyOption(options.key);
  const { data } = await readRegularFile(file, kh.MAX_KNOWN_HOSTS_FILE_BYTES, true);
  const lookup = kh.lookUpHost(kh.knownHostsFileLines(data), name.value);
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
  const kh = await import('../authorized-keys/known-hosts.js');
  const { writeFileAtomic } = await import('../common/atomic-write.js');
  const { data, mode, uid, gid } = await readRegularFile(file, kh.MAX_KNOWN_HOSTS_FILE_BYTES, false);
  const hashed = kh.hashKnownHostsFile(kh.knownHostsFileLines(data));
  if (!hashed.ok) throw new CliFailure(hashed.error.code, `${file}: ${hashed.error.message}`, 'input');
  const { text, hashedNames, keptUnhashed, alreadyHashed } = hashed.value;
  const changed = hashedNames > 0;
  if (changed) {
    // As root editing a user's file, the new file keeps the old one's owner from the start.
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    await writeFileAtomic(file, text, { mode, ...(asRoot ? { owner: { uid, gid } } : {}) });
  }
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

/**
 * Reads a regular file (not a FIFO or device) of at most `maxBytes`, checked before reading.
 * A file psm will rewrite must not be a symlink: renaming over it would replace the link.
 */
async function readRegularFile(
  path: string,
  maxBytes: number,
  followSymlinks: boolean,
): Promise<{ data: Uint8Array; mode: number; uid: number; gid: number }> {
  const info = await (followSymlinks ? stat(path) : lstat(path)).catch((error: NodeJS.ErrnoException) => {
    throw new CliFailure(
      'FILE_UNREADABLE',
      `cannot read ${path}: ${error.code ?? error.message}`,
      'unreadable',
    );
  });
  if (info.isSymbolicLink())
    throw new CliFailure('REFUSED_SYMLINK', `${path} is a symbolic link; give the real file`, 'refused');
  if (!info.isFile()) throw new CliFailure('NOT_A_FILE', `${path} is not a regular file`, 'refused');
  if (info.size > maxBytes)
    throw new CliFailure('FILE_TOO_LARGE', `${path} is larger than ${maxBytes} bytes`, 'input');
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new CliFailure(
      'FILE_UNREADABLE',
      `cannot read ${path}: ${error.code ?? error.message}`,
      'unreadable',
    );
  });
  try {
    const data = new Uint8Array(await handle.readFile());
    if (data.length > maxBytes)
      throw new CliFailure('FILE_TOO_LARGE', `${path} is larger than ${maxBytes} bytes`, 'input');
    return { data, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
  } finally {
    await handle.close();
  }
}
