import { CliFailure } from './failure.js';

/** How long psm waits for a daemon's /healthz when it only explains a refusal. */
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * A worker psm cannot drive because another process holds it (WORKER_BUSY): when a psm daemon
 * serves the location, it is most likely the daemon in the middle of a step on one of its pool
 * workers (the guest agent serves one client at a time). Says so and what to use instead; any
 * other failure is returned as it is.
 */
export async function explainBusy(error: unknown, location: string | undefined): Promise<unknown> {
  if (!(error instanceof CliFailure) || error.code !== 'WORKER_BUSY') return error;
  const { resolveLocation } = await import('../vault/layout.js');
  const { daemonPaths } = await import('../jobmgr/daemon/paths.js');
  const { callDaemon } = await import('../jobmgr/client.js');
  const at = resolveLocation(location);
  const health = await callDaemon(daemonPaths(at).socket, 'GET', '/healthz', undefined, {
    timeoutMs: HEALTH_TIMEOUT_MS,
  });
  if (!health.ok) return error;
  return new CliFailure(
    'WORKER_BUSY',
    `${error.message}; a psm daemon serves ${at} and drives its pool workers one guest-agent client at a time: go through it (psm reserve, psm run-main, psm end, psm workers list) or retry once it is idle on this worker`,
    error.category,
  );
}
