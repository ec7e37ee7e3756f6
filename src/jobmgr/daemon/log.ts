import { pino, type DestinationStream } from 'pino';
import {
  redactText,
  redactValue,
  REDACTED,
  type LogFields,
  type Logger,
  type LogLevel,
} from '../../common/logger.js';

/**
 * The daemon's JSON log: pino (one JSON object per line, fast, what journald and log shippers
 * expect) behind psm's Logger interface. Every line passes psm's redaction (src/common/logger.ts:
 * secret-looking field names, bytes, private keys, sealed values and passwords inside strings)
 * and pino's own path redaction on top, for the fields a request could carry key material in.
 */
const REDACT_PATHS = [
  'password',
  'passphrase',
  'secret',
  'token',
  'privateKey',
  'private_key',
  '*.password',
  '*.secret',
];

export interface DaemonLogOptions {
  readonly level?: LogLevel;
  /** Where lines go (default stderr, which systemd hands to journald). */
  readonly destination?: DestinationStream;
}

export function createDaemonLogger(options: DaemonLogOptions = {}): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'psm-daemon', pid: process.pid },
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactValue(object) as Record<string, unknown>,
      },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
  return wrap(base);
}

function wrap(logger: pino.Logger): Logger {
  const emit = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    logger[level]({ ...fields }, redactText(message));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => wrap(logger.child(redactValue(fields) as Record<string, unknown>)),
  };
}
