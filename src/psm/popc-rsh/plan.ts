import { ok, type Result } from '../../common/result.js';
import type { TunnelMap, TunnelWorker } from './config.js';
import { popcRshError, type PopcRshError } from './errors.js';

/** At most this many words after HOST (POP-C++'s client sends about ten). */
export const MAX_WORDS = 32;
/** Seconds between ssh keep-alives; three missed ones end the tunnels of a worker that is gone. */
export const SERVER_ALIVE_SECONDS = 15;

const LOCAL = new Set(['127.0.0.1', 'localhost']);
const SOCKET_URL = /^socket:\/\/([A-Za-z0-9.-]{1,253}):(\d{1,5})$/;

export interface LaunchPlan {
  readonly worker: TunnelWorker;
  /** ssh's argv (without "ssh"): the tunnels, the pinned host key, and the remote command. */
  readonly sshArgs: readonly string[];
}

function clientPort(word: string, option: string): Result<number, PopcRshError> {
  const m = SOCKET_URL.exec(word.slice(option.length));
  const port = m ? Number(m[2]) : 0;
  if (!m || !LOCAL.has(m[1] ?? '') || port < 1 || port > 65535)
    return popcRshError(
      'POPC_RSH_BAD_ARGUMENT',
      `${option.slice(0, -1)} must be socket://127.0.0.1:PORT (run the client with POPC_HOST=127.0.0.1)`,
    );
  return ok(port);
}

/**
 * How to start one object: POP-C++'s client runs `$POPC_RSH HOST POPCOBJRUN CODEFILE OPTIONS...`.
 * The object's own port (-socket_port, from od.url("HOST:PORT")) must be one of the worker's
 * object ports and is forwarded from the same port on the admin's loopback (ssh -L); the callback
 * and the AppCoreService the client listens on are carried back by ssh -R from the worker's
 * fixed callback / appservice ports, and the options are rewritten to name those. The remote
 * command starts with the bare word popcobjrun: the gate maps it to the worker's own path.
 */
export function planLaunch(argv: readonly string[], map: TunnelMap): Result<LaunchPlan, PopcRshError> {
  if (argv.length < 3 || argv.length > MAX_WORDS)
    return popcRshError('POPC_RSH_USAGE', 'usage: psm-popc-rsh HOST POPCOBJRUN CODEFILE OPTIONS...');
  const [host = '', popcobjrun = '', codeFile = '', ...options] = argv;
  const worker = map.workers.find((w) => w.name === host);
  if (worker === undefined)
    return popcRshError(
      'POPC_RSH_UNKNOWN_WORKER',
      `${JSON.stringify(host.slice(0, 64))} is not a worker in the tunnel map`,
    );
  if (popcobjrun !== 'popcobjrun' && !popcobjrun.endsWith('/services/popcobjrun'))
    return popcRshError('POPC_RSH_USAGE', "the second word must be POP-C++'s popcobjrun");
  const remote: string[] = ['popcobjrun', codeFile];
  const tunnels: string[] = [];
  let objectPort: number | undefined;
  for (const word of options) {
    if (word.startsWith('-callback=') || word.startsWith('-appservice=')) {
      const option = word.startsWith('-callback=') ? '-callback=' : '-appservice=';
      const port = clientPort(word, option);
      if (!port.ok) return port;
      if (tunnels.some((t) => t.startsWith(option)))
        return popcRshError('POPC_RSH_BAD_ARGUMENT', `${option.slice(0, -1)} given twice`);
      const inWorker = option === '-callback=' ? worker.callbackPort : worker.appservicePort;
      tunnels.push(`${option}-R`, `127.0.0.1:${inWorker}:127.0.0.1:${port.value}`);
      remote.push(`${option}socket://127.0.0.1:${inWorker}`);
    } else if (word.startsWith('-socket_port=')) {
      const port = Number(word.slice('-socket_port='.length));
      if (objectPort !== undefined || !worker.objectPorts.includes(port))
        return popcRshError(
          'POPC_RSH_BAD_ARGUMENT',
          `-socket_port must be one of worker ${worker.name}'s object ports (${worker.objectPorts.join(', ')})`,
        );
      objectPort = port;
      remote.push(word);
    } else remote.push(word);
  }
  if (objectPort === undefined)
    return popcRshError(
      'POPC_RSH_BAD_ARGUMENT',
      `no -socket_port: give the object's URL as "${worker.name}:PORT" with one of ${worker.objectPorts.join(', ')}`,
    );
  const forwards = tunnels.filter((t, i) => i % 2 === 1);
  const sshArgs = [
    '-T',
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${worker.knownHostsFile}`,
    '-o',
    `HostKeyAlias=${worker.hostKeyAlias}`,
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    `ServerAliveInterval=${SERVER_ALIVE_SECONDS}`,
    '-o',
    'ServerAliveCountMax=3',
    '-i',
    worker.identityFile,
    '-p',
    String(worker.sshPort),
    '-L',
    `127.0.0.1:${objectPort}:127.0.0.1:${objectPort}`,
    ...forwards.flatMap((f) => ['-R', f]),
    `${worker.user}@${worker.sshHost}`,
    ...remote,
  ];
  return ok({ worker, sshArgs });
}
