import { afterEach, describe, expect, it } from 'vitest';
import { QmpClient } from '../../src/guest-ops/qmp/client.js';
import { decodeQueryStatus } from '../../src/guest-ops/qmp/messages.js';
import { loadSnapshot, saveSnapshot } from '../../src/guest-ops/qmp/snapshots.js';
import { startBareQemu, type BareQemu } from '../helpers/qmp-bare-qemu.js';

// The QMP client against a real qemu-system-x86_64 that never starts its vCPUs (-S).
describe('QMP client against a real QEMU', () => {
  let qemu: BareQemu | undefined;
  let qmp: QmpClient | undefined;

  afterEach(async () => {
    qmp?.close();
    await qemu?.stop();
    qemu = undefined;
    qmp = undefined;
  });

  async function connect(): Promise<QmpClient> {
    qemu = await startBareQemu();
    const opened = await QmpClient.open(qemu.socketPath);
    if (!opened.ok) throw new Error(opened.error.message);
    qmp = opened.value;
    return qmp;
  }

  it('greets, negotiates capabilities and answers query-status', async () => {
    const client = await connect();
    expect(client.version).toMatch(/^\d+\.\d+\.\d+$/);
    const status = await client.execute('query-status', undefined);
    expect(status.ok).toBe(true);
    if (!status.ok) return;
    expect(decodeQueryStatus(status.value)).toEqual({
      ok: true,
      value: { running: false, status: 'prelaunch' },
    });
  }, 30_000);

  it('reports an unknown command as a coded error and keeps working', async () => {
    const client = await connect();
    const bad = await client.execute('no-such-command', undefined);
    expect(!bad.ok && bad.error.code).toBe('HYPERVISOR_FAILED');
    expect((await client.execute('query-status', undefined)).ok).toBe(true);
  }, 30_000);

  it('delivers events: cont then stop gives RESUME and STOP', async () => {
    const client = await connect();
    expect((await client.execute('cont', undefined)).ok).toBe(true);
    expect((await client.waitForEvent('RESUME', { timeoutMs: 5_000 })).ok).toBe(true);
    expect((await client.execute('stop', undefined)).ok).toBe(true);
    const stop = await client.waitForEvent('STOP', { timeoutMs: 5_000 });
    expect(stop.ok && stop.value.event).toBe('STOP');
    const never = await client.waitForEvent('SHUTDOWN', { timeoutMs: 200 });
    expect(!never.ok && never.error.code).toBe('TIMEOUT');
  }, 30_000);

  it('refuses snapshot names HMP would parse, and reports savevm failures as SNAPSHOT_FAILED', async () => {
    const client = await connect();
    for (const name of ['a b', 'x;quit', '', 'a'.repeat(65), 'ü', 'a\nquit']) {
      const refused = await saveSnapshot(client, name);
      expect(!refused.ok && refused.error.code).toBe('INVALID_ARGUMENT');
    }
    // No writable disk that supports snapshots: QEMU refuses, and psm says so with a code.
    const saved = await saveSnapshot(client, 'clean');
    expect(!saved.ok && saved.error.code).toBe('SNAPSHOT_FAILED');
    const loaded = await loadSnapshot(client, 'clean');
    expect(!loaded.ok && loaded.error.code).toBe('SNAPSHOT_FAILED');
    // Still alive: the refused names never reached HMP.
    expect((await client.execute('query-status', undefined)).ok).toBe(true);
  }, 30_000);

  it('quit gives SHUTDOWN, the process exits and the client notices the close', async () => {
    const client = await connect();
    expect(await client.quit()).toEqual({ ok: true, value: undefined });
    const shutdown = await client.waitForEvent('SHUTDOWN', { timeoutMs: 5_000 });
    expect(shutdown.ok).toBe(true);
    await qemu?.exited;
    const after = await client.execute('query-status', undefined, { timeoutMs: 2_000 });
    expect(!after.ok && after.error.code).toBe('HYPERVISOR_FAILED');
  }, 30_000);

  it('a second client of the one-client QMP socket times out instead of hanging', async () => {
    const client = await connect();
    const second = await QmpClient.open(qemu?.socketPath ?? '', { timeoutMs: 700 });
    expect(!second.ok && second.error.code).toBe('TIMEOUT');
    expect(!second.ok && second.error.message).toMatch(/another client/);
    expect((await client.execute('query-status', undefined)).ok).toBe(true);
  }, 30_000);

  it('fails to connect to a missing socket with a coded error', async () => {
    const missing = await QmpClient.open('/nonexistent/psm/qmp.sock', { timeoutMs: 1_000 });
    expect(!missing.ok && missing.error.code).toBe('HYPERVISOR_FAILED');
  });
});
