import { httpStatusForCategory } from '../../common/error-category.js';
import { AUDIT_ACTIONS, auditLogErrorCategory } from '../../psm/audit-log/index.js';
import type { Pool } from '../pool.js';
import { onlyFields, type Body } from './body.js';
import { daemonErrorCategory } from './errors.js';
import { RUN_ID_PATTERN } from './open-runs.js';
import type { Answer } from './routes.js';
import { refusal, type RouteDeps } from './run-main-route.js';

/** How a run ended, as `psm run-main` saw it: exactly one of these. */
type RunEnd = { exitCode: number } | { signal: string } | { error: string };

const SIGNAL_NAME = /^SIG[A-Z0-9]{1,12}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * `POST /v1/run-main/end {"run", "exitCode" | "signal" | "error"}`: `psm run-main` reports how the
 * run the daemon answered ended (the object's exit code, the signal it died of, or psm's own error
 * code), and the daemon records it in the audit log as `run-main.end`, with the start's
 * application, worker and object. Only a run this daemon started can be ended, and only once.
 */
export async function runMainEndRoute(_pool: Pool, body: Body, deps: RouteDeps): Promise<Answer> {
  const fields = onlyFields(body, ['run', 'exitCode', 'signal', 'error']);
  if (!fields.ok) return refusal(400, fields.error.code, fields.error.message);
  if (typeof body.run !== 'string' || !RUN_ID_PATTERN.test(body.run))
    return refusal(400, 'BODY_INVALID', 'run must be the id the daemon gave out (32 hex digits)');
  const end = runEndOf(body);
  if (end === undefined)
    return refusal(
      400,
      'BODY_INVALID',
      'give exactly one of exitCode (0-255), signal (SIGNAME) or error (an error code)',
    );
  const run = deps.runs.close(body.run);
  if (run === undefined)
    return refusal(
      httpStatusForCategory(daemonErrorCategory('RUN_NOT_OPEN')),
      'RUN_NOT_OPEN',
      'this daemon started no such run, or recorded its end already',
    );
  if (deps.audit !== undefined) {
    const recorded = await deps.audit.append({
      action: AUDIT_ACTIONS.runMainEnd,
      subject: { ...run, run: body.run, ...end },
    });
    if (!recorded.ok)
      return refusal(
        httpStatusForCategory(auditLogErrorCategory(recorded.error.code)),
        recorded.error.code,
        `the end of the run could not be recorded in the audit log: ${recorded.error.message}`,
      );
  }
  deps.log?.info('run-main ended', { ...run, run: body.run, ...end });
  return { status: 200, body: { run: body.run, recorded: deps.audit !== undefined } };
}

function runEndOf(body: Body): RunEnd | undefined {
  const given = ['exitCode', 'signal', 'error'].filter((name) => body[name] !== undefined);
  if (given.length !== 1) return undefined;
  const { exitCode, signal, error } = body;
  if (typeof exitCode === 'number' && Number.isInteger(exitCode) && exitCode >= 0 && exitCode <= 255)
    return { exitCode };
  if (typeof signal === 'string' && SIGNAL_NAME.test(signal)) return { signal };
  if (typeof error === 'string' && ERROR_CODE.test(error)) return { error };
  return undefined;
}
