/**
 * `psm popc tunnel-map`'s library half: a worker's entry is checked against the real POP-C++
 * main-node policy (policies/popc/main-node.yaml: object ports in permitOpen, callback and
 * appservice in permitListen), and added to a tunnel map that psm's $POPC_RSH parses back,
 * replacing the entry of the same name and refusing an object port another entry forwards.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KeyPolicy } from '../../src/psm/policy/index.js';
import { loadPolicyFile } from '../../src/psm/policy/index.js';
import { parseTunnelMap, type TunnelWorker } from '../../src/psm/popc-rsh/index.js';
import { addToTunnelMap, checkEntryAgainstPolicy } from '../../src/psm/popc-rsh/map-entry.js';

const ENTRY: TunnelWorker = {
  name: 'node-1',
  sshHost: '127.0.0.1',
  sshPort: 40022,
  user: 'popc',
  identityFile: '/srv/psm/app_ed25519',
  knownHostsFile: '/srv/node-1/var/psm/known_hosts',
  hostKeyAlias: 'popc-worker-1',
  objectPorts: [2712],
  callbackPort: 2720,
  appservicePort: 2721,
};

let popcPolicy: KeyPolicy;
let shippedPolicy: KeyPolicy;
beforeAll(async () => {
  const popc = await loadPolicyFile(resolve('policies/popc/main-node.yaml'));
  const shipped = await loadPolicyFile(resolve('policies/main-node.yaml'));
  if (!popc.ok || !shipped.ok) throw new Error('the policies do not load');
  popcPolicy = popc.value;
  shippedPolicy = shipped.value;
});

describe('checkEntryAgainstPolicy', () => {
  it('accepts the ports policies/popc/main-node.yaml permits', () => {
    expect(checkEntryAgainstPolicy({ ...ENTRY, objectPorts: [2712, 2715] }, popcPolicy).ok).toBe(true);
  });

  it.each([
    ['an object port outside permitOpen', { objectPorts: [2716] }, /object port 2716 is not in .*permitOpen/],
    ['sshd as an object port', { objectPorts: [22] }, /object port 22 /],
    ['a callback port outside permitListen', { callbackPort: 2722 }, /callback port 2722 .*permitListen/],
    ['an appservice port outside permitListen', { appservicePort: 2711 }, /appservice port 2711 /],
  ])('refuses %s (POPC_RSH_NOT_PERMITTED)', (_, change, message) => {
    const checked = checkEntryAgainstPolicy({ ...ENTRY, ...change }, popcPolicy);
    expect(checked.ok ? null : [checked.error.code, checked.error.message]).toEqual([
      'POPC_RSH_NOT_PERMITTED',
      expect.stringMatching(message),
    ]);
  });

  it('refuses the entry under the shipped main-node policy (no object port, no listen port)', () => {
    const checked = checkEntryAgainstPolicy(ENTRY, shippedPolicy);
    expect(checked.ok ? null : checked.error.code).toBe('POPC_RSH_NOT_PERMITTED');
  });
});

describe('addToTunnelMap', () => {
  const second = { ...ENTRY, name: 'node-2', sshPort: 40023, objectPorts: [2713] };

  it('starts a map, adds a second node, and $POPC_RSH parses the result', () => {
    const one = addToTunnelMap(undefined, ENTRY);
    if (!one.ok) throw new Error(one.error.message);
    const two = addToTunnelMap(one.value, second);
    if (!two.ok) throw new Error(two.error.message);
    const parsed = parseTunnelMap(two.value);
    expect(parsed.ok ? parsed.value.workers : parsed.error).toEqual([ENTRY, second]);
  });

  it('replaces the entry of the same name (a node whose worker changed)', () => {
    const one = addToTunnelMap(undefined, ENTRY);
    if (!one.ok) throw new Error(one.error.message);
    const moved = { ...ENTRY, sshPort: 41000, hostKeyAlias: 'popc-worker-2' };
    const again = addToTunnelMap(one.value, moved);
    const parsed = again.ok ? parseTunnelMap(again.value) : again;
    expect(parsed.ok ? parsed.value.workers : parsed.error).toEqual([moved]);
  });

  it('refuses an object port another entry already forwards (POPC_RSH_PORT_CLASH)', () => {
    const one = addToTunnelMap(undefined, ENTRY);
    if (!one.ok) throw new Error(one.error.message);
    const clash = addToTunnelMap(one.value, { ...second, objectPorts: [2713, 2712] });
    expect(clash.ok ? null : [clash.error.code, clash.error.message]).toEqual([
      'POPC_RSH_PORT_CLASH',
      expect.stringMatching(/object port 2712 is already worker node-1's/),
    ]);
  });

  it('refuses to add to a map that is not one (POPC_RSH_CONFIG_INVALID), and an entry the map format refuses', () => {
    const bad = addToTunnelMap('{"workers": "x"}', ENTRY);
    expect(bad.ok ? null : bad.error.code).toBe('POPC_RSH_CONFIG_INVALID');
    const relative = addToTunnelMap(undefined, { ...ENTRY, identityFile: 'key' });
    expect(relative.ok ? null : relative.error.code).toBe('POPC_RSH_CONFIG_INVALID');
  });
});
