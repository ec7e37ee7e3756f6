import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { ok, type Result } from '../../common/result.js';
import { popcRshError, type PopcRshError } from './errors.js';

/** The tunnel map is small: refuse anything larger before parsing it. */
export const MAX_TUNNEL_MAP_BYTES = 64 * 1024;
export const MAX_WORKERS = 64;
export const MAX_OBJECT_PORTS = 16;

/**
 * One worker as psm's POPC_RSH reaches it: over SSH with the restricted key and the pinned host
 * key, with the tunnel ports its key's permitopen / permitlisten allow (docs/popc.md).
 */
export interface TunnelWorker {
  /** The name POP-C++ programs give in od.url("NAME:PORT"). */
  readonly name: string;
  readonly sshHost: string;
  readonly sshPort: number;
  readonly user: string;
  readonly identityFile: string;
  /** psm's pinned known_hosts (src/psm/host-keys), with the worker under hostKeyAlias. */
  readonly knownHostsFile: string;
  readonly hostKeyAlias: string;
  /** Ports objects listen on inside the worker: forwarded from the same port on the admin's loopback. */
  readonly objectPorts: readonly number[];
  /** Port inside the worker that carries an object's callback to the client (ssh -R). */
  readonly callbackPort: number;
  /** Port inside the worker that carries the object's connections to the client's AppCoreService. */
  readonly appservicePort: number;
}

export interface TunnelMap {
  readonly workers: readonly TunnelWorker[];
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const HOST = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|[a-z0-9][a-z0-9.-]{0,252})$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const PATH = /^\/[A-Za-z0-9._/+-]{1,1023}$/;

function port(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535
    ? value
    : undefined;
}

function worker(raw: unknown): TunnelWorker | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'a worker is not an object';
  const w = raw as Record<string, unknown>;
  const known = ['name', 'sshHost', 'sshPort', 'user', 'identityFile', 'knownHostsFile', 'hostKeyAlias'];
  const fields = [...known, 'objectPorts', 'callbackPort', 'appservicePort'];
  for (const key of Object.keys(w))
    if (!fields.includes(key)) return `unknown field ${JSON.stringify(key.slice(0, 40))}`;
  const text = (key: string, re: RegExp): string | undefined =>
    typeof w[key] === 'string' && re.test(w[key]) ? w[key] : undefined;
  const name = text('name', NAME);
  const sshHost = text('sshHost', HOST);
  const user = text('user', USER);
  const identityFile = text('identityFile', PATH);
  const knownHostsFile = text('knownHostsFile', PATH);
  const hostKeyAlias = text('hostKeyAlias', NAME);
  const sshPort = port(w.sshPort);
  const callbackPort = port(w.callbackPort);
  const appservicePort = port(w.appservicePort);
  const list = Array.isArray(w.objectPorts) ? w.objectPorts.map(port) : [];
  if (name === undefined || sshHost === undefined || user === undefined || hostKeyAlias === undefined)
    return 'a worker has a bad name, sshHost, user or hostKeyAlias';
  if (identityFile === undefined || knownHostsFile === undefined || !isAbsolute(identityFile))
    return `worker ${name}: identityFile and knownHostsFile must be absolute paths`;
  if (sshPort === undefined || callbackPort === undefined || appservicePort === undefined)
    return `worker ${name}: sshPort, callbackPort and appservicePort must be ports`;
  if (list.length === 0 || list.length > MAX_OBJECT_PORTS || list.some((p) => p === undefined))
    return `worker ${name}: objectPorts must be 1 to ${MAX_OBJECT_PORTS} ports`;
  const objectPorts = list as number[];
  if (new Set([...objectPorts, callbackPort, appservicePort]).size !== objectPorts.length + 2)
    return `worker ${name}: its ports must all differ`;
  return {
    name,
    sshHost,
    sshPort,
    user,
    identityFile,
    knownHostsFile,
    hostKeyAlias,
    objectPorts,
    callbackPort,
    appservicePort,
  };
}

/** Parses the tunnel map (JSON: { "workers": [ ... ] }); fails closed on anything unexpected. */
export function parseTunnelMap(text: string): Result<TunnelMap, PopcRshError> {
  const bad = (why: string) => popcRshError('POPC_RSH_CONFIG_INVALID', `tunnel map: ${why}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not an object');
  const top = raw as Record<string, unknown>;
  if (Object.keys(top).some((k) => k !== 'workers') || !Array.isArray(top.workers))
    return bad('needs only "workers": [...]');
  if (top.workers.length === 0 || top.workers.length > MAX_WORKERS) return bad(`1 to ${MAX_WORKERS} workers`);
  const workers: TunnelWorker[] = [];
  for (const entry of top.workers) {
    const w = worker(entry);
    if (typeof w === 'string') return bad(w);
    if (workers.some((o) => o.name === w.name)) return bad(`worker ${w.name} twice`);
    workers.push(w);
  }
  return ok({ workers });
}

export async function loadTunnelMap(file: string | undefined): Promise<Result<TunnelMap, PopcRshError>> {
  if (file === undefined || !isAbsolute(file))
    return popcRshError(
      'POPC_RSH_CONFIG_INVALID',
      'PSM_POPC_TUNNELS must name the tunnel map by absolute path',
    );
  const data = await readFile(file).catch(() => undefined);
  if (data === undefined)
    return popcRshError('POPC_RSH_CONFIG_INVALID', `cannot read the tunnel map ${file}`);
  if (data.length > MAX_TUNNEL_MAP_BYTES)
    return popcRshError(
      'POPC_RSH_CONFIG_INVALID',
      `the tunnel map is larger than ${MAX_TUNNEL_MAP_BYTES} bytes`,
    );
  return parseTunnelMap(data.toString('utf8'));
}
