import { join } from 'node:path';
import type { Command } from 'commander';
import type { OpOptions, Worker } from '../guest-ops/guest-ops.js';
import type { QemuDriver } from '../guest-ops/qemu/driver.js';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import { printJson, printLine, writeGuestOutput, type CliIo } from './output.js';
import {
  defaultImageDir,
  defaultVmDir,
  examples,
  integerOption,
  isUtf8,
  modeOption,
  ownerOption,
  readStdin,
  unwrap,
} from './vm-support.js';

/** `psm vm ...`: worker VMs by hand, through the QEMU driver (docs/guest-ops.md). */

interface Common {
  vmDir: string;
  json: boolean;
  timeout?: string;
}

export function register(program: Command, io: CliIo): void {
  const vm = program
    .command('vm')
    .description('Clone, start, inspect, drive, revert and destroy worker VMs (QEMU)');

  common(
    vm.command('clone'),
    'Make a linked clone of the worker image (a qcow2 overlay; the image is never written)',
  )
    .argument('<name>', 'worker name ([A-Za-z0-9_-], at most 63)')
    .option('--image <dir>', 'worker image directory (psm image build)', defaultImageDir())
    .option('--memory <mib>', 'guest memory in MiB', '256')
    .addHelpText(
      'after',
      examples([
        'psm vm clone w1',
        'psm vm clone w2 --image /var/lib/psm/worker-image --vm-dir /var/lib/psm/vms',
      ]),
    )
    .action(async (name: string, opts: Common & { image: string; memory: string }) => {
      const memoryMiB = integerOption(opts.memory, '--memory', 64, 65536);
      const { templateFromImage } = await import('../guest-ops/qemu/template.js');
      const template = unwrap(await templateFromImage(opts.image));
      const driver = await makeDriver(opts, { memoryMiB });
      const worker = unwrap(await driver.cloneWorker(name, template, ops(opts)));
      await worker.close();
      report(
        io,
        opts,
        { name, cloned: true, directory: join(driver.settings.vmRoot, name) },
        `cloned ${name} from ${opts.image}`,
      );
    });

  common(vm.command('start'), 'Power a worker on and wait until its guest agent answers')
    .argument('<name>')
    .option('--no-wait', 'return as soon as QEMU runs, without waiting for the agent')
    .addHelpText('after', examples(['psm vm start w1', 'psm vm start w1 --no-wait --json']))
    .action(async (name: string, opts: Common & { wait: boolean }) =>
      withWorker(opts, name, async (worker) => {
        unwrap(await worker.powerOn(ops(opts)));
        if (opts.wait) unwrap(await worker.waitForAgent(ops(opts)));
        const status = unwrap(await worker.status());
        const address = opts.wait ? await worker.readAddress() : undefined;
        const ip = address?.ok === true ? address.value.address : null;
        const ssh = status.ssh ? `${status.ssh.host}:${status.ssh.port}` : 'none';
        report(
          io,
          opts,
          {
            name,
            power: status.power,
            agent: opts.wait ? 'ready' : 'not-waited',
            address: ip,
            ssh: status.ssh ?? null,
            ...status.details,
          },
          `started ${name} (${status.details.accelerator ?? 'qemu'})${opts.wait ? `, agent ready, address ${ip ?? 'none'}` : ''}, ssh on ${ssh}`,
        );
      }),
    );

  for (const [verb, detailed] of [
    ['status', false],
    ['inspect', true],
  ] as const) {
    common(
      vm.command(verb),
      detailed ? 'Everything psm knows about a worker' : 'Power state, agent and address of a worker',
    )
      .argument('<name>')
      .addHelpText('after', examples([`psm vm ${verb} w1`, `psm vm ${verb} w1 --json`]))
      .action(async (name: string, opts: Common) =>
        withWorker(opts, name, async (worker) => {
          const status = unwrap(await worker.status({ ...ops(opts), probeAgent: true }));
          const address = status.agent === 'ready' ? await worker.readAddress(ops(opts)) : undefined;
          const ip = address?.ok === true ? address.value : null;
          const value = {
            name,
            power: status.power,
            agent: status.agent,
            address: ip,
            ssh: status.ssh ?? null,
            ...(detailed ? { details: status.details } : {}),
          };
          if (opts.json) return printJson(io, value);
          printLine(
            io,
            `${name}: ${status.power}, agent ${status.agent ?? 'unknown (in use by another process)'}, address ${ip?.address ?? 'none'}${status.ssh ? `, ssh ${status.ssh.host}:${status.ssh.port}` : ''}`,
          );
          if (detailed)
            for (const [key, v] of Object.entries(status.details)) printLine(io, `  ${key}: ${String(v)}`);
        }),
      );
  }

  common(vm.command('exec'), 'Run a program in the guest (path + argv through the agent; no shell)')
    .argument('<name>')
    .argument('<path>', 'absolute path of the program in the guest')
    .argument('[args...]', 'its arguments, passed verbatim')
    .option('--stdin', "send psm's stdin to the program", false)
    .option('--env <entry...>', 'NAME=value environment entries')
    .addHelpText(
      'after',
      `
Put -- before the program so its options are not read as psm's. psm exits 0 when the program
exits 0, and 1 (with the code on stderr or in --json) when it exits non-zero or dies of a signal.${examples([
        'psm vm exec w1 -- /bin/ls -la /persist',
        "psm vm exec w1 --timeout 10 --json -- /bin/busybox printf '%s\\n' 'a b' '$(not expanded)'",
        'echo hello | psm vm exec w1 --stdin -- /bin/cat',
      ])}`,
    )
    .action(
      async (
        name: string,
        path: string,
        args: string[],
        opts: Common & { stdin: boolean; env?: string[] },
      ) => {
        const stdin = opts.stdin ? await readStdin(io) : undefined;
        await withWorker(opts, name, async (worker) => {
          const ran = unwrap(
            await worker.runProgram(path, args, {
              ...ops(opts),
              ...(stdin ? { stdin } : {}),
              ...(opts.env ? { env: opts.env } : {}),
            }),
          );
          if (opts.json) {
            const text = isUtf8(ran.stdout) && isUtf8(ran.stderr);
            const enc = (b: Uint8Array): string => Buffer.from(b).toString(text ? 'utf8' : 'base64');
            printJson(io, {
              exitCode: ran.exitCode,
              signal: ran.signal,
              truncated: ran.truncated,
              encoding: text ? 'utf8' : 'base64',
              stdout: enc(ran.stdout),
              stderr: enc(ran.stderr),
            });
          } else {
            writeGuestOutput(io.stdout, ran.stdout);
            writeGuestOutput(io.stderr, ran.stderr);
            if (ran.exitCode !== 0)
              io.stderr.write(
                `psm: the program ${ran.exitCode === null ? `died of signal ${ran.signal}` : `exited with ${ran.exitCode}`}\n`,
              );
          }
          if (ran.exitCode !== 0) process.exitCode = EXIT.FINDINGS;
        });
      },
    );

  common(vm.command('copy-in'), 'Copy a host file into the guest (atomically, with mode and owner)')
    .argument('<name>')
    .argument('<host-file>')
    .argument('<guest-path>', 'absolute path in the guest')
    .option('--mode <octal>', 'permission bits in the guest', '0600')
    .option('--owner <uid:gid>', 'numeric owner in the guest')
    .addHelpText(
      'after',
      examples([
        'psm vm copy-in w1 ./id_ed25519.pub /persist/home/popc/.ssh/authorized_keys --mode 0600 --owner 1000:1000',
      ]),
    )
    .action(
      async (
        name: string,
        hostFile: string,
        guestPath: string,
        opts: Common & { mode: string; owner?: string },
      ) => {
        const mode = modeOption(opts.mode);
        const owner = opts.owner === undefined ? undefined : ownerOption(opts.owner);
        const { readFile } = await import('node:fs/promises');
        const data = await readFile(hostFile).catch((e: NodeJS.ErrnoException) => {
          throw new CliFailure('HOST_IO', `cannot read ${hostFile} (${e.code ?? 'error'})`, EXIT.INPUT);
        });
        await withWorker(opts, name, async (worker) => {
          try {
            unwrap(
              await worker.copyToGuest(data, guestPath, { ...ops(opts), mode, ...(owner ? { owner } : {}) }),
            );
          } finally {
            data.fill(0);
          }
          report(
            io,
            opts,
            { name, guestPath, bytes: data.length, mode: mode.toString(8).padStart(4, '0') },
            `copied ${data.length} bytes to ${name}:${guestPath}`,
          );
        });
      },
    );

  common(vm.command('copy-out'), 'Copy a guest file to the host (written atomically, mode 0600)')
    .argument('<name>')
    .argument('<guest-path>')
    .argument('<host-file>')
    .option('--force', 'replace an existing host file', false)
    .addHelpText(
      'after',
      examples(['psm vm copy-out w1 /persist/etc/ssh/ssh_host_ed25519_key.pub ./w1-host-key.pub']),
    )
    .action(async (name: string, guestPath: string, hostFile: string, opts: Common & { force: boolean }) => {
      const { access } = await import('node:fs/promises');
      if (
        !opts.force &&
        (await access(hostFile).then(
          () => true,
          () => false,
        ))
      )
        throw new CliFailure(
          'WOULD_OVERWRITE',
          `${hostFile} exists (use --force to replace it)`,
          EXIT.REFUSED,
        );
      await withWorker(opts, name, async (worker) => {
        const file = unwrap(await worker.copyFromGuest(guestPath, ops(opts)));
        const { writeFileAtomic } = await import('../common/atomic-write.js');
        try {
          await writeFileAtomic(hostFile, file.data, { mode: 0o600 });
        } catch (e) {
          throw new CliFailure(
            'HOST_IO',
            `cannot write ${hostFile} (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
            EXIT.INPUT,
          );
        } finally {
          file.data.fill(0);
        }
        const mode = file.mode.toString(8).padStart(4, '0');
        report(
          io,
          opts,
          { name, guestPath, hostFile, bytes: file.data.length, guestMode: mode, guestOwner: file.owner },
          `copied ${name}:${guestPath} (mode ${mode}, owner ${file.owner.uid}:${file.owner.gid}) to ${hostFile}`,
        );
      });
    });

  for (const [verb, what] of [
    ['snapshot', 'Save the worker (disk, memory, devices) as a named snapshot'],
    ['revert', 'Restore a snapshot, resynchronise the agent and renew the DHCP lease'],
  ] as const) {
    common(vm.command(verb), what)
      .argument('<name>')
      .option('--snapshot <name>', 'snapshot name ([A-Za-z0-9_-])', 'clean')
      .addHelpText('after', examples([`psm vm ${verb} w1`, `psm vm ${verb} w1 --snapshot before-job --json`]))
      .action(async (name: string, opts: Common & { snapshot: string }) =>
        withWorker(opts, name, async (worker) => {
          const done =
            verb === 'snapshot'
              ? await worker.takeSnapshot(opts.snapshot, ops(opts))
              : await worker.revertToSnapshot(opts.snapshot, ops(opts));
          unwrap(done);
          report(
            io,
            opts,
            { name, snapshot: opts.snapshot, action: verb },
            `${verb === 'snapshot' ? 'saved' : 'reverted to'} snapshot ${opts.snapshot} of ${name}`,
          );
        }),
      );
  }

  common(vm.command('stop'), 'Power off: ACPI shutdown, then QEMU quit after the grace period')
    .argument('<name>')
    .option('--grace <seconds>', 'how long the guest may take to shut down cleanly', '30')
    .addHelpText(
      'after',
      examples(['psm vm stop w1', 'psm vm stop w1 --grace 0   # no ACPI shutdown: quit at once']),
    )
    .action(async (name: string, opts: Common & { grace: string }) => {
      const graceMs = integerOption(opts.grace, '--grace', 0, 3600) * 1000;
      await withWorker(opts, name, async (worker) => {
        unwrap(await worker.powerOff({ ...ops(opts, graceMs + 30_000), graceMs }));
        report(io, opts, { name, power: 'stopped' }, `stopped ${name}`);
      });
    });

  common(vm.command('destroy'), 'Stop a worker if it runs and delete everything its clone created')
    .argument('<name>')
    .addHelpText('after', examples(['psm vm destroy w1']))
    .action(async (name: string, opts: Common) => {
      const driver = await makeDriver(opts);
      unwrap(await driver.destroyWorker(name, ops(opts)));
      report(io, opts, { name, destroyed: true }, `destroyed ${name}`);
    });

  common(vm.command('list'), 'List the workers in the VM directory')
    .addHelpText('after', examples(['psm vm list', 'psm vm list --vm-dir /var/lib/psm/vms --json']))
    .action(async (opts: Common) => {
      const driver = await makeDriver(opts);
      const workers = unwrap(await driver.listWorkers());
      if (opts.json) return printJson(io, { vmDir: driver.settings.vmRoot, workers });
      if (workers.length === 0) printLine(io, `no workers in ${driver.settings.vmRoot}`);
      for (const w of workers) printLine(io, `${w.name}\t${w.power}`);
    });
}

function common(command: Command, description: string): Command {
  return command
    .description(description)
    .option('--vm-dir <dir>', 'directory holding one sub-directory per VM', defaultVmDir())
    .option('--timeout <seconds>', 'give up after this long')
    .option('--json', 'print the result as JSON', false);
}

async function makeDriver(opts: Common, extra: { memoryMiB?: number } = {}): Promise<QemuDriver> {
  const { QemuDriver } = await import('../guest-ops/qemu/driver.js');
  return new QemuDriver({ vmRoot: opts.vmDir, ...extra });
}

async function withWorker(
  opts: Common,
  name: string,
  work: (worker: Worker) => Promise<void>,
): Promise<void> {
  const driver = await makeDriver(opts);
  const worker = unwrap(await driver.openWorker(name));
  try {
    await work(worker);
  } finally {
    await worker.close();
  }
}

let sigint: AbortController | undefined;

/** Timeout from --timeout, and Ctrl-C aborts the operation (ABORTED) instead of killing psm mid-write. */
function ops(opts: Common, fallbackMs?: number): OpOptions {
  if (sigint === undefined) {
    const controller = new AbortController();
    sigint = controller;
    process.once('SIGINT', () => controller.abort());
  }
  const timeoutMs =
    opts.timeout === undefined ? fallbackMs : integerOption(opts.timeout, '--timeout', 1, 86_400) * 1000;
  return { signal: sigint.signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

function report(io: CliIo, opts: Common, value: Record<string, unknown>, text: string): void {
  if (opts.json) printJson(io, value);
  else printLine(io, text);
}
