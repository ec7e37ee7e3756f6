// Run by test/e2e/jobmgr-daemon-heap.test.ts as `node --expose-gc daemon-heap-child.mjs LOCATION`:
// a daemon (built dist/, in-memory workers) and its client in one process, 10,000 reserve ->
// release -> end cycles over the socket, each with a new application ID; prints the heap after
// a forced GC at 1,000 and at 10,000 cycles as one JSON line.
import { Agent } from 'node:http';
import { startDaemon } from '../../dist/jobmgr/daemon/run.js';
import { MemoryLifecycle } from '../../dist/jobmgr/memory-lifecycle.js';
import { callDaemon } from '../../dist/jobmgr/client.js';
import { createLogger } from '../../dist/common/logger.js';
import { DEFAULT_POOL_SETTINGS } from '../../dist/jobmgr/settings.js';

const location = process.argv[2];
const started = await startDaemon({
  location,
  lifecycle: new MemoryLifecycle(),
  settings: { ...DEFAULT_POOL_SETTINGS, namePrefix: 'w-', maxVms: 20, keepFree: 8 },
  log: createLogger({ level: 'error' }),
  maintenanceMs: 1000,
});
if (!started.ok) throw new Error(started.error.message);
const daemon = started.value;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const call = async (path, body) => {
  const answer = await callDaemon(daemon.paths.socket, 'POST', path, body, { agent });
  if (!answer.ok || answer.value.status !== 200) throw new Error(`${path}: ${JSON.stringify(answer)}`);
};
const cycle = async (i) => {
  const app = `app-${i}`;
  await call('/v1/reserve', { app, job: 'j' });
  await call('/v1/release', { app, job: 'j' });
  await call('/v1/end', { app });
};
const heap = () => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const CONCURRENCY = 8;
const marks = {};
for (let done = 0; done < 10_000; done += CONCURRENCY) {
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, k) => cycle(done + k)));
  if (done + CONCURRENCY === 1000 || done + CONCURRENCY === 10_000) {
    await new Promise((r) => setTimeout(r, 50));
    marks[done + CONCURRENCY] = heap();
  }
}
agent.destroy();
await daemon.stop();
process.stdout.write(`${JSON.stringify({ after1000: marks[1000], after10000: marks[10000] })}\n`);
