// The demo's hands: the built psm CLI with the demo's location, the real OpenSSH client with
// psm's known_hosts and strict host key checking, ssh-keygen, and a TCP round trip through a tunnel.
import { createConnection, createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, startChild } from './processes.mjs';

export function toolkit({ root, work, location, vmDir, stop, display, label }) {
  const psmBin = join(root, 'bin', 'psm.js');
  const env = { ...process.env, POPC_LOCATION: location };
  const knownHosts = join(location, 'var', 'psm', 'known_hosts');

  /**
   * `psm ARGS...` as an operator types it (POPC_LOCATION points at the demo's location; shown
   * when the location is not the demo's first one, `label`).
   */
  const psm = (args, { timeoutMs = 600_000, show = true } = {}) => {
    if (show) display.command(`${label ? `POPC_LOCATION=${label} ` : ''}psm ${args.join(' ')}`);
    return run(process.execPath, [psmBin, ...args], { timeoutMs, env, stop });
  };

  /** `psm ... --json`, parsed; the run's exit code beside it. */
  const psmJson = async (args, options) => {
    // --json goes before `--`: after it, everything belongs to the program being run.
    const dashes = args.indexOf('--');
    const withJson =
      dashes < 0 ? [...args, '--json'] : [...args.slice(0, dashes), '--json', ...args.slice(dashes)];
    const ran = await psm(withJson, options);
    let json;
    try {
      json = JSON.parse(ran.stdout);
    } catch {
      json = undefined;
    }
    return { ...ran, json };
  };

  const sshOptions = (key, port, extra = []) => [
    ...['-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'],
    ...['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`],
    ...['-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=30', '-p', String(port)],
    ...extra,
  ];

  /** The real `ssh` to a worker's forwarded port, as the application's main node would run it. */
  const ssh = (key, port, command, { extra = [], show = true, input } = {}) => {
    if (show)
      display.command(
        `ssh -i ${key.replace(`${work}/`, '')} -p ${port} ${extra.join(' ')} popc@127.0.0.1 ${command.join(' ')}`.replace(
          / +/g,
          ' ',
        ),
      );
    return run('ssh', [...sshOptions(key, port, extra), 'popc@127.0.0.1', ...command], {
      timeoutMs: 120_000,
      stop,
      input,
    });
  };

  /**
   * Whether sshd lets the key in: the gate refusing an empty object (126) means logged in;
   * "Permission denied" means refused. sshd restarted by psm a moment ago may drop the first
   * connections, so those are retried.
   */
  const keyAccepted = async (key, port) => {
    for (let attempt = 0; ; attempt += 1) {
      const ran = await ssh(key, port, ['-T', 'popcobjrun'], { show: false });
      if (/Permission denied \(publickey\)/.test(ran.stderr)) return { accepted: false, ...ran };
      if (ran.code === 126) return { accepted: true, ...ran };
      if (attempt >= 30 || !/kex_exchange_identification|Connection (closed|refused|reset)/.test(ran.stderr))
        return { accepted: undefined, ...ran };
      await sleep(1000);
    }
  };

  /** A fresh ed25519 key pair made by ssh-keygen in the demo's directory. */
  const keyPair = async (name) => {
    const file = join(work, 'keys', name);
    const made = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file], { stop });
    if (made.code !== 0) throw new Error(`ssh-keygen: ${made.stderr}`);
    return file;
  };

  /** SHA256 fingerprints of public key lines, by ssh-keygen -l. */
  const fingerprints = async (lines, name) => {
    const file = join(work, `${name}.pub`);
    await writeFile(file, `${lines.join('\n')}\n`);
    const listed = await run('ssh-keygen', ['-l', '-f', file], { stop });
    return listed.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ')[1]);
  };

  /** The fingerprints psm's known_hosts pins for a host (ssh-keygen -l -F HOST -f known_hosts). */
  const pinned = async (host) => {
    display.command(`ssh-keygen -l -F '${host}' -f ${knownHosts.replace(`${work}/`, '')}`);
    const found = await run('ssh-keygen', ['-l', '-F', host, '-f', knownHosts], { stop });
    return found.stdout
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => /(SHA256:\S+)/.exec(l)?.[1])
      .filter((f) => f !== undefined);
  };

  const freePort = () =>
    new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    });

  /** One request/answer through 127.0.0.1:port (retried while the tunnel comes up). */
  const roundTrip = async (port, text) => {
    for (let attempt = 0; attempt < 60; attempt += 1) {
      const answer = await new Promise((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port });
        let got = '';
        socket.on('connect', () => socket.write(text));
        socket.on('data', (chunk) => {
          got += chunk.toString();
          if (got.length >= text.length) {
            socket.destroy();
            resolve(got);
          }
        });
        socket.on('error', () => resolve(undefined));
        socket.on('close', () => resolve(got.length > 0 ? got : undefined));
        socket.setTimeout(10_000, () => socket.destroy());
      });
      if (answer !== undefined) return answer;
      stop.throwIfTripped();
      await sleep(500);
    }
    return undefined;
  };

  /** `ssh -N -L local:127.0.0.1:remote` held open while `use(local)` runs. */
  const withTunnel = async (key, port, remotePort, use) => {
    const local = await freePort();
    const spec = `127.0.0.1:${local}:127.0.0.1:${remotePort}`;
    display.command(`ssh -i ${key.replace(`${work}/`, '')} -p ${port} -N -L ${spec} popc@127.0.0.1`);
    const { handle } = await startChild('ssh', [
      ...sshOptions(key, port, ['-N', '-o', 'ExitOnForwardFailure=yes', '-L', spec]),
      'popc@127.0.0.1',
    ]);
    try {
      return { value: await use(local), stderr: handle.stderr() };
    } finally {
      await handle.stop('SIGTERM', 10_000);
    }
  };

  return {
    psm,
    psmJson,
    ssh,
    keyAccepted,
    keyPair,
    fingerprints,
    pinned,
    roundTrip,
    withTunnel,
    knownHosts,
    vmDir,
  };
}
