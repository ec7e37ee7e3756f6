/**
 * `psm keys inspect`: reads an authorized_keys (or known_hosts) file and reports every line as
 * sshd reads it. A thin adapter: the parsers are imported inside the action so `psm` starts fast.
 */
import { Option, type Command } from 'commander';
import { INPUT_LIMITS, readFileChunks, readStreamChunks, type ReadError } from '../common/bounded-read.js';
import { assertNever, type Result } from '../common/result.js';
import { escapeLine } from '../common/terminal-text.js';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import type { LineReport } from './keys-report.js';
import type { CliIo } from './output.js';

/** The largest file psm inspects (bigger inputs are refused with exit 3, before reading them). */
export const MAX_INSPECT_BYTES = INPUT_LIMITS.keysFile;
/** Output is written in chunks of this many bytes. */
const OUTPUT_CHUNK_BYTES = 1 << 16;

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
      const input =
        file === '-'
          ? readStreamChunks(io.stdin, MAX_INSPECT_BYTES, 'standard input')
          : readFileChunks(file, MAX_INSPECT_BYTES);
      const invalid = await inspect(io, input, file, options.format, options.json === true);
      process.exitCode = invalid > 0 ? EXIT.FINDINGS : EXIT.OK;
    });
}

function readFailure(file: string, error: ReadError): CliFailure {
  switch (error.code) {
    case 'TOO_LARGE':
      return new CliFailure('INPUT_TOO_LARGE', error.message, 'input');
    case 'NOT_REGULAR':
    case 'SYMLINK':
      return new CliFailure('NOT_A_FILE', error.message, 'input');
    case 'NOT_FOUND':
    case 'UNREADABLE':
      return new CliFailure('FILE_UNREADABLE', `${file}: ${error.message}`, 'unreadable');
    default:
      return assertNever(error.code);
  }
}

/**
 * Output lines gathered into chunks of bytes instead of one write per line. The text goes into
 * the chunk as UTF-8 at once, so a chunk being filled or waiting in a pipe's queue is bytes
 * outside the JavaScript heap: a buffered string would outlive young collections and make the
 * heap grow with the length of the report.
 */
class ChunkedWriter {
  private chunk = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
  private used = 0;
  private closed = false;
  constructor(private readonly io: CliIo) {
    // A reader that goes away (`psm keys inspect --json big | head`) ends the output, quietly.
    io.stdout.on('error', () => {
      this.closed = true;
    });
  }
  line(text: string): void {
    if (this.closed) return;
    const bytes = Buffer.byteLength(text, 'utf8') + 1;
    if (this.used + bytes > this.chunk.length) this.write();
    if (bytes > this.chunk.length) {
      this.io.stdout.write(`${text}\n`);
      return;
    }
    this.used += this.chunk.write(text, this.used, 'utf8');
    this.chunk[this.used++] = 0x0a;
  }
  /** True while the reader is behind: a pipe read slower than psm parses would queue the report. */
  behind(): boolean {
    return this.io.stdout.writableNeedDrain && !this.closed;
  }
  async caughtUp(): Promise<void> {
    if (this.behind()) await drained(this.io.stdout);
  }
  async end(): Promise<void> {
    this.write();
    await this.caughtUp();
  }
  private write(): void {
    if (this.used > 0 && !this.closed) this.io.stdout.write(this.chunk.subarray(0, this.used));
    // The stream keeps the chunk it was given until it is written: the next lines go into a new one.
    this.chunk = Buffer.allocUnsafe(OUTPUT_CHUNK_BYTES);
    this.used = 0;
  }
}

/** Resolves when `stream` can take more, or can take nothing ever again. */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}

type Input = AsyncIterable<Result<Uint8Array, ReadError>>;

/** What inspect needs of a format's reader (AuthorizedKeysReader, KnownHostsReader). */
interface LineReader<Row> {
  push(chunk: Uint8Array): Iterable<Row>;
  end(): Iterable<Row>;
}

/**
 * Streams: the input is read a chunk at a time and each line is parsed, printed and let go, so a
 * file of any size costs a chunk and a line in memory. Returns how many lines are invalid.
 */
async function inspect(
  io: CliIo,
  input: Input,
  file: string,
  format: Format,
  json: boolean,
): Promise<number> {
  const report = await import('./keys-report.js');
  if (format === 'known_hosts') {
    const { KnownHostsReader } = await import('../authorized-keys/known-hosts/index.js');
    return writeReport(io, input, file, new KnownHostsReader(), report.KNOWN_HOSTS_REPORT, json);
  }
  const { AuthorizedKeysReader } = await import('../authorized-keys/lines/line.js');
  return writeReport(io, input, file, new AuthorizedKeysReader(), report.AUTHORIZED_KEYS_REPORT, json);
}

async function writeReport<Row extends { readonly result: { readonly ok: boolean } }>(
  io: CliIo,
  input: Input,
  file: string,
  reader: LineReader<Row>,
  report: LineReport<Row>,
  json: boolean,
): Promise<number> {
  const out = new ChunkedWriter(io);
  let lines = 0;
  let withKey = 0;
  let invalid = 0;
  const print = async (rows: Iterable<Row>): Promise<void> => {
    for (const row of rows) {
      lines++;
      if (!row.result.ok) invalid++;
      else if (report.holdsKey(row)) withKey++;
      if (json) out.line(report.jsonLine(row));
      // Comments, options and host names come from the file: escaped in the table, exact in JSON.
      else for (const text of report.tableRows(row)) out.line(escapeLine(text));
      if (out.behind()) await out.caughtUp();
    }
  };
  // The header waits for the first bytes: a file that cannot be read prints nothing.
  let header = !json;
  const printHeader = (): void => {
    if (header) out.line(report.tableHeader);
    header = false;
  };
  for await (const chunk of input) {
    if (!chunk.ok) throw readFailure(file, chunk.error);
    printHeader();
    await print(reader.push(chunk.value));
  }
  printHeader();
  await print(reader.end());
  if (!json) out.line(report.tableSummary(lines, withKey, invalid));
  await out.end();
  return invalid;
}
