// Run by test/e2e/jobmgr-daemon-crash.test.ts as `node daemon-crash-child.mjs LOCATION`: the built
// daemon (dist/) with workers that are directories under LOCATION/fake-vms, so they outlive a
// kill -9 of this process the way QEMU VMs do. A grant sleeps while LOCATION/slow-grant exists
// (after writing LOCATION/granting), so the test can kill the daemon in the middle of a reserve.
// A worker granted to a second application while it holds the keys of another records it in
// LOCATION/violations. Prints {"socket"} once serving; SIGTERM stops it gracefully.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon } from '../../dist/jobmgr/daemon/run.js';
import { createLogger } from '../../dist/common/logger.js';
import { DEFAULT_POOL_SETTINGS } from '../../dist/jobmgr/settings.js';

const location = process.argv[2];
const root = join(location, 'fake-vms');
await mkdir(root, { recursive: true });
const ok = (value) => ({ ok: true, value });
const fail = (code) => ({ ok: false, error: { code, message: code } });
const stateOf = async (name) => JSON.parse(await readFile(join(root, name, 'state.json'), 'utf8'));
const save = (name, state) => writeFile(join(root, name, 'state.json'), JSON.stringify(state));
const exists = (name) => existsSync(join(root, name, 'state.json'));

const lifecycle = {
  async clone(name) {
    await mkdir(join(root, name));
    await sleep(20);
    await save(name, { running: false, keys: {} });
    return ok(undefined);
  },
  async boot(name) {
    if (!exists(name)) return fail('WORKER_NOT_FOUND');
    await save(name, { ...(await stateOf(name)), running: true });
    return ok(undefined);
  },
  async prepare(name) {
    if (!exists(name)) return fail('WORKER_NOT_FOUND');
    await sleep(20);
    return ok({
      ssh: { host: '127.0.0.1', port: 30000 + Number(name.slice(2)) },
      hostKeys: [`ssh-ed25519 ${name}`],
    });
  },
  async grantApplication(name, appId, keys) {
    if (existsSync(join(location, 'slow-grant'))) {
      await writeFile(join(location, 'granting'), name);
      await sleep(30_000);
    }
    const state = await stateOf(name);
    const others = Object.keys(state.keys).filter((a) => a !== appId);
    if (others.length > 0)
      await appendFile(join(location, 'violations'), `${name}: ${appId} over ${others}\n`);
    state.keys[appId] = keys;
    await save(name, state);
    return ok(undefined);
  },
  async revokeApplication(name, appId) {
    const state = await stateOf(name);
    delete state.keys[appId];
    await save(name, state);
    return ok(undefined);
  },
  async revert(name) {
    await save(name, { ...(await stateOf(name)), keys: {} });
    return ok(undefined);
  },
  async destroy(name) {
    await rm(join(root, name), { recursive: true, force: true });
    return ok(undefined);
  },
  async list() {
    const names = await readdir(root);
    return ok(names.map((name) => ({ name, running: true })));
  },
};

const started = await startDaemon({
  location,
  lifecycle,
  settings: { ...DEFAULT_POOL_SETTINGS, namePrefix: 'w-', maxVms: 3, keepFree: 1 },
  log: createLogger({ level: 'error' }),
  maintenanceMs: 200,
});
if (!started.ok) {
  process.stderr.write(`${started.error.code}: ${started.error.message}\n`);
  process.exit(4);
}
process.on('SIGTERM', () => {
  void started.value.stop().then(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ socket: started.value.paths.socket })}\n`);
