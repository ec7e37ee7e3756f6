import { access, readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { writeFileAtomic } from '../common/atomic-write.js';
import { formatFileMode, parseFileMode, parseFileOwner } from '../guest-ops/file-attributes.js';
import { CliFailure } from './failure.js';
import { examples, unwrap, type VmFlags, type VmVerbs } from './vm-support.js';

/** `psm vm copy-in|copy-out`: files between the host and a guest, written atomically on both sides. */
export function registerCopy(vm: Command, verbs: VmVerbs): void {
  verbs
    .command(vm.command('copy-in'), 'Copy a host file into the guest (atomically, with mode and owner)')
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
        flags: VmFlags & { mode: string; owner?: string },
      ) => {
        const mode = parseFileMode(flags.mode);
        if (mode === undefined)
          throw new CliFailure('USAGE', '--mode must be octal, like 0600 or 0755', 'usage');
        const owner = flags.owner === undefined ? undefined : parseFileOwner(flags.owner);
        if (flags.owner !== undefined && owner === undefined)
          throw new CliFailure('USAGE', '--owner must be numeric UID:GID, like 1000:1000', 'usage');
        const data = await readFile(hostFile).catch((e: NodeJS.ErrnoException) => {
          throw new CliFailure('HOST_IO', `cannot read ${hostFile} (${e.code ?? 'error'})`, 'unreadable');
        });
        await verbs.withWorker(flags, name, async (worker) => {
          try {
            unwrap(
              await worker.copyToGuest(data, guestPath, {
                ...verbs.ops(flags),
                mode,
                ...(owner ? { owner } : {}),
              }),
            );
          } finally {
            data.fill(0);
          }
          verbs.report(
            flags,
            { name, guestPath, bytes: data.length, mode: formatFileMode(mode) },
            `copied ${data.length} bytes to ${name}:${guestPath}`,
          );
        });
      },
    );

  verbs
    .command(vm.command('copy-out'), 'Copy a guest file to the host (written atomically, mode 0600)')
    .argument('<name>')
    .argument('<guest-path>')
    .argument('<host-file>')
    .option('--force', 'replace an existing host file', false)
    .addHelpText(
      'after',
      examples(['psm vm copy-out w1 /persist/etc/ssh/ssh_host_ed25519_key.pub ./w1-host-key.pub']),
    )
    .action(
      async (name: string, guestPath: string, hostFile: string, flags: VmFlags & { force: boolean }) => {
        const exists = await access(hostFile).then(
          () => true,
          () => false,
        );
        if (!flags.force && exists)
          throw new CliFailure(
            'WOULD_OVERWRITE',
            `${hostFile} exists (use --force to replace it)`,
            'refused',
          );
        await verbs.withWorker(flags, name, async (worker) => {
          const file = unwrap(await worker.copyFromGuest(guestPath, verbs.ops(flags)));
          try {
            await writeFileAtomic(hostFile, file.data, { mode: 0o600 });
          } catch (e) {
            throw new CliFailure(
              'HOST_IO',
              `cannot write ${hostFile} (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
              'unreadable',
            );
          } finally {
            file.data.fill(0);
          }
          const mode = formatFileMode(file.mode);
          verbs.report(
            flags,
            { name, guestPath, hostFile, bytes: file.data.length, guestMode: mode, guestOwner: file.owner },
            `copied ${name}:${guestPath} (mode ${mode}, owner ${file.owner.uid}:${file.owner.gid}) to ${hostFile}`,
          );
        });
      },
    );
}
