// Steps 1 and 2: a throwaway grid node (the worker image with POP-C++'s worker side, psm init,
// the shipped policies linted, psm daemon on real QEMU workers), then two applications reserving at the same time, each worker with its own
// fresh host key, pinned in psm's known_hosts before anybody connects.
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureImage } from './image.mjs';
import { startChild, unlessInterrupted } from './processes.mjs';

export const POLICIES = ['admin.yaml', 'main-node.yaml', 'initiator.yaml'];

export async function stepNode(s, ctx) {
  const { psm, psmJson } = ctx.tools;
  await ensureImage(s, ctx);

  const init = await psmJson(['init']);
  s.fact('init', { code: init.code, adminKeyFingerprint: init.json?.adminKeyFingerprint });
  s.check(
    init.code === 0,
    'psm init makes the location (master key, sealed config, admin key pair)',
    init.json?.adminKeyFingerprint ?? init.stderr.trim(),
  );
  if (init.code !== 0) throw new Error('psm init failed');

  const policyDir = join(ctx.location, 'etc', 'psm-policies');
  await mkdir(policyDir, { recursive: true });
  for (const file of POLICIES) await copyFile(join(ctx.root, 'policies', file), join(policyDir, file));
  const lint = await psm(['policy', 'lint', policyDir, '--strict']);
  s.fact('lint', { code: lint.code, stdout: lint.stdout.trim() });
  s.check(lint.code === 0, 'the shipped policies lint clean (--strict)', lint.stdout.trim());

  s.doing('psm daemon starts');
  const serving = await startDaemon(ctx, ctx, { maxVms: 3, keepFree: 1 });
  s.fact('daemon', { socket: serving.socket, pid: serving.pid });
  s.check(
    existsSync(serving.socket),
    'psm daemon serves its socket',
    `pid ${serving.pid}, ${serving.socket.replace(`${ctx.work}/`, '')}`,
  );
  const status = await psmJson(['pool', 'status']);
  s.check(
    status.code === 0 && status.json?.settings?.maxVms === 3 && status.json?.settings?.keepFree === 1,
    'the pool runs with max_vms 3, keep_free 1',
    `${status.json?.total ?? '?'} worker(s) so far, ${status.json?.free ?? '?'} free, the rest being cloned and prepared`,
  );
}

/**
 * Starts `psm daemon` for `node` (the demo's first location, or one of step 8's: {location,
 * vmDir, label}) as a child in a process group of its own; `node.daemon` holds it at once, so
 * that an interruption while it starts still stops it. Resolves with its {socket, pid} line.
 */
export async function startDaemon(ctx, node, { maxVms, keepFree }) {
  const args = ['daemon', '--max-vms', String(maxVms), '--keep-free', String(keepFree)];
  args.push('--vm-dir', node.vmDir, '--image', ctx.image);
  ctx.display.command(`${node.label ? `POPC_LOCATION=${node.label} ` : ''}psm ${args.join(' ')} &`);
  const started = await startChild(
    process.execPath,
    [
      join(ctx.root, 'bin', 'psm.js'),
      ...args,
      ...['--memory', '256', '--grace', '20', '--log-level', 'warn', '--json'],
    ],
    { env: { ...process.env, POPC_LOCATION: node.location }, firstLine: true },
  );
  node.daemon = started.handle;
  return JSON.parse(await unlessInterrupted(started.line, ctx.stop));
}

/** Waits until nothing is being cloned, booted, prepared or reverted. */
export async function poolSettled(ctx, total) {
  for (let i = 0; i < 900; i += 1) {
    const status = await ctx.tools.psmJson(['pool', 'status'], { show: false });
    const w = status.json?.workers ?? {};
    const busy = Object.entries(w).filter(([state, n]) => state !== 'ready' && state !== 'reserved' && n > 0);
    if (status.code === 0 && busy.length === 0 && (status.json?.total ?? 0) >= total) return status.json;
    await sleep(1000);
  }
  throw new Error('the pool did not settle');
}

export async function stepReserve(s, ctx) {
  const { psmJson, keyPair, fingerprints, pinned } = ctx.tools;
  s.doing('two applications reserve at the same time');
  const apps = ['app-a', 'app-b'];
  const keys = await Promise.all(apps.map((app) => keyPair(app)));
  const answers = await Promise.all(
    apps.map((app, i) => psmJson(['reserve', app, '--job', '1', '--key', `${keys[i]}.pub`, '--wait', '900'])),
  );
  ctx.apps = {};
  for (const [i, app] of apps.entries()) {
    const answer = answers[i];
    s.check(
      answer.code === 0,
      `${app} gets a worker`,
      answer.code === 0
        ? `${answer.json.worker}, ssh 127.0.0.1:${answer.json.ssh.port}`
        : answer.stdout + answer.stderr,
    );
    if (answer.code !== 0) throw new Error(`psm reserve ${app} failed`);
    ctx.apps[app] = { ...answer.json, key: keys[i] };
  }
  const [a, b] = apps.map((app) => ctx.apps[app]);
  s.check(a.worker !== b.worker, 'each application has a worker of its own', `${a.worker}, ${b.worker}`);
  for (const app of [a, b]) {
    app.fingerprints = (await fingerprints(app.hostKeys, `host-${app.worker}`)).sort();
    const byName = (await pinned(app.worker)).sort();
    const byPort = (await pinned(`[127.0.0.1]:${app.ssh.port}`)).sort();
    s.fact(`pins.${app.app}`, { reserved: app.fingerprints, byName, byPort });
    s.check(
      app.fingerprints.length > 0 &&
        JSON.stringify(byName) === JSON.stringify(app.fingerprints) &&
        JSON.stringify(byPort) === JSON.stringify(app.fingerprints),
      `${app.worker}'s host key is pinned in psm's known_hosts (as ${app.worker} and [127.0.0.1]:${app.ssh.port})`,
      app.fingerprints.join(' '),
    );
  }
  const shared = a.fingerprints.filter((f) => b.fingerprints.includes(f));
  s.fact('sharedHostKeys', shared);
  s.check(
    shared.length === 0,
    "the two clones share no host key (fresh keys, not the template's)",
    shared.length === 0 ? 'none shared' : shared.join(' '),
  );
  await poolSettled(ctx, 3);
}
