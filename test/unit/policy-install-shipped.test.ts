import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installShippedPolicies } from '../../src/psm/policy/index.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The overlay rule of the shipped policy sets: an overlay replaces base files, never adds one. */
let temp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  temp = await makeTempDir('psm-install-shipped-');
});
afterEach(() => temp.remove());

describe('installShippedPolicies with an overlay', () => {
  it('replaces the base file of the same name and keeps the others', async () => {
    const target = join(temp.path, 'etc');
    mkdirSync(target);
    const installed = await installShippedPolicies({ base: 'policies', overlay: 'policies/popc' }, target);
    expect(installed.ok && installed.value.map((f) => f.slice(target.length + 1)).sort()).toEqual([
      'admin.yaml',
      'initiator.yaml',
      'main-node.yaml',
    ]);
    expect(readFileSync(join(target, 'main-node.yaml'), 'utf8')).toContain('arguments: popc');
  });

  it('refuses an overlay that would add a policy, and writes nothing', async () => {
    const overlay = join(temp.path, 'overlay');
    const target = join(temp.path, 'etc');
    mkdirSync(overlay);
    mkdirSync(target);
    // A valid policy on its own (the initiator's), under a name the base does not have.
    writeFileSync(join(overlay, 'extra.yaml'), readFileSync('policies/initiator.yaml'));
    const installed = await installShippedPolicies({ base: 'policies', overlay }, target);
    expect(installed).toEqual({
      ok: false,
      error: { code: 'POLICY_INSTALL_FAILED', message: expect.stringContaining('replaces no policy') },
    });
    expect(readdirSync(target)).toEqual([]);
  });

  it('refuses an overlay with a policy that does not lint, and writes nothing', async () => {
    const overlay = join(temp.path, 'overlay');
    const target = join(temp.path, 'etc');
    mkdirSync(overlay);
    mkdirSync(target);
    writeFileSync(join(overlay, 'main-node.yaml'), 'apiVersion: psm/v1\nkind: KeyPolicy\n');
    const installed = await installShippedPolicies({ base: 'policies', overlay }, target);
    expect(installed.ok).toBe(false);
    expect(readdirSync(target)).toEqual([]);
  });
});
