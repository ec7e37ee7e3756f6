import { httpStatusForCategory } from '../../common/error-category.js';
import type { Logger } from '../../common/logger.js';
import type { AuditLog } from '../../psm/audit-log/index.js';
import { AUDIT_ACTIONS, auditLogErrorCategory } from '../../psm/audit-log/index.js';
import { parseRunMainRequest, runMainErrorCategory } from '../../psm/run-main/index.js';
import type { Pool } from '../pool.js';
import { checkAppId } from '../requests.js';
import { onlyFields, type Body } from './body.js';
import type { OpenRuns } from './open-runs.js';
import type { Answer } from './routes.js';

/** What a route may use beside the pool: the audit log (trusted workers only), the log, the open runs. */
export interface RouteDeps {
  readonly audit?: AuditLog;
  readonly log?: Logger;
  readonly runs: OpenRuns;
}

export const refusal = (status: number, code: string, message: string): Answer => ({
  status,
  body: { error: { code, message } },
});

/**
 * `POST /v1/run-main {"app","object","args"}`: where `psm run-main` logs in to run an active
 * application's main (its worker, the worker's SSH endpoint and pinned host keys). The request is
 * checked as the CLI checks it and recorded in the audit log (application, worker, object, the
 * number of arguments: their values may be secrets of the application, and the run's id) before
 * it is answered; a run that could not be recorded is not answered. The CLI then runs it itself
 * (src/cli/run-main.ts) and reports its end to `/v1/run-main/end` (run-main-end-route.ts).
 */
export async function runMainRoute(pool: Pool, body: Body, deps: RouteDeps): Promise<Answer> {
  const fields = onlyFields(body, ['app', 'object', 'args']);
  if (!fields.ok) return refusal(400, fields.error.code, fields.error.message);
  const appId = checkAppId(body.app);
  if (!appId.ok) return refusal(400, appId.error.code, appId.error.message);
  const args = body.args ?? [];
  if (typeof body.object !== 'string' || !Array.isArray(args) || !args.every((a) => typeof a === 'string'))
    return refusal(400, 'BODY_INVALID', 'object must be a string and args an array of strings');
  const request = parseRunMainRequest(body.object, args as string[]);
  if (!request.ok)
    return refusal(
      httpStatusForCategory(runMainErrorCategory(request.error.code)),
      request.error.code,
      request.error.message,
    );
  const app = pool.store.app(appId.value);
  if (app === undefined || app.phase === 'granting')
    return refusal(404, 'APP_NOT_FOUND', `no application ${appId.value} holds a worker here`);
  if (app.phase === 'ending')
    return refusal(409, 'APP_ENDING', `${appId.value} is ending: its worker is being reverted`);
  const worker = pool.store.worker(app.worker);
  const started = { app: app.appId, worker: app.worker, object: request.value.object };
  const run = deps.runs.open(started);
  if (deps.audit !== undefined) {
    const recorded = await deps.audit.append({
      action: AUDIT_ACTIONS.runMain,
      subject: { ...started, args: args.length, run },
    });
    if (!recorded.ok) {
      deps.runs.close(run);
      return refusal(
        httpStatusForCategory(auditLogErrorCategory(recorded.error.code)),
        recorded.error.code,
        `the run could not be recorded in the audit log: ${recorded.error.message}`,
      );
    }
  }
  deps.log?.info('run-main', { ...started, run });
  return {
    status: 200,
    body: {
      app: app.appId,
      worker: app.worker,
      run,
      ssh: worker?.ssh ?? null,
      hostKeys: worker?.hostKeys ?? [],
    },
  };
}
