/**
 * `psm popc tunnel-map`'s file half on real files: a missing map is created 0600, an entry is
 * replaced in place, and a map that cannot be read, is too large or is not a map is refused
 * with a code and left exactly as it was.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TUNNEL_MAP_BYTES } from '../../src/psm/popc-rsh/config.js';
import { parseTunnelMap, type TunnelWorker } from '../../src/psm/popc-rsh/index.js';
import { addToTunnelMapFile } from '../../src/psm/popc-rsh/map-file.js';
import { makeTempDir } from '../helpers/temp-dir.js';

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

let temp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  temp = await makeTempDir('popc-map-file');
});
afterEach(() => temp.remove());

describe('addToTunnelMapFile', () => {
  it('creates a missing map 0600, and replaces the entry of the same name', async () => {
    const file = join(temp.path, 'tunnels.json');
    expect((await addToTunnelMapFile(file, ENTRY)).ok).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await addToTunnelMapFile(file, { ...ENTRY, sshPort: 40023 })).toEqual({
      ok: true,
      value: undefined,
    });
    const map = parseTunnelMap(readFileSync(file, 'utf8'));
    expect(map.ok && map.value.workers.map((w) => [w.name, w.sshPort])).toEqual([['node-1', 40023]]);
  });

  it('refuses a map it cannot read (a directory) with POPC_RSH_MAP_IO', async () => {
    const dir = join(temp.path, 'a-directory');
    mkdirSync(dir);
    const added = await addToTunnelMapFile(dir, ENTRY);
    expect(added.ok || added.error.code).toBe('POPC_RSH_MAP_IO');
  });

  it('leaves a map that is too large or not a map exactly as it was', async () => {
    const file = join(temp.path, 'tunnels.json');
    for (const [text, code] of [
      [' '.repeat(MAX_TUNNEL_MAP_BYTES + 1), 'POPC_RSH_CONFIG_INVALID'],
      ['{"workers": 1}', 'POPC_RSH_CONFIG_INVALID'],
      ['not json', 'POPC_RSH_CONFIG_INVALID'],
    ] as const) {
      writeFileSync(file, text);
      const added = await addToTunnelMapFile(file, ENTRY);
      expect([text.slice(0, 20), added.ok || added.error.code]).toEqual([text.slice(0, 20), code]);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });
});
