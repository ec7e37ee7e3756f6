import { httpStatusForCategory } from '../../common/error-category.js';
import type { Result } from '../../common/result.js';
import { jobMgrErrorCategory, type JobMgrError } from '../errors.js';
import { DEFAULT_JOB_ID, DEFAULT_RESERVE_WAIT_MS, MAX_RESERVE_WAIT_MS } from '../limits.js';
import type { Pool } from '../pool.js';
import { checkAppId, checkJobId, checkKeys } from '../requests.js';
import { onlyFields, type Body } from './body.js';
import { daemonErrorCategory, type DaemonError } from './errors.js';
import { runMainEndRoute } from './run-main-end-route.js';
import { runMainRoute, type RouteDeps } from './run-main-route.js';

/** What a route answers: an HTTP status and a JSON value. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** POST routes read a JSON body; GET routes ignore theirs. */
  readonly handle: (pool: Pool, body: Body, deps: RouteDeps) => Promise<Answer>;
}

export function jobAnswer<T>(result: Result<T, JobMgrError>, view: (value: T) => unknown = (v) => v): Answer {
  if (result.ok) return { status: 200, body: view(result.value) };
  const { code, message } = result.error;
  return { status: httpStatusForCategory(jobMgrErrorCategory(code)), body: { error: { code, message } } };
}

export function daemonAnswer(error: DaemonError): Answer {
  return {
    status: httpStatusForCategory(daemonErrorCategory(error.code)),
    body: { error: { code: error.code, message: error.message } },
  };
}

/** Runs the checks in order; the first failure is the answer. */
function checked<T>(
  steps: () => Result<T, JobMgrError | DaemonError>,
  then: (value: T) => Promise<Answer>,
): Promise<Answer> {
  const value = steps();
  if (value.ok) return then(value.value);
  const error = value.error;
  return Promise.resolve(isDaemonError(error) ? daemonAnswer(error) : jobAnswer({ ok: false, error }));
}

function isDaemonError(error: JobMgrError | DaemonError): error is DaemonError {
  return ['BODY_INVALID', 'BODY_NOT_JSON', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'].includes(error.code);
}

function waitMsOf(value: unknown): Result<number, DaemonError> {
  if (value === undefined) return { ok: true, value: DEFAULT_RESERVE_WAIT_MS };
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_RESERVE_WAIT_MS)
    return { ok: true, value };
  return {
    ok: false,
    error: {
      code: 'BODY_INVALID',
      message: `waitMs must be a whole number from 0 to ${MAX_RESERVE_WAIT_MS}`,
    },
  };
}

function reserveRequest(body: Body) {
  const fields = onlyFields(body, ['app', 'job', 'keys', 'waitMs']);
  if (!fields.ok) return fields;
  const appId = checkAppId(body.app);
  if (!appId.ok) return appId;
  const jobId = checkJobId(body.job ?? DEFAULT_JOB_ID);
  if (!jobId.ok) return jobId;
  const keys = checkKeys(body.keys);
  if (!keys.ok) return keys;
  const waitMs = waitMsOf(body.waitMs);
  if (!waitMs.ok) return waitMs;
  return {
    ok: true as const,
    value: { appId: appId.value, jobId: jobId.value, keys: keys.value, waitMs: waitMs.value },
  };
}

function appJob(body: Body, jobRequired: boolean) {
  const fields = onlyFields(body, jobRequired ? ['app', 'job'] : ['app']);
  if (!fields.ok) return fields;
  const appId = checkAppId(body.app);
  if (!appId.ok) return appId;
  const jobId = jobRequired ? checkJobId(body.job) : ({ ok: true, value: '' } as const);
  if (!jobId.ok) return jobId;
  return { ok: true as const, value: { appId: appId.value, jobId: jobId.value } };
}

export const ROUTES: Readonly<Record<string, Route>> = {
  '/v1/reserve': {
    method: 'POST',
    handle: (pool, body) =>
      checked(
        () => reserveRequest(body),
        async (request) =>
          jobAnswer(await pool.reserve(request), (a) => ({
            app: a.app,
            job: a.job,
            worker: a.worker,
            ssh: a.ssh ?? null,
            hostKeys: a.hostKeys,
            warm: a.warm,
          })),
      ),
  },
  '/v1/release': {
    method: 'POST',
    handle: (pool, body) =>
      checked(
        () => appJob(body, true),
        async ({ appId, jobId }) => jobAnswer(await pool.release(appId, jobId)),
      ),
  },
  '/v1/end': {
    method: 'POST',
    handle: (pool, body) =>
      checked(
        () => appJob(body, false),
        async ({ appId }) => jobAnswer(await pool.end(appId)),
      ),
  },
  '/v1/run-main': { method: 'POST', handle: runMainRoute },
  '/v1/run-main/end': { method: 'POST', handle: runMainEndRoute },
  '/v1/apps': {
    method: 'GET',
    handle: (pool) =>
      Promise.resolve({
        status: 200,
        body: {
          apps: pool.store.apps().map((a) => ({
            app: a.appId,
            worker: a.worker,
            phase: a.phase,
            jobs: a.jobs,
            keys: a.keys.length,
            lastActive: new Date(a.lastActive).toISOString(),
          })),
        },
      }),
  },
  '/v1/workers': {
    method: 'GET',
    handle: (pool) =>
      Promise.resolve({
        status: 200,
        body: {
          workers: pool.store.workers().map((w) => ({
            name: w.name,
            state: w.state,
            app: w.app ?? null,
            ssh: w.ssh ?? null,
            hostKeys: w.hostKeys,
            reverts: w.reverts,
            since: new Date(w.stateSince).toISOString(),
            ...(w.lastError === undefined ? {} : { lastError: w.lastError }),
          })),
        },
      }),
  },
  '/v1/pool': { method: 'GET', handle: (pool) => Promise.resolve({ status: 200, body: pool.status() }) },
  '/v1/pool/fill': {
    method: 'POST',
    handle: (pool) =>
      Promise.resolve({ status: 200, body: { started: pool.reopen(), status: pool.status() } }),
  },
  '/v1/pool/drain': {
    method: 'POST',
    handle: async (pool) => ({ status: 200, body: { destroyed: await pool.drain(), status: pool.status() } }),
  },
};
