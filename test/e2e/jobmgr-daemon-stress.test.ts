/**
 * The pool's real state machine, real SQLite and the real socket, at a speed no VM allows: the
 * workers are the in-memory lifecycle's (src/jobmgr/memory-lifecycle.ts), which records every
 * breach of the pool's contract (two applications on one worker, two operations at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { MemoryLifecycle } from '../../src/jobmgr/memory-lifecycle.js';
import type { RunningDaemon } from '../../src/jobmgr/daemon/run.js';
import { daemonClient, startTestDaemon } from '../helpers/daemon-harness.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const APPS = 100;
const MAX_VMS = 60;

/** A small deterministic PRNG (mulberry32): the same run every time, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('psm daemon under load, over its socket (in-memory workers)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let daemon: RunningDaemon;
  let lifecycle: MemoryLifecycle;
  let client: ReturnType<typeof daemonClient>;

  beforeAll(async () => {
    dir = await makeTempDir('jobmgr-stress');
    lifecycle = new MemoryLifecycle({ delayMs: { clone: 2, boot: 1, prepare: 2, revert: 1 } });
    daemon = await startTestDaemon(dir.path, lifecycle, { maxVms: MAX_VMS, keepFree: 5 });
    client = daemonClient(daemon.paths.socket);
  });
  afterAll(async () => {
    client.close();
    await daemon.stop();
    await dir.remove();
  });

  it('1,000 concurrent reserve/release/end across 100 applications keep every invariant', async () => {
    const random = prng(13);
    const seenWorker = new Map<string, Set<string>>();
    const violations: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const workers = (await client.call('GET', '/v1/workers')).body as {
          workers: { name: string; app: string | null }[];
        };
        if (workers.workers.length > MAX_VMS) violations.push(`${workers.workers.length} workers exist`);
        const apps = (await client.call('GET', '/v1/apps')).body as {
          apps: { app: string; worker: string }[];
        };
        const owners = new Map<string, string>();
        for (const a of apps.apps) {
          const other = owners.get(a.worker);
          if (other !== undefined) violations.push(`${a.worker} serves ${other} and ${a.app}`);
          owners.set(a.worker, a.app);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const operations = Array.from({ length: 1000 }, (_, i) => {
      const app = `app-${Math.floor(random() * APPS)}`;
      const pick = random();
      const kind = pick < 0.6 ? 'reserve' : pick < 0.8 ? 'release' : 'end';
      return { app, kind, job: `job-${i % 7}` };
    });
    const answers = await Promise.all(
      operations.map(async (op) => {
        const body =
          op.kind === 'end'
            ? { app: op.app }
            : op.kind === 'release'
              ? { app: op.app, job: op.job }
              : { app: op.app, job: op.job, waitMs: 2_000 };
        const answer = await client.call('POST', `/v1/${op.kind}`, body);
        if (op.kind === 'reserve' && answer.status === 200) {
          const worker = (answer.body as { worker: string }).worker;
          const set = seenWorker.get(op.app) ?? new Set();
          set.add(worker);
          seenWorker.set(op.app, set);
        }
        return { op, answer };
      }),
    );
    sampling = false;
    await sampler;
    // More applications than max_vms: a reserve may wait and then be refused, with its code.
    const codes = new Map<string, number>();
    for (const { op, answer } of answers) {
      const code = answer.status === 200 ? 'ok' : (answer.body as { error: { code: string } }).error.code;
      codes.set(`${op.kind} ${code}`, (codes.get(`${op.kind} ${code}`) ?? 0) + 1);
      const allowed =
        op.kind === 'reserve' ? ['ok', 'POOL_EXHAUSTED'] : ['ok', 'APP_NOT_FOUND', 'JOB_NOT_FOUND'];
      expect(allowed, JSON.stringify(answer.body)).toContain(code);
    }
    expect(codes.get('reserve ok') ?? 0).toBeGreaterThan(300);
    expect(codes.get('end ok') ?? 0).toBeGreaterThan(50);
    expect(violations).toEqual([]);
    expect(lifecycle.violations).toEqual([]);
    expect(lifecycle.peak).toBeLessThanOrEqual(MAX_VMS);
    expect(daemon.pool.store.checkInvariants()).toEqual([]);
    // Every end returns its worker: end everything left, and every worker is free again.
    const left = (await client.call('GET', '/v1/apps')).body as { apps: { app: string }[] };
    for (const a of left.apps)
      expect((await client.call('POST', '/v1/end', { app: a.app })).status).toBe(200);
    for (let i = 0; i < 200 && daemon.pool.status().free !== daemon.pool.status().total; i++)
      await new Promise((r) => setTimeout(r, 10));
    const status = daemon.pool.status();
    expect(status.apps).toBe(0);
    expect(status.free).toBe(status.total);
    expect(lifecycle.workers.size).toBe(status.total);
    expect([...lifecycle.workers.values()].every((w) => w.keys.size === 0)).toBe(true);
    expect(seenWorker.size).toBeGreaterThan(50);
  }, 120_000);

  it('10,000 fuzzed or oversized bodies get coded 4xx answers, and the daemon keeps serving', async () => {
    const random = prng(7);
    const routes = ['/v1/reserve', '/v1/release', '/v1/end', '/v1/run-main', '/v1/run-main/end'];
    const bodies: (() => { body: Buffer; type: string })[] = [
      () => ({
        body: Buffer.from(
          Array.from({ length: Math.floor(random() * 200) + 1 }, () => Math.floor(random() * 256)),
        ),
        type: 'application/json',
      }),
      () => ({ body: Buffer.from('{"app": "a", "job": '), type: 'application/json' }),
      () => ({
        body: Buffer.from(JSON.stringify({ app: 'x'.repeat(129 + Math.floor(random() * 1000)), job: 'j' })),
        type: 'application/json',
      }),
      () => ({
        body: Buffer.from(JSON.stringify({ app: 'ok', job: 'j', extra: random() })),
        type: 'application/json',
      }),
      () => ({
        body: Buffer.from(JSON.stringify({ app: 'ok', job: ['not', 'a', 'string'] })),
        type: 'application/json',
      }),
      () => ({
        body: Buffer.from(JSON.stringify({ app: `bad\n${random()}`, job: 'j' })),
        type: 'application/json',
      }),
      () => ({ body: Buffer.from(JSON.stringify([1, 2, 3])), type: 'application/json' }),
      () => ({ body: Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`), type: 'application/json' }),
      () => ({ body: Buffer.from(JSON.stringify({ app: 'ok', job: 'j' })), type: 'text/plain' }),
      () => ({
        body: Buffer.alloc(64 * 1024 + 1 + Math.floor(random() * 1024), 0x20),
        type: 'application/json',
      }),
      () => ({
        body: Buffer.from(JSON.stringify({ app: 'ok', keys: [{ role: 'root', key: 'ssh-ed25519 AAAA' }] })),
        type: 'application/json',
      }),
      () => ({
        body: Buffer.from(
          JSON.stringify({ app: 'ok', keys: [{ key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI' }] }),
        ),
        type: 'application/json',
      }),
      () => ({
        body: Buffer.from(
          JSON.stringify({ app: 'ok', keys: Array.from({ length: 33 }, () => ({ key: 'x' })) }),
        ),
        type: 'application/json',
      }),
      () => ({ body: Buffer.from([0xef, 0xbb, 0xbf, 0xff, 0xfe]), type: 'application/json' }),
      () => ({
        body: Buffer.from(
          JSON.stringify({
            app: 'ok',
            object: ['../bin/sh', '', 'a b', `x\n${random()}`, 'y'.repeat(300)][Math.floor(random() * 5)],
            args: Array.from({ length: Math.floor(random() * 300) }, () => (random() < 0.5 ? 'a' : 'b c')),
          }),
        ),
        type: 'application/json',
      }),
      () => ({
        body: Buffer.from(JSON.stringify({ app: 'ok', object: 'hello', args: [1, null, {}] })),
        type: 'application/json',
      }),
    ];
    const send = (path: string, body: Buffer, type: string): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const req = request(
          {
            socketPath: daemon.paths.socket,
            method: 'POST',
            path,
            agent: client.agent,
            headers: { 'content-type': type, 'content-length': body.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const statuses = new Map<string, number>();
    for (let batch = 0; batch < 100; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => {
          const make = bodies[Math.floor(random() * bodies.length)] as () => { body: Buffer; type: string };
          const { body, type } = make();
          return send(routes[Math.floor(random() * routes.length)] as string, body, type);
        }),
      );
      for (const a of answers) {
        expect(a.status).toBeGreaterThanOrEqual(400);
        expect(a.status).toBeLessThan(500);
        const code = (JSON.parse(a.text) as { error: { code: string } }).error.code;
        expect(code).toMatch(/^[A-Z_]+$/);
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
      }
    }
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(10_000);
    expect([...statuses.keys()].sort()).toEqual(
      expect.arrayContaining([
        'BODY_INVALID',
        'BODY_NOT_JSON',
        'BODY_TOO_LARGE',
        'INVALID_APP_ID',
        'INVALID_KEY',
        'TOO_MANY',
        'UNSUPPORTED_MEDIA_TYPE',
      ]),
    );
    const health = await client.call('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(daemon.pool.status().apps).toBe(0);
  }, 120_000);

  it('serves /metrics in the Prometheus text format with the pool figures', async () => {
    const metrics = await client.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    const text = metrics.body as string;
    expect(text).toMatch(/^psm_pool_workers\{state="ready"\} \d+$/m);
    expect(text).toMatch(/^psm_pool_free_workers \d+$/m);
    expect(text).toMatch(/^psm_reserve_duration_seconds_bucket\{le="0.05",outcome="warm"\} \d+$/m);
    expect(text).toMatch(/^psm_worker_rotations_total\{kind="revert"\} [1-9]\d*$/m);
    expect(text).toContain('# TYPE psm_guest_operation_errors_total counter');
    // Only the daemon's user and group may connect.
    expect((await stat(daemon.paths.socket)).mode & 0o777).toBe(0o660);
  });
});
