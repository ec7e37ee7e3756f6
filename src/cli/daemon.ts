import { Option, type Command } from 'commander';
import { defaultVmDirectory, defaultWorkerImageDirectory } from '../guest-ops/driver-factory.js';
import { MAX_MEMORY_MIB, MIN_MEMORY_MIB } from '../guest-ops/limits.js';
import { CliFailure, failureOf } from './failure.js';
import type { Interrupt } from './interrupt.js';
import { printJson, printError, type CliIo } from './output.js';
import { addKeyOptions, addLocationOption, keyOptions, type KeyFlags } from './vault-options.js';
import { examples, integerOption } from './vm-support.js';
import type { VaultError } from '../vault/errors.js';

interface DaemonFlags extends KeyFlags {
  untrustedWorkers: boolean;
  maxVms?: string;
  keepFree?: string;
  cloneAtStart?: string;
  idleTimeout?: string;
  onAppEnd?: 'revert' | 'destroy';
  vmDir?: string;
  image: string;
  memory?: string;
  socketGroup?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  grace: string;
  json?: boolean;
}

/** `psm daemon`: the admin VM's job manager, serving $POPC_LOCATION/var/psm/psm.sock until SIGTERM. */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  const command = program
    .command('daemon')
    .description('Run the worker pool and serve the job manager on LOCATION/var/psm/psm.sock (until SIGTERM)')
    .option('--max-vms <n>', 'most worker VMs at once (default: virtual.conf [pool] max_vms, else 4)')
    .option(
      '--keep-free <n>',
      'prepared workers kept free ahead of demand (default: [pool] keep_free, else 2)',
    )
    .option('--clone-at-start <n>', 'clones made when the daemon starts (default: [pool] clone_at_start)')
    .option(
      '--idle-timeout <seconds>',
      'end an application with no job for this long; 0: never (default 3600)',
    )
    .addOption(
      new Option('--on-app-end <what>', 'what ending an application does to its worker').choices([
        'revert',
        'destroy',
      ]),
    )
    .option('--vm-dir <dir>', 'directory holding one sub-directory per VM (default LOCATION/var/psm/vms)')
    .option(
      '--image <dir>',
      'worker image directory the pool clones (psm image build)',
      defaultWorkerImageDirectory(),
    )
    .option('--memory <mib>', 'guest memory of each worker in MiB')
    .option('--socket-group <group>', "the socket's group (name or gid); its members may use the daemon")
    .addOption(
      new Option('--log-level <level>', 'JSON log level on stderr')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .option(
      '--grace <seconds>',
      'on SIGTERM, how long operations in flight may finish before they are aborted',
      '60',
    )
    .option(
      '--untrusted-workers',
      'without prepareWorker and the key exchange: workers get only a clean snapshot (no pinned host key) and reserves with keys are refused; for tests and demos only',
      false,
    )
    .option('--json', 'print {"socket","pid"} on stdout once the daemon serves', false);
  addKeyOptions(addLocationOption(command))
    .addHelpText(
      'after',
      examples([
        'psm daemon --location /usr/local/popc',
        'psm daemon --max-vms 3 --keep-free 1 --on-app-end revert --socket-group popc',
        'systemctl start psm-daemon    # contrib/psm-daemon.service',
      ]),
    )
    .action((flags: DaemonFlags) => runDaemon(io, interrupt, flags));
}

function optionalInteger(
  text: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  return text === undefined ? undefined : integerOption(text, flag, min, max);
}

