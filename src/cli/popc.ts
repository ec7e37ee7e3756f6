import type { Command } from 'commander';
import { askDaemon, clientCommand, type ClientFlags } from './daemon-client.js';
import { CliFailure, failureOf } from './failure.js';
import { printJson, printLine, type CliIo } from './output.js';
import { examples, integerOption } from './vm-support.js';

interface TunnelMapFlags extends ClientFlags {
  map: string;
  name?: string;
  identity: string;
  objectPort: string[];
  callbackPort: string;
  appservicePort: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

// `psm popc tunnel-map APP`: the entry of APP's worker on this node in the tunnel map that psm's
// $POPC_RSH (bin/psm-popc-rsh.js) reads, from the daemon's record and this location's pinned
// known_hosts, checked against the location's main-node policy (docs/popc.md).

export function register(program: Command, io: CliIo): void {
  const popc = program.command('popc').description("POP-C++ clients: what psm's $POPC_RSH reads");
  clientCommand(
    popc
      .command('tunnel-map')
      .description(
        "Add APP's worker on this node to a POP-C++ tunnel map (PSM_POPC_TUNNELS), or replace its entry",
      )
      .argument('<app>', 'the POP-C++ application that reserved a worker here (psm reserve APP)')
      .requiredOption('--map <file>', 'the tunnel map to write (created when missing, mode 0600)')
      .option(
        '--name <name>',
        'the machine name the program gives in od.url("NAME:PORT") (default: the worker)',
      )
      .requiredOption('--identity <file>', "the application's main-node private key file")
      .option('--object-port <port>', 'a port an object listens on in the worker (repeatable)', collect, [])
      .option('--callback-port <port>', "the worker's port for the objects' callback", '2720')
      .option('--appservice-port <port>', "the worker's port for the client's AppCoreService", '2721'),
  )
    .addHelpText(
      'after',
      examples([
        'POPC_LOCATION=/srv/node-1 psm popc tunnel-map psmsum --map tunnels.json --name node-1 \\',
        '    --identity main_ed25519 --object-port 2712',
        'POPC_RSH=bin/psm-popc-rsh.js PSM_POPC_TUNNELS=$PWD/tunnels.json popcrun obj.map psmsum node-1:2712',
      ]),
    )
    .action(async (app: string, flags: TunnelMapFlags) => {
      const { resolve } = await import('node:path');
      const { locationFrom } = await import('../vault/layout.js');
      const { orFail } = await import('./vault-options.js');
      const { policiesOf } = await import('./worker-support.js');
      const { knownHostsPath } = await import('../psm/host-keys/pin-store.js');
      const { checkEntryAgainstPolicy } = await import('../psm/popc-rsh/map-entry.js');
      const { addToTunnelMapFile } = await import('../psm/popc-rsh/map-file.js');
      const { popcRshErrorCategory } = await import('../psm/popc-rsh/errors.js');
      const location = orFail(locationFrom(flags.location));
      const port = (text: string, flag: string) => integerOption(text, flag, 1, 65535);
      if (flags.objectPort.length === 0)
        throw new CliFailure('USAGE', 'give at least one --object-port', 'usage');
      const listed = (await askDaemon(flags, 'GET', '/v1/workers')) as {
        workers: { name: string; app: string | null; ssh: { host: string; port: number } | null }[];
      };
      const worker = listed.workers.find((w) => w.app === app);
      if (worker?.ssh === null || worker?.ssh === undefined)
        throw new CliFailure(
          'POPC_RSH_UNKNOWN_WORKER',
          `${app} holds no worker with an SSH endpoint on this node (psm reserve ${app} first)`,
          popcRshErrorCategory('POPC_RSH_UNKNOWN_WORKER'),
        );
      const policy = (await policiesOf(undefined, location)).find((p) => p.role === 'main-node');
      if (policy === undefined)
        throw new CliFailure('POLICY_UNREADABLE', 'this location has no main-node policy', 'unreadable');
      const entry = {
        name: flags.name ?? worker.name,
        sshHost: worker.ssh.host,
        sshPort: worker.ssh.port,
        user: 'popc',
        identityFile: resolve(flags.identity),
        knownHostsFile: resolve(knownHostsPath(location)),
        hostKeyAlias: worker.name,
        objectPorts: flags.objectPort.map((p) => port(p, '--object-port')),
        callbackPort: port(flags.callbackPort, '--callback-port'),
        appservicePort: port(flags.appservicePort, '--appservice-port'),
      };
      const checked = checkEntryAgainstPolicy(entry, policy);
      if (!checked.ok) throw failureOf(checked.error, popcRshErrorCategory);
      const file = resolve(flags.map);
      const written = await addToTunnelMapFile(file, entry);
      if (!written.ok) throw failureOf(written.error, popcRshErrorCategory);
      if (flags.json === true) return printJson(io, { map: file, entry });
      printLine(
        io,
        `${file}: ${entry.name} -> ${worker.name} (ssh ${entry.sshHost}:${entry.sshPort}), object port(s) ${entry.objectPorts.join(', ')}`,
      );
    });
}
