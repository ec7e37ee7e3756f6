import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initVault, layoutOf, loadConfig, resolveLocation, DEFAULT_LOCATION } from '../../src/vault/index.js';
import { tempLocation, type TempLocation } from '../helpers/vault-harness.js';

/** The typed config other modules (the QEMU driver, the job manager) read from a fresh init. */
let temp: TempLocation;
beforeAll(async () => {
  temp = tempLocation();
  const made = await initVault({ location: temp.location, force: false, kind: 'qemu', kdfCost: 'min' });
  if (!made.ok) throw new Error(made.error.message);
}, 60_000);
afterAll(() => temp?.cleanup());

describe('loadConfig', () => {
  it('gives the typed settings with their defaults', async () => {
    const conf = await loadConfig(temp.location);
    expect(conf.ok).toBe(true);
    if (!conf.ok) return;
    const layout = layoutOf(temp.location);
    expect(conf.value.file).toBe(layout.configFile);
    expect(conf.value.hypervisor).toEqual({
      kind: 'qemu',
      uri: undefined,
      username: undefined,
      hasPassword: false,
      tlsCa: undefined,
      tlsSha256: undefined,
      folder: undefined,
      resourcePool: undefined,
      strictRole: false,
    });
    expect(conf.value.qemu).toEqual({
      imageDir: layout.imagesDir,
      memoryMib: 512,
      accel: 'auto',
      network: 'user',
      bridge: undefined,
    });
    expect(conf.value.pool).toEqual({
      maxVms: 4,
      keepFree: 2,
      cloneAtStart: 0,
      idleTimeoutSeconds: 3600,
      onAppEnd: 'revert',
    });
    expect(conf.value.worker).toMatchObject({
      namePrefix: 'popc-worker-',
      cleanSnapshot: 'clean',
      guestUser: 'popc',
    });
    expect(conf.value.paths).toEqual({
      keys: layout.keysDir,
      policies: layout.policiesDir,
      state: layout.stateDir,
    });
    expect(conf.value.vault).toMatchObject({ format: 1, keySource: 'file' });
    expect(conf.value.sealed.size).toBe(0);
  });

  it('says CONFIG_MISSING for a location without virtual.conf', async () => {
    const conf = await loadConfig(`${temp.root}/nowhere`);
    expect(conf.ok ? 'ok' : conf.error.code).toBe('CONFIG_MISSING');
  });
});

describe('resolveLocation', () => {
  it('takes the flag, then $POPC_LOCATION, then the default', () => {
    expect(resolveLocation('/a', { POPC_LOCATION: '/b' })).toBe('/a');
    expect(resolveLocation(undefined, { POPC_LOCATION: '/b' })).toBe('/b');
    expect(resolveLocation(undefined, { POPC_LOCATION: '' })).toBe(DEFAULT_LOCATION);
    expect(resolveLocation(undefined, {})).toBe('/usr/local/popc');
  });
});
