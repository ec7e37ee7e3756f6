#!/usr/bin/env node
// `npm run demo`: psm's main job today, end to end with the real CLI, in a throwaway location:
// make the admin VM's identity, render its key under the shipped admin policy into the one
// authorized_keys line psm would write on a worker, check that line as sshd reads it, explain
// it, and generate the gate it forces. Leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const psm = join(root, 'bin', 'psm.js');
const work = mkdtempSync(join(tmpdir(), 'psm-demo-'));
const location = join(work, 'popc');
const adminKey = join(location, 'var', 'psm', 'keys', 'admin_ed25519.pub');
const authorizedKeys = join(work, 'authorized_keys');

/** Runs one psm command as a user would, showing the command and its output. */
function step(title, args) {
  console.log(`\n## ${title}\n$ psm ${args.join(' ')}`);
  const output = execFileSync(process.execPath, [psm, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  process.stdout.write(output);
  return output;
}

try {
  step('1. The admin VM: master key, sealed config and the admin SSH key pair', [
    'init',
    '--location',
    location,
  ]);
  step('2. Security staff check the shipped policies', ['policy', 'lint', join(root, 'policies')]);
  const line = step("3. The one line psm writes into a worker's authorized_keys for the admin key", [
    'policy',
    'render',
    join(root, 'policies', 'admin.yaml'),
    '--key',
    adminKey,
    '--app',
    'demo-app',
    '--worker',
    'worker-1',
  ]);
  writeFileSync(authorizedKeys, line, { mode: 0o600 });
  step('4. That line, read exactly as sshd reads it', ['keys', 'inspect', authorizedKeys]);
  step('5. What that key can and cannot do', ['policy', 'explain', join(root, 'policies', 'admin.yaml')]);
  step('6. The gate the line forces (installed on the worker, root-owned, 0755)', [
    'policy',
    'gate',
    join(root, 'policies', 'admin.yaml'),
  ]);
  console.log('\nDone. Next: `psm vm ...` runs a real worker VM (docs/guest-ops.md).');
} finally {
  rmSync(work, { recursive: true, force: true });
}
