import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutOf } from '../../src/vault/layout.js';
import { startScanner } from '../helpers/proc-scan.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';
import { runPsm, tempLocation, type PsmRun, type TempLocation } from '../helpers/vault-harness.js';

/**
 * `psm vm ... --driver vsphere` as a user runs it: real CLI processes (dist/), a real simulator
 * on 127.0.0.1 pinned by thumbprint in virtual.conf, the vCenter and guest passwords sealed in
 * the vault with `psm vault set`. A /proc scanner watches every process meanwhile.
 */
let sim: Vcsim;
let temp: TempLocation;

beforeAll(async () => {
  sim = await startVcsim({ guestOperations: true });
  temp = tempLocation();
}, 60_000);

afterAll(async () => {
  await sim?.stop();
  temp?.cleanup();
});

/** virtual.conf from `psm init --kind vsphere`, pointed at the simulator (plain settings only). */
function pointAtSimulator(location: string): void {
  const file = layoutOf(location).configFile;
  const text = readFileSync(file, 'utf8')
    .replace('uri = "https://esx.example.org/sdk"', `uri = "https://127.0.0.1:${sim.port}/sdk"`)
    .replace('username = "popc"', `username = "${sim.user}"\ntls_sha256 = "${sim.sha256}"\nfolder = "DC0/vm"`)
    .replace(
      'template = "popc-worker-template"',
      'template = "DC0/vm/psm-template"\ntemplate_snapshot = "psm-base"',
    )
    .replace('guest_user = "popc"', `guest_user = "${sim.guestUser}"`);
  writeFileSync(file, text);
}

describe('psm vm --driver vsphere against the simulator', () => {
  it('clone, start, status, exec, copy-in/out and destroy work, and no secret leaks', async () => {
    const loc = ['--location', temp.location];
    const vs = ['--driver', 'vsphere', ...loc];
    const scanner = startScanner();
    scanner.add([sim.password, sim.guestPassword]);
    const runs: PsmRun[] = [];
    const run = async (args: string[], input?: string): Promise<PsmRun> => {
      const done = await runPsm(args, { ...(input === undefined ? {} : { input }), timeoutMs: 60_000 });
      runs.push(done);
      return done;
    };
    expect((await run(['init', ...loc, '--kind', 'vsphere', '--kdf-cost', 'min'])).code).toBe(0);
    pointAtSimulator(temp.location);
    expect((await run(['vault', 'set', 'hypervisor.password', ...loc], sim.password.toString())).code).toBe(
      0,
    );
    expect(
      (await run(['vault', 'set', 'worker.guest_password', ...loc], sim.guestPassword.toString())).code,
    ).toBe(0);
    const verified = await run(['vault', 'verify', ...loc]);
    expect(verified.code, verified.stderr).toBe(0);

    const cloned = await run(['vm', 'clone', 'cli-w1', ...vs, '--json']);
    expect(cloned.code, cloned.stderr).toBe(0);
    const started = await run(['vm', 'start', 'cli-w1', ...vs]);
    expect(started.code, started.stderr).toBe(0);
    const status = await run(['vm', 'status', 'cli-w1', ...vs, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'cli-w1', power: 'running' });

    const exec = await run([
      'vm',
      'exec',
      'cli-w1',
      ...vs,
      '--json',
      '/bin/busybox',
      'printf',
      '<%s>',
      'a b',
      '$(no)',
    ]);
    expect(exec.code, exec.stderr).toBe(0);
    expect(JSON.parse(exec.stdout)).toMatchObject({ exitCode: 0, stdout: '<a b><$(no)>' });
    const failed = await run(['vm', 'exec', 'cli-w1', ...vs, '/bin/cat', '/persist/nothing-here']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('nothing-here');

    const hostFile = join(temp.root, 'payload.bin');
    writeFileSync(hostFile, Buffer.from('payload over vSphere\n'));
    const copyIn = await run(['vm', 'copy-in', 'cli-w1', hostFile, '/persist/p', ...vs, '--mode', '0640']);
    expect(copyIn.code, copyIn.stderr).toBe(0);
    const back = join(temp.root, 'back.bin');
    const copyOut = await run(['vm', 'copy-out', 'cli-w1', '/persist/p', back, ...vs]);
    expect(copyOut.code, copyOut.stderr).toBe(0);
    expect(readFileSync(back, 'utf8')).toBe('payload over vSphere\n');

    const destroyed = await run(['vm', 'destroy', 'cli-w1', ...vs]);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    const gone = await run(['vm', 'status', 'cli-w1', ...vs]);
    expect(gone.code).not.toBe(0);

    const scan = await scanner.finish();
    expect(scan.hits).toEqual([]);
    expect(scan.psmPids).toBeGreaterThanOrEqual(5);
    for (const done of runs)
      for (const secret of [sim.password.toString(), sim.guestPassword.toString()]) {
        expect(done.stderr).not.toContain(secret);
        expect(done.stdout).not.toContain(secret);
      }
  }, 240_000);
});
