import { readFile } from 'node:fs/promises';
import { ok, type Result } from '../../common/result.js';
import { fail, type GuestOpsError } from '../errors.js';
import type { OpOptions } from '../guest-ops.js';
import type { QmpClient } from '../qmp/client.js';
import { printable } from '../qga/replies.js';
import { Deadline } from '../wire/deadline.js';
import { QGA_PORT_NAME, qemuArgs } from './command-line.js';
import { chooseAccelerator, freeLoopbackPort, runHostProgram } from './host.js';
import { killQemu, removeRunFiles, runningPid, waitForExit } from './process.js';
import type { QemuDriverSettings } from './settings.js';
import type { VmLayout } from './vm-layout.js';
import { writeVmRecord, type VmRecord } from './vm-record.js';

/** Starting and stopping a worker's QEMU process. */

export const DEFAULT_START_TIMEOUT_MS = 60_000;
export const DEFAULT_POWEROFF_GRACE_MS = 30_000;
/** After `quit` QEMU exits at once; this is only for a QEMU that is itself stuck. */
const QUIT_WAIT_MS = 10_000;
/** A freshly picked port can be taken before QEMU binds it; try a few. */
const PORT_ATTEMPTS = 3;
const CONSOLE_TAIL_BYTES = 2048;

export async function startQemu(
  layout: VmLayout,
  record: VmRecord,
  settings: QemuDriverSettings,
  options: OpOptions,
): Promise<Result<VmRecord, GuestOpsError>> {
  const deadline = new Deadline(options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS, options.signal);
  if ((await runningPid(layout)) !== undefined)
    return fail('WORKER_RUNNING', `worker ${layout.name} is already running`);
  await removeRunFiles(layout);
  const accel = await chooseAccelerator(settings.accel);
  let last: GuestOpsError | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    const port = await freeLoopbackPort();
    if (!port.ok) return port;
    const next: VmRecord = { ...record, sshPort: port.value };
    const written = await writeVmRecord(layout.record, next);
    if (!written.ok) return written;
    const argv = qemuArgs({
      layout,
      template: record.template,
      accel,
      memoryMiB: record.memoryMiB,
      cpus: record.cpus,
      sshPort: port.value,
      qgaPortName: QGA_PORT_NAME,
    });
    // With -daemonize the command returns once the VM is set up (sockets bound) and running.
    const started = await runHostProgram(settings.qemuBinary, argv, deadline.step(deadline.timeoutMs));
    if (started.ok) {
      if ((await runningPid(layout)) === undefined)
        return fail(
          'HYPERVISOR_FAILED',
          `QEMU exited right after starting ${layout.name}${await consoleTail(layout)}`,
        );
      return ok(next);
    }
    last = started.error;
    await removeRunFiles(layout);
    if (!/host forwarding|hostfwd|Address already in use/i.test(started.error.message)) break;
  }
  return fail(
    last?.code ?? 'HYPERVISOR_FAILED',
    `cannot start ${layout.name}: ${last?.message ?? 'unknown error'}`,
  );
}

/**
 * Power off: ACPI power button (system_powerdown) so the guest shuts down cleanly and /persist is
 * unmounted; after `graceMs` without the process gone, QMP `quit`; a QEMU that still runs is killed.
 */
export async function powerOffQemu(
  layout: VmLayout,
  deadline: Deadline,
  graceMs: number | undefined,
  qmpClient: () => Promise<Result<QmpClient, GuestOpsError>>,
): Promise<Result<void, GuestOpsError>> {
  const pid = await runningPid(layout);
  if (pid === undefined) {
    await removeRunFiles(layout);
    return ok(undefined);
  }
  const qmp = await qmpClient();
  if (qmp.ok && graceMs !== 0) {
    const asked = await qmp.value.execute('system_powerdown', undefined, deadline.step(5_000));
    if (asked.ok && (await waitForExit(layout, pid, deadline.cap(graceMs ?? DEFAULT_POWEROFF_GRACE_MS)))) {
      await removeRunFiles(layout);
      return ok(undefined);
    }
  }
  return stopHard(layout, pid, qmp.ok ? qmp.value : undefined);
}

/** QMP quit, then SIGKILL if needed; used after the grace period and by destroy. */
export async function stopHard(
  layout: VmLayout,
  pid: number,
  qmp: QmpClient | undefined,
): Promise<Result<void, GuestOpsError>> {
  if (qmp !== undefined) await qmp.quit({ timeoutMs: 5_000 });
  const gone = (await waitForExit(layout, pid, QUIT_WAIT_MS)) || (await killQemu(layout, pid));
  await removeRunFiles(layout);
  return gone
    ? ok(undefined)
    : fail('HYPERVISOR_FAILED', `QEMU (pid ${pid}) of ${layout.name} does not exit`);
}

async function consoleTail(layout: VmLayout): Promise<string> {
  try {
    const text = (await readFile(layout.consoleLog)).subarray(-CONSOLE_TAIL_BYTES).toString('utf8');
    return `; console: ${printable(text.trim().split('\n').slice(-3).join(' | '))}`;
  } catch {
    return '';
  }
}