async function runDaemon(io: CliIo, interrupt: Interrupt, flags: DaemonFlags): Promise<void> {
  const { locationFrom } = await import('../vault/layout.js');
  const { orFail } = await import('./vault-options.js');
  const { vaultErrorCategory } = await import('../vault/errors.js');
  const { jobMgrErrorCategory, isJobMgrErrorCode } = await import('../jobmgr/errors.js');
  const { daemonErrorCategory, isDaemonErrorCode } = await import('../jobmgr/daemon/errors.js');
  const { guestOpsErrorCategory } = await import('../guest-ops/errors.js');
  const { poolSettingsFor, openQemuLifecycle } = await import('../jobmgr/daemon/configure.js');
  const { startDaemon } = await import('../jobmgr/daemon/run.js');
  const { resolveGroup } = await import('../jobmgr/daemon/socket.js');
  const { createDaemonLogger } = await import('../jobmgr/daemon/log.js');
  const { MAX_POOL_VMS, MAX_IDLE_TIMEOUT_SECONDS } = await import('../jobmgr/limits.js');

  const location = orFail(locationFrom(flags.location));
  const overrides = {
    maxVms: optionalInteger(flags.maxVms, '--max-vms', 1, MAX_POOL_VMS),
    keepFree: optionalInteger(flags.keepFree, '--keep-free', 0, MAX_POOL_VMS),
    cloneAtStart: optionalInteger(flags.cloneAtStart, '--clone-at-start', 0, MAX_POOL_VMS),
    idleTimeoutSeconds: optionalInteger(flags.idleTimeout, '--idle-timeout', 0, MAX_IDLE_TIMEOUT_SECONDS),
    onAppEnd: flags.onAppEnd,
  };
  const graceMs = integerOption(flags.grace, '--grace', 0, 3600) * 1000;
  const memoryMiB = optionalInteger(flags.memory, '--memory', MIN_MEMORY_MIB, MAX_MEMORY_MIB);
  const configured = await poolSettingsFor(location, overrides);
  if (!configured.ok) {
    const e = configured.error;
    throw isJobMgrErrorCode(e.code)
      ? new CliFailure(e.code, e.message, jobMgrErrorCategory(e.code))
      : failureOf(e as VaultError, vaultErrorCategory);
  }
  const gid = flags.socketGroup === undefined ? undefined : await resolveGroup(flags.socketGroup);
  if (gid !== undefined && !gid.ok) throw failureOf(gid.error, daemonErrorCategory);
  const { openTrust } = await import('../jobmgr/daemon/trust.js');
  // Without --untrusted-workers the location must be psm's (psm init): workers are prepared and
  // keys exchanged by psm's own modules, or the daemon does not start.
  const trust = flags.untrustedWorkers ? undefined : await openTrust(location, keyOptions(io, flags));
  if (trust !== undefined && !trust.ok)
    throw new CliFailure(trust.error.code, trust.error.message, trust.error.category);
  const lifecycle = await openQemuLifecycle({
    vmDirectory: flags.vmDir ?? defaultVmDirectory(location),
    imageDirectory: flags.image,
    ...(memoryMiB === undefined ? {} : { memoryMiB }),
    ...(trust === undefined ? {} : { steps: trust.value.steps }),
  });
  if (!lifecycle.ok) throw failureOf(lifecycle.error, guestOpsErrorCategory);
  const log = createDaemonLogger({ level: flags.logLevel });
  if (!configured.value.fromConfig)
    log.warn('no virtual.conf at this location: the pool runs with psm defaults and the flags', { location });
  if (trust === undefined)
    log.warn('--untrusted-workers: no host key is pinned and no application key can be installed', {
      location,
    });
  const signal = interrupt.signal;
  const started = await startDaemon({
    location,
    settings: configured.value.settings,
    lifecycle: lifecycle.value,
    log,
    graceMs,
    ...(gid === undefined ? {} : { socketGid: gid.value }),
    ...(trust === undefined ? {} : { audit: trust.value.audit }),
  });
  if (!started.ok) {
    if (trust?.ok === true) trust.value.close();
    const e = started.error;
    const category = isDaemonErrorCode(e.code)
      ? daemonErrorCategory(e.code)
      : isJobMgrErrorCode(e.code)
        ? jobMgrErrorCategory(e.code)
        : 'bug';
    throw new CliFailure(e.code, e.message, category);
  }
  if (flags.json === true) printJson(io, { socket: started.value.paths.socket, pid: process.pid });
  else printError(io, `psm daemon: serving ${started.value.paths.socket} (pid ${process.pid})`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await started.value.stop();
  if (trust?.ok === true) trust.value.close();
}
