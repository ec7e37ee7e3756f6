import { Agent } from 'node:http';
import { startDaemon, type RunningDaemon } from '../../src/jobmgr/daemon/run.js';
import { callDaemon, type DaemonAnswer } from '../../src/jobmgr/client.js';
import { createLogger } from '../../src/common/logger.js';
import type { WorkerLifecycle } from '../../src/jobmgr/lifecycle.js';
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from '../../src/jobmgr/settings.js';

/** A daemon in this process on a throwaway location, with the lifecycle the test gives it. */
export async function startTestDaemon(
  location: string,
  lifecycle: WorkerLifecycle,
  settings: Partial<PoolSettings> = {},
): Promise<RunningDaemon> {
  const started = await startDaemon({
    location,
    lifecycle,
    settings: { ...DEFAULT_POOL_SETTINGS, namePrefix: 'w-', ...settings },
    log: createLogger({ level: 'error' }),
    graceMs: 5_000,
    maintenanceMs: 100,
  });
  if (!started.ok) throw new Error(`${started.error.code}: ${started.error.message}`);
  return started.value;
}

/** A client bound to one socket, with a keep-alive agent of bounded size. */
export function daemonClient(socket: string, maxSockets = 64) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<DaemonAnswer> => {
    const answer = await callDaemon(socket, method, path, body, { agent, timeoutMs: 60_000 });
    if (!answer.ok) throw new Error(`${answer.error.code}: ${answer.error.message}`);
    return answer.value;
  };
  return { agent, call, close: () => agent.destroy() };
}
