import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readWorkerRecord,
  removeWorkerRecord,
  workerRecordPath,
  workersDirectory,
  type WorkerRecord,
} from '../../src/psm/worker-prepare/index.js';
import { writeWorkerRecord } from '../../src/psm/worker-prepare/worker-record.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The record that a worker is prepared: written whole or not at all, read back strictly.
let temp: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  temp = await makeTempDir('worker-record');
});
afterAll(async () => temp?.remove());

const record: WorkerRecord = {
  worker: 'w1',
  identity: {
    ssh: { host: '127.0.0.1', port: 40022 },
    hostKeys: [{ type: 'ssh-ed25519', fingerprint: 'SHA256:abc', publicKey: 'ssh-ed25519 AAAA' }],
    keyGeneration: '0123456789ab',
    sshdConfigSha256: 'f'.repeat(64),
    gates: [{ policy: 'admin', path: '/usr/local/libexec/psm/gate-admin', sha256: 'e'.repeat(64) }],
    snapshot: 'clean',
    preparedAt: '2026-12-03T12:00:00.000Z',
  },
};

describe('the worker record', () => {
  it('round-trips, and is gone after remove (which says whether there was one)', async () => {
    expect(await writeWorkerRecord(temp.path, record)).toEqual({ ok: true, value: undefined });
    expect(await readWorkerRecord(temp.path, 'w1')).toEqual({ ok: true, value: record });
    expect(await removeWorkerRecord(temp.path, 'w1')).toEqual({ ok: true, value: true });
    expect(await removeWorkerRecord(temp.path, 'w1')).toEqual({ ok: true, value: false });
    expect(await readWorkerRecord(temp.path, 'w1')).toMatchObject({
      ok: false,
      error: { code: 'NOT_PREPARED' },
    });
  });

  it.each([
    ['not JSON', '{'],
    ['another format', JSON.stringify({ format: 'psm-worker/v0', worker: 'w2', identity: record.identity })],
    ['another worker', JSON.stringify({ format: 'psm-worker/v1', worker: 'w1', identity: record.identity })],
    [
      'an unknown key',
      JSON.stringify({ format: 'psm-worker/v1', worker: 'w2', identity: record.identity, x: 1 }),
    ],
    [
      'a port that is not a number',
      JSON.stringify({
        format: 'psm-worker/v1',
        worker: 'w2',
        identity: { ...record.identity, ssh: { host: '127.0.0.1', port: '22' } },
      }),
    ],
  ])('refuses a record with %s', async (_what, text) => {
    await mkdir(workersDirectory(temp.path), { recursive: true });
    await writeFile(workerRecordPath(temp.path, 'w2'), text);
    expect(await readWorkerRecord(temp.path, 'w2')).toMatchObject({
      ok: false,
      error: { code: 'WORKER_RECORD_INVALID' },
    });
  });

  it('never makes a path from a name that is not a worker name', async () => {
    expect(() => workerRecordPath(temp.path, '../x')).toThrow();
    expect(await readWorkerRecord(temp.path, '../x')).toMatchObject({
      ok: false,
      error: { code: 'PREPARE_BAD_INPUT' },
    });
    expect(await removeWorkerRecord(temp.path, 'a/b')).toMatchObject({
      ok: false,
      error: { code: 'PREPARE_BAD_INPUT' },
    });
  });
});
