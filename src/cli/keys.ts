/**
 * `psm keys inspect`: reads an authorized_keys (or known_hosts) file and reports every line as
 * sshd reads it. A thin adapter: the parsers are imported inside the action so `psm` starts fast.
 */
import { Option, type Command } from 'commander';
import { INPUT_LIMITS, readRegularFile, readStream } from '../common/bounded-read.js';
import { assertNever } from '../common/result.js';
import { escapeLine } from '../common/terminal-text.js';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import type { LineReport } from './keys-report.js';
import type { CliIo } from './output.js';

/** The largest file psm inspects (bigger inputs are refused with exit 3, before reading them). */
export const MAX_INSPECT_BYTES = INPUT_LIMITS.keysFile;
/** Output is written in chunks of about this many characters instead of one write per line. */
const OUTPUT_CHUNK_CHARS = 1 << 20;

type Format = 'authorized_keys' | 'known_hosts';

export function register(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('Inspect OpenSSH key files the way sshd reads them');
  keys
    .command('inspect')
    .description('Report every line of an authorized_keys or known_hosts file: kind, options, key, errors')
    .argument('[file]', 'the file to read, or - for standard input', '-')
    .addOption(
      new Option('--format <format>', 'the file format')
        .choices(['authorized_keys', 'known_hosts'])
        .default('authorized_keys'),
    )
    .option('--json', 'one JSON object per input line (JSON Lines)')
    .addHelpText(
      'after',
      `
Exit codes: 0 every line is valid, 1 at least one line is invalid, 2 usage error,
3 the file cannot be read.

Examples:
  psm keys inspect ~/.ssh/authorized_keys
  psm keys inspect --json /home/worker/.ssh/authorized_keys | jq 'select(.kind == "invalid")'
  cat authorized_keys | psm keys inspect - --json
  psm keys inspect --format known_hosts ~/.ssh/known_hosts`,
    )
    .action(async (file: string, options: { format: Format; json?: boolean }) => {
      const data = await readInput(io, file);
      const invalid = await inspect(io, data, options.format, options.json === true);
      process.exitCode = invalid > 0 ? EXIT.FINDINGS : EXIT.OK;
    });
}

async function readInput(io: CliIo, file: string): Promise<Uint8Array> {
  const read =
    file === '-'
      ? await readStream(io.stdin, MAX_INSPECT_BYTES, 'standard input')
      : await readRegularFile(file, MAX_INSPECT_BYTES);
  if (read.ok) return read.value;
  switch (read.error.code) {
    case 'TOO_LARGE':
      throw new CliFailure('INPUT_TOO_LARGE', read.error.message, 'input');
    case 'NOT_REGULAR':
    case 'SYMLINK':
      throw new CliFailure('NOT_A_FILE', read.error.message, 'input');
    case 'NOT_FOUND':
    case 'UNREADABLE':
      throw new CliFailure('FILE_UNREADABLE', `${file}: ${read.error.message}`, 'unreadable');
    default:
      return assertNever(read.error.code);
  }
}

class ChunkedWriter {
  private buffer = '';
  private closed = false;
  constructor(private readonly io: CliIo) {
    // A reader that goes away (`psm keys inspect --json big | head`) ends the output, quietly.
    io.stdout.on('error', () => {
      this.closed = true;
    });
  }
  line(text: string): void {
    if (this.closed) return;
    this.buffer += `${text}\n`;
    if (this.buffer.length >= OUTPUT_CHUNK_CHARS) this.flush();
  }
  flush(): void {
    if (this.buffer !== '' && !this.closed) this.io.stdout.write(this.buffer);
    this.buffer = '';
  }
}

/**
 * Streams: each line is parsed, printed and let go, so a large file costs its text in memory and
 * not all of its parsed lines (and the collector does not copy them all). Returns how many lines
 * are invalid.
 */
async function inspect(io: CliIo, data: Uint8Array, format: Format, json: boolean): Promise<number> {
  const report = await import('./keys-report.js');
  if (format === 'known_hosts') {
    const { knownHostsFileLines } = await import('../authorized-keys/known-hosts.js');
    return writeReport(io, knownHostsFileLines(data), report.KNOWN_HOSTS_REPORT, json);
  }
  const { authorizedKeysFileLines } = await import('../authorized-keys/index.js');
  return writeReport(io, authorizedKeysFileLines(data), report.AUTHORIZED_KEYS_REPORT, json);
}

function writeReport<Row extends { readonly result: { readonly ok: boolean } }>(
  io: CliIo,
  rows: Iterable<Row>,
  report: LineReport<Row>,
  json: boolean,
): number {
  const out = new ChunkedWriter(io);
  let lines = 0;
  let withKey = 0;
  let invalid = 0;
  if (!json) out.line(report.tableHeader);
  for (const row of rows) {
    lines++;
    if (!row.result.ok) invalid++;
    else if (report.holdsKey(row)) withKey++;
    if (json) out.line(JSON.stringify(report.json(row)));
    // Comments, options and host names come from the file: escaped in the table, exact in JSON.
    else for (const text of report.tableRows(row)) out.line(escapeLine(text));
  }
  if (!json) out.line(report.tableSummary(lines, withKey, invalid));
  out.flush();
  return invalid;
}
