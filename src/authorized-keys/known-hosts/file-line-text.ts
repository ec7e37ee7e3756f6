/**
 * One line of a file's bytes as the exact reader sees it: its text (strict UTF-8), or the
 * LINE_TOO_LONG / INVALID_UTF8 error parseKnownHostsFile gives it. The whole-file commands use
 * it for every line the skim leaves to the reader, so such lines get the same results and
 * messages as everywhere else.
 */
import { decodeUtf8Strict } from '../../common/utf8.js';
import { codedError, err, ok, type Result } from '../../common/result.js';
import { MAX_KNOWN_HOSTS_LINE_BYTES, type KnownHostsError } from './errors.js';

export function lineText(bytes: Uint8Array, line: number): Result<string, KnownHostsError> {
  if (bytes.length > MAX_KNOWN_HOSTS_LINE_BYTES)
    return err({
      ...codedError(
        'LINE_TOO_LONG',
        `line is ${bytes.length} bytes, more than the ${MAX_KNOWN_HOSTS_LINE_BYTES} psm reads`,
      ),
      line,
    });
  const text = decodeUtf8Strict(bytes);
  if (text === null) return err({ ...codedError('INVALID_UTF8', 'line is not valid UTF-8'), line });
  return ok(text);
}

/** The first invalid line and how many there are, as the whole-file commands report them. */
export class InvalidLines {
  count = 0;
  first: { readonly line: number; readonly error: KnownHostsError } | null = null;

  add(line: number, error: KnownHostsError): void {
    this.count += 1;
    this.first ??= { line, error: { ...error, line } };
  }
}
