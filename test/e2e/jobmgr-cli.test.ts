/**
 * The client commands end to end through the real CLI entry point and a real daemon socket (the
 * daemon in this process, on in-memory workers): what a script driving psm sees, exit codes and
 * --json included.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLifecycle } from '../../src/jobmgr/memory-lifecycle.js';
import type { RunningDaemon } from '../../src/jobmgr/daemon/run.js';
import { callDaemon } from '../../src/jobmgr/client.js';
import { startTestDaemon } from '../helpers/daemon-harness.js';
import { runPsmInProcess } from '../helpers/run-psm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl main@node';

describe('psm reserve / release / end / apps / workers / pool through the daemon', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let daemon: RunningDaemon;
  let lifecycle: MemoryLifecycle;
  let keyFile: string;
  const psm = (...args: string[]) => runPsmInProcess([...args, '--location', dir.path]);

  beforeAll(async () => {
    dir = await makeTempDir('jobmgr-cli');
    keyFile = join(dir.path, 'main.pub');
    await writeFile(keyFile, `${KEY}\n`);
    lifecycle = new MemoryLifecycle();
    daemon = await startTestDaemon(dir.path, lifecycle, { maxVms: 2, keepFree: 1 });
  });
  afterAll(async () => {
    await daemon.stop();
    await dir.remove();
  });

  it('reserve --json prints the worker, its ssh endpoint and host keys; a second job gets the same worker', async () => {
    const first = await psm('reserve', 'app-1', '--job', '1', '--key', keyFile, '--json');
    expect(first.code, first.stderr).toBe(0);
    const answer = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(answer).toMatchObject({
      app: 'app-1',
      job: '1',
      worker: 'w-1',
      ssh: { host: '127.0.0.1', port: expect.any(Number) as number },
      hostKeys: ['ssh-ed25519 w-1'],
    });
    // The key reaches the worker canonical: no comment, no options.
    expect(lifecycle.workers.get('w-1')?.keys.get('app-1')).toEqual([
      { role: 'main-node', key: KEY.split(' ').slice(0, 2).join(' ') },
    ]);
    const second = await psm('reserve', 'app-1', '--job', '2');
    expect(second.stdout).toMatch(/^app-1 job 2: w-1 \(ssh 127\.0\.0\.1:\d+\)$/m);
    const apps = JSON.parse((await psm('apps', 'list', '--json')).stdout) as {
      apps: { app: string; jobs: string[] }[];
    };
    expect(apps.apps).toMatchObject([{ app: 'app-1', jobs: ['1', '2'] }]);
  });

  it('release, end, workers list and pool status', async () => {
    expect((await psm('release', 'app-1', '--job', '1')).stdout).toMatch(
      /released app-1 job 1 \(1 job\(s\) left\)/,
    );
    const ended = await psm('end', 'app-1', '--json');
    expect(JSON.parse(ended.stdout)).toMatchObject({ app: 'app-1', worker: 'w-1', outcome: 'reverted' });
    const workers = JSON.parse((await psm('workers', 'list', '--json')).stdout) as {
      workers: { name: string; state: string }[];
    };
    expect(workers.workers.find((w) => w.name === 'w-1')?.state).toBe('ready');
    const status = await psm('pool', 'status');
    expect(status.stdout).toMatch(
      /^\d\/2 workers \(.*\), \d free \(keep 1\), 0 application\(s\), 0 waiting$/m,
    );
  });

  it('drain refuses new applications (exit 4, POOL_CLOSED); fill reopens', async () => {
    expect((await psm('pool', 'drain', '--json')).code).toBe(0);
    const refused = await psm('reserve', 'app-2', '--json');
    expect(refused.code).toBe(4);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'POOL_CLOSED' } });
    expect((await psm('pool', 'fill')).stdout).toMatch(/^started \d clone\(s\)/);
  });

  it('refusals keep their codes and exit codes: unknown app 3, bad app ID 2, bad key 3, no daemon 7', async () => {
    const unknown = await psm('end', 'nobody', '--json');
    expect([unknown.code, JSON.parse(unknown.stdout).error.code]).toEqual([3, 'APP_NOT_FOUND']);
    const bad = await psm('reserve', 'bad id', '--json');
    expect([bad.code, JSON.parse(bad.stdout).error.code]).toEqual([2, 'INVALID_APP_ID']);
    const notAKey = join(dir.path, 'not-a-key.pub');
    await writeFile(notAKey, 'ssh-ed25519 AAAA\n');
    expect((await psm('reserve', 'app-3', '--key', notAKey)).code).toBe(3);
    const none = await runPsmInProcess([
      'pool',
      'status',
      '--json',
      '--socket',
      join(dir.path, 'nothing.sock'),
    ]);
    expect([none.code, JSON.parse(none.stdout).error.code]).toEqual([7, 'DAEMON_UNREACHABLE']);
  });

  it('run-main: an unknown app 3, a worker with no pinned host key 4 (RUN_NOT_PREPARED), requests checked by the daemon too', async () => {
    // --location goes before --: everything after it is the object's.
    const runMain = (...args: string[]) => runPsmInProcess(['run-main', '--location', dir.path, ...args]);
    const unknown = await runMain('nobody', '--json', '--', 'hello');
    expect([unknown.code, JSON.parse(unknown.stdout).error.code]).toEqual([3, 'APP_NOT_FOUND']);
    expect((await psm('reserve', 'app-run')).code).toBe(0);
    // In-memory workers have no pins in known_hosts: psm never logs in to an unpinned server.
    const unpinned = await runMain('app-run', '--json', '--', 'hello', 'a');
    expect([unpinned.code, JSON.parse(unpinned.stdout).error.code]).toEqual([4, 'RUN_NOT_PREPARED']);
    const post = (body: unknown) => callDaemon(daemon.paths.socket, 'POST', '/v1/run-main', body);
    const codeOf = async (body: unknown) => {
      const answer = await post(body);
      if (!answer.ok) throw new Error(answer.error.message);
      return [answer.value.status, (answer.value.body as { error?: { code: string } }).error?.code];
    };
    expect(await codeOf({ app: 'app-run', object: '../bin/sh' })).toEqual([400, 'RUN_BAD_OBJECT']);
    expect(await codeOf({ app: 'app-run', object: 'hello', args: ['a b'] })).toEqual([
      400,
      'RUN_BAD_ARGUMENT',
    ]);
    expect(await codeOf({ app: 'app-run', object: 'hello', args: 'a' })).toEqual([400, 'BODY_INVALID']);
    expect(await codeOf({ app: 'app-run', object: 'hello', extra: 1 })).toEqual([400, 'BODY_INVALID']);
    expect(await codeOf({ app: 'app-run', object: 'hello' })).toEqual([200, undefined]);

    // Its end: once, for a run this daemon started, with exactly one of exit code, signal, error.
    const started = await post({ app: 'app-run', object: 'hello' });
    if (!started.ok) throw new Error(started.error.message);
    const { run } = started.value.body as { run: string };
    expect(run).toMatch(/^[0-9a-f]{32}$/);
    const end = (body: unknown) => callDaemon(daemon.paths.socket, 'POST', '/v1/run-main/end', body);
    const endCode = async (body: unknown) => {
      const answer = await end(body);
      if (!answer.ok) throw new Error(answer.error.message);
      return [answer.value.status, (answer.value.body as { error?: { code: string } }).error?.code];
    };
    for (const bad of [
      { run },
      { run, exitCode: 0, signal: 'SIGTERM' },
      { run, exitCode: 256 },
      { run, exitCode: -1 },
      { run, exitCode: 1.5 },
      { run, signal: 'TERM' },
      { run, error: 'not a code' },
      { run: 'x'.repeat(32), exitCode: 0 },
      { run, exitCode: 0, extra: 1 },
    ])
      expect([bad, await endCode(bad)]).toEqual([bad, [400, 'BODY_INVALID']]);
    expect(await endCode({ run: 'f'.repeat(32), exitCode: 0 })).toEqual([404, 'RUN_NOT_OPEN']);
    const ended = await end({ run, exitCode: 3 });
    expect(ended.ok && [ended.value.status, ended.value.body]).toEqual([200, { run, recorded: false }]);
    expect(await endCode({ run, exitCode: 3 })).toEqual([404, 'RUN_NOT_OPEN']);
    expect((await psm('end', 'app-run')).code).toBe(0);
  });

  it('psm daemon refuses a location psm init never made unless --untrusted-workers, and a second daemon', async () => {
    const bare = await makeTempDir('jobmgr-cli-bare');
    try {
      const refused = await runPsmInProcess(['daemon', '--location', bare.path, '--json']);
      expect([refused.code, JSON.parse(refused.stdout).error.code]).toEqual([3, 'CONFIG_MISSING']);
    } finally {
      await bare.remove();
    }
    const second = await psm('daemon', '--untrusted-workers', '--json');
    expect([second.code, JSON.parse(second.stdout).error.code]).toEqual([4, 'DAEMON_RUNNING']);
  });
});
