import type { Command } from 'commander';
import type { Interrupt } from './interrupt.js';
import { EXIT } from './exit-codes.js';
import { printError, printJson, printLine, type CliIo } from './output.js';
import { addKeyOptions, addLocationOption } from './vault-options.js';
import { examples } from './vm-support.js';
import {
  keyTypesOf,
  locationOf,
  policiesOf,
  prepareFailure,
  timeoutOf,
  unwrapHostKeys,
  withWorker,
  type WorkerFlags,
} from './worker-support.js';

/**
 * `psm worker prepare|verify|forget`: a worker's identity (docs/worker-identity.md). Thin: the
 * work is src/psm/worker-prepare and src/psm/host-keys.
 */
export function register(program: Command, io: CliIo, interrupt: Interrupt): void {
  const worker = program
    .command('worker')
    .description("Give a worker VM psm's host keys and sshd config, pin them, verify, forget");
  const common = (command: Command): Command =>
    addLocationOption(command)
      .option('--vm-dir <dir>', 'directory holding one sub-directory per VM (default LOCATION/var/psm/vms)')
      .option('--timeout <seconds>', 'give up on a guest operation after this long')
      .option('--json', 'print the result as JSON', false);

  addKeyOptions(common(worker.command('prepare')))
    .description(
      "Make, install and pin fresh host keys, switch sshd to psm's config, take the clean snapshot",
    )
    .argument('<name>', 'the worker (a clone made by psm vm clone; started if it is off)')
    .option(
      '--policies <path>',
      'policy directory or file whose gates to install (default LOCATION/etc/psm-policies, else the shipped policies)',
    )
    .option('--key-type <types>', 'host key types, comma-separated: ed25519, ecdsa, rsa', 'ed25519')
    .option('--hash-known-hosts', "write the worker's names hashed in psm's known_hosts", false)
    .option('--no-admin-key', "do not write psm's admin key (key exchange) onto the worker")
    .addHelpText(
      'after',
      `\nEach step is printed on stderr as it starts ("psm: prepare w1: step 3/15 survey"). The
worker counts as prepared only once the whole run has finished (its record is written last);
an interrupted prepare is completed by running it again.${examples([
        'psm worker prepare w1',
        'psm worker prepare w1 --key-type ed25519,ecdsa --json',
        'ssh -o HostKeyAlias=w1 -o UserKnownHostsFile=$POPC_LOCATION/var/psm/known_hosts -o StrictHostKeyChecking=yes -p PORT popc@127.0.0.1',
      ])}`,
    )
    .action(
      async (
        name: string,
        flags: WorkerFlags & {
          policies?: string;
          keyType: string;
          hashKnownHosts: boolean;
          adminKey: boolean;
        },
      ) => {
        const location = locationOf(flags);
        const keyAlgorithms = keyTypesOf(flags.keyType);
        const policies = await policiesOf(flags.policies, location);
        const { prepareWorker } = await import('../psm/worker-prepare/index.js');
        const { finishPrepare } = await import('./worker-admin-key.js');
        const outcome = await withWorker(flags, location, name, async (w) => {
          const prepared = await prepareWorker(
            w,
            { location, policies, keyAlgorithms, hashKnownHosts: flags.hashKnownHosts },
            {
              signal: interrupt.signal,
              ...timeoutOf(flags),
              onStep: (e) => printError(io, `psm: prepare ${e.worker}: step ${e.index}/${e.total} ${e.step}`),
            },
          );
          if (!prepared.ok) throw prepareFailure(prepared.error);
          // Recorded, the admin key written (key exchange) and the clean snapshot taken again with it.
          const admin = await finishPrepare(io, flags, location, w, policies, prepared.value, flags.adminKey);
          return { ...prepared.value, ...admin };
        });
        const done = outcome;
        const hostKeys = done.hostKeys.map(({ type, fingerprint }) => ({ type, fingerprint }));
        if (flags.json)
          return printJson(io, {
            worker: done.worker,
            ssh: done.ssh,
            hostKeys,
            adminKey: done.adminFingerprint ?? null,
            knownHosts: done.knownHosts,
            record: done.record,
            gates: done.gates,
            removedFiles: done.removedFiles,
            steps: done.steps,
            guestOperations: done.guestOperations,
          });
        printLine(
          io,
          `prepared ${done.worker}: ssh ${done.ssh.host}:${done.ssh.port}, pinned in ${done.knownHosts}`,
        );
        for (const key of hostKeys) printLine(io, `  ${key.type} ${key.fingerprint}`);
        if (done.adminFingerprint !== null)
          printLine(io, `  admin key ${done.adminFingerprint} written under the admin policy`);
      },
    );

  common(worker.command('verify'))
    .description('Check by a real SSH handshake that the worker presents exactly its pinned host keys')
    .argument('<name>')
    .option('--ssh-host <host>', "check this address instead of the worker's own")
    .option('--ssh-port <port>', "check this port instead of the worker's own")
    .addHelpText(
      'after',
      `\nExit 0: the worker presents its pinned keys; 1: it presents another key.${examples([
        'psm worker verify w1',
        'psm worker verify w1 --json',
      ])}`,
    )
    .action(async (name: string, flags: WorkerFlags & { sshHost?: string; sshPort?: string }) => {
      const location = locationOf(flags);
      const { pinnedKeys, verifyPresentedKeys } = await import('../psm/host-keys/index.js');
      const { integerOption } = await import('./vm-support.js');
      const pins = unwrapHostKeys(await pinnedKeys(location, name));
      const ssh = await withWorker(flags, location, name, async (w) => {
        const status = await w.status(timeoutOf(flags));
        return status.ok ? status.value.ssh : undefined;
      });
      const host = flags.sshHost ?? ssh?.host;
      const port =
        flags.sshPort === undefined ? ssh?.port : integerOption(flags.sshPort, '--ssh-port', 1, 65535);
      if (host === undefined || port === undefined)
        unwrapHostKeys({
          ok: false,
          error: { code: 'SSH_UNREACHABLE', message: `${name} is not running (no ssh address)` },
        });
      const verified = await verifyPresentedKeys(host ?? '', port ?? 0, pins, interrupt.signal);
      const hostKeys = pins.map((key) => ({ type: key.type, fingerprint: key.fingerprint }));
      if (!verified.ok && verified.error.code === 'HOST_KEY_MISMATCH') {
        // A finding, not a failure to check: exit 1, with the code.
        if (flags.json)
          printJson(io, {
            worker: name,
            verified: false,
            ssh: { host, port },
            hostKeys,
            error: verified.error,
          });
        printError(io, `psm: ${verified.error.code}: ${verified.error.message}`);
        process.exitCode = EXIT.FINDINGS;
        return;
      }
      unwrapHostKeys(verified);
      if (flags.json) return printJson(io, { worker: name, verified: true, ssh: { host, port }, hostKeys });
      printLine(io, `${name} at ${host}:${port} presents its pinned keys`);
    });

  common(worker.command('forget'))
    .description("Remove the worker's pins from psm's known_hosts and its prepared record")
    .argument('<name>')
    .addHelpText('after', examples(['psm worker forget w1', 'psm worker forget w1 --json']))
    .action(async (name: string, flags: WorkerFlags) => {
      const location = locationOf(flags);
      const { unpinWorker } = await import('../psm/host-keys/index.js');
      const { readWorkerRecord, removeWorkerRecord, WORKER_NAME_PATTERN } =
        await import('../psm/worker-prepare/index.js');
      if (!WORKER_NAME_PATTERN.test(name))
        unwrapHostKeys({
          ok: false,
          error: { code: 'BAD_WORKER_NAME', message: `"${name.slice(0, 64)}" is not a worker name` },
        });
      const record = await readWorkerRecord(location, name);
      const address = record.ok ? record.value.identity.ssh : {};
      const unpinned = await unpinWorker(location, { worker: name, ...address });
      if (!unpinned.ok && unpinned.error.code !== 'NOT_PINNED') unwrapHostKeys(unpinned);
      const removed = await removeWorkerRecord(location, name);
      if (!removed.ok) throw prepareFailure(removed.error);
      const pins = unpinned.ok ? unpinned.value : 0;
      if (pins === 0 && !removed.value) unwrapHostKeys(unpinned);
      if (flags.json) return printJson(io, { worker: name, removedPins: pins, removedRecord: removed.value });
      printLine(
        io,
        `forgot ${name}: ${pins} pin line(s)${removed.value ? ' and its prepared record' : ''} removed`,
      );
    });
}
