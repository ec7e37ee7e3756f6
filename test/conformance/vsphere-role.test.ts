import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PSM_PRIVILEGES, VsphereDriver } from '../../src/guest-ops/vsphere/index.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';

const roleFile = (): string[] =>
  readFileSync('contrib/vsphere/psm-role.txt', 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));

describe('the least-privilege role (contrib/vsphere/psm-role.txt)', () => {
  it('is exactly the driver’s privilege list', () => {
    expect(roleFile()).toEqual([...PSM_PRIVILEGES]);
  });

  describe('strict_role against a simulator user holding exactly that role', () => {
    let sim: Vcsim;
    beforeAll(async () => {
      sim = await startVcsim({
        privileges: [...roleFile(), 'System.Anonymous', 'System.Read', 'System.View'],
      });
    }, 60_000);
    afterAll(() => sim?.stop());

    it('lets the session work', async () => {
      const listed = await new VsphereDriver(sim.settings({ strictRole: true })).listWorkers({
        timeoutMs: 5_000,
      });
      expect(listed.ok, listed.ok ? '' : listed.error.message).toBe(true);
    });
  });
});
