import { ok, type Result } from '../../common/result.js';
import type { HostPort, KeyPolicy } from '../policy/index.js';
import { MAX_TUNNEL_MAP_BYTES, parseTunnelMap, type TunnelWorker } from './config.js';
import { popcRshError, type PopcRshError } from './errors.js';

/** The loopback address every tunnel of psm's POPC_RSH uses on both ends (docs/popc.md). */
const LOOPBACK = '127.0.0.1';

function permits(list: readonly HostPort[], port: number): boolean {
  return list.some((p) => p.host === LOOPBACK && p.port === String(port));
}

/**
 * Checks a worker's tunnel map entry against the application key's main-node policy: every
 * object port must be a `permitOpen` entry on 127.0.0.1 and the callback and appservice ports
 * `permitListen` entries there, or the ssh psm's POPC_RSH opens would be refused by sshd halfway.
 */
export function checkEntryAgainstPolicy(
  entry: TunnelWorker,
  policy: KeyPolicy,
): Result<TunnelWorker, PopcRshError> {
  for (const port of entry.objectPorts)
    if (!permits(policy.permitOpen, port))
      return popcRshError(
        'POPC_RSH_NOT_PERMITTED',
        `object port ${port} is not in ${policy.file}'s permitOpen (${LOOPBACK}:${port})`,
      );
  for (const [what, port] of [
    ['callback', entry.callbackPort],
    ['appservice', entry.appservicePort],
  ] as const)
    if (!permits(policy.permitListen, port))
      return popcRshError(
        'POPC_RSH_NOT_PERMITTED',
        `${what} port ${port} is not in ${policy.file}'s permitListen (${LOOPBACK}:${port})`,
      );
  return ok(entry);
}

/**
 * The tunnel map `existing` (its text, or undefined for a new map) with `entry` added, or put in
 * place of the entry of the same name; returns the new map's text, parsed back before it is
 * returned so that only a map psm's POPC_RSH accepts is ever written. Object ports are forwarded
 * from the same port on the admin's loopback, so two entries may not share one.
 */
export function addToTunnelMap(
  existing: string | undefined,
  entry: TunnelWorker,
): Result<string, PopcRshError> {
  const current = existing === undefined ? ok({ workers: [] }) : parseTunnelMap(existing);
  if (!current.ok) return current;
  const others = current.value.workers.filter((w) => w.name !== entry.name);
  for (const other of others) {
    const shared = other.objectPorts.find((p) => entry.objectPorts.includes(p));
    if (shared !== undefined)
      return popcRshError(
        'POPC_RSH_PORT_CLASH',
        `object port ${shared} is already worker ${other.name}'s in the tunnel map (each takes its ports on the admin)`,
      );
  }
  const text = `${JSON.stringify({ workers: [...others, entry] }, null, 2)}\n`;
  if (Buffer.byteLength(text) > MAX_TUNNEL_MAP_BYTES)
    return popcRshError(
      'POPC_RSH_CONFIG_INVALID',
      `the tunnel map would exceed ${MAX_TUNNEL_MAP_BYTES} bytes`,
    );
  const back = parseTunnelMap(text);
  return back.ok ? ok(text) : back;
}
