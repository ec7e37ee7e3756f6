/**
 * A small logger that redacts: psm's logs go to journald and support tickets, so nothing secret
 * may reach them even when a caller passes the wrong field. Redaction is by field name, by value
 * type (bytes are never printed), and by pattern in every string (URL passwords, sealed values,
 * PEM private keys, `password=...` pairs).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly sink?: { write(text: string): unknown };
  readonly level?: LogLevel;
  /** 'json' writes one JSON object per line; 'text' writes `level message key=value ...`. */
  readonly format?: 'json' | 'text';
}

export const REDACTED = '[redacted]';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Deepest nesting of fields printed; deeper values are replaced, so a cycle cannot hang the log. */
const MAX_DEPTH = 4;
const MAX_STRING = 2048;

const SECRET_FIELD =
  /pass(word|phrase|wd)?$|secret|token|credential|private|^key$|_key$|Key$|cookie|authorization/i;
const NOT_SECRET_FIELD = /(key_?id|keyId|fingerprint|key_?source|keySource|public_?key|publicKey)$/i;

const PATTERNS: readonly [RegExp, string][] = [
  [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    `[redacted private key]`,
  ],
  [/psm-sealed:[A-Za-z0-9+/=:_-]*/g, `psm-sealed:${REDACTED}`],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, `$1${REDACTED}@`],
  [/\b(pass(?:word|phrase|wd)?|secret|token)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, `$1$2${REDACTED}`],
];

export function redactText(text: string): string {
  let out = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}...` : text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

export function redactValue(value: unknown, key = '', depth = 0): unknown {
  if (key !== '' && SECRET_FIELD.test(key) && !NOT_SECRET_FIELD.test(key)) return REDACTED;
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => redactValue(item, '', depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k, depth + 1)]));
}

function textLine(level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const pairs = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`,
  );
  return [level, redactText(message), ...pairs].join(' ');
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const sink = options.sink ?? process.stderr;
  const threshold = LEVELS[options.level ?? 'info'];
  const format = options.format ?? 'text';
  const log = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    if (LEVELS[level] < threshold) return;
    const safe = redactValue({ ...base, ...fields }) as Record<string, unknown>;
    const line =
      format === 'json'
        ? JSON.stringify({ time: new Date().toISOString(), level, message: redactText(message), ...safe })
        : textLine(level, message, safe);
    sink.write(`${line}\n`);
  };
  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}
