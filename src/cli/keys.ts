/**
 * `psm keys inspect`: reads an authorized_keys (or known_hosts) file and reports every line as
 * sshd reads it. A thin adapter: the parsers are imported inside the action so `psm` starts fast.
 */
import { Option, type Command } from 'commander';
import { INPUT_LIMITS, readFileChunks, readStreamChunks, type ReadError } from '../common/bounded-read.js';
import { assertNever, type Result } from '../common/result.js';
import { ChunkedWriter } from './chunked-output.js';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import type { LineReport } from './line-report.js';
import type { CliIo } from './output.js';

/** The largest file psm inspects (bigger inputs are refused with exit 3, before reading them). */
export const MAX_INSPECT_BYTES = INPUT_LIMITS.keysFile;

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
  if (format === 'known_hosts') {
    const [{ KnownHostsReader }, { KNOWN_HOSTS_REPORT }] = await Promise.all([
      import('../authorized-keys/known-hosts/index.js'),
      import('./known-hosts-report.js'),
    ]);
    return writeReport(io, input, file, new KnownHostsReader(), KNOWN_HOSTS_REPORT, json);
  }
  const [{ AuthorizedKeysReader }, { AUTHORIZED_KEYS_REPORT }] = await Promise.all([
    import('../authorized-keys/lines/line.js'),
    import('./keys-report.js'),
  ]);
  return writeReport(io, input, file, new AuthorizedKeysReader(), AUTHORIZED_KEYS_REPORT, json);
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
      if (json) report.writeJson(row, out);
      else report.tableRows(row, out);
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
