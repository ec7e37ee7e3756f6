import { describe, expect, it } from 'vitest';
import { GATE_DIR, PSM_SSHD_CONFIG } from '../../src/guest-ops/image/recipe.js';
import { START_SSHD_SCRIPT, initScript } from '../../src/guest-ops/image/guest-init.js';
import { DEFAULT_GATE_DIR } from '../../src/psm/policy/command-paths.js';
import { PSM_SSHD_CONFIG_PATH } from '../../src/psm/host-keys/sshd-config.js';

// The image and psm agree on where psm's sshd config and gates live (the image cannot import psm).
describe('worker image paths psm relies on', () => {
  it('the gate directory and sshd config path are the ones psm installs to', () => {
    expect(GATE_DIR).toBe(DEFAULT_GATE_DIR);
    expect(PSM_SSHD_CONFIG).toBe(PSM_SSHD_CONFIG_PATH);
  });

  it("sshd starts with psm's config when it is there, and init makes no key then", () => {
    expect(START_SSHD_SCRIPT).toContain(`exec /usr/sbin/sshd -D -e -f ${PSM_SSHD_CONFIG}\n`);
    expect(initScript()).toContain(`if [ ! -s ${PSM_SSHD_CONFIG} ] && [ ! -s `);
    expect(initScript()).toContain('::respawn:/etc/psm/start-sshd');
    expect(initScript()).not.toContain('/usr/sbin/sshd -D');
  });
});
