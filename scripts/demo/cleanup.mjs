// The clean shutdown the demo ends with, also after a failure or Ctrl-C: SIGTERM to each daemon,
// every VM of the run destroyed, its QEMU processes gone, the throwaway directory removed; and
// the proof of it (no qemu-system process of this run, no socket, no directory).
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './processes.mjs';

/** PIDs of live qemu-system processes whose command line names `dir` (zombies have none). */
export async function qemuProcessesUnder(dir) {
  const found = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv;
    try {
      argv = (await readFile(join('/proc', entry, 'cmdline'), 'utf8')).split('\0');
    } catch {
      continue;
    }
    if ((argv[0] ?? '').includes('qemu-system') && argv.some((a) => a.includes(dir)))
      found.push(Number(entry));
  }
  return found;
}

/**
 * PIDs of other live processes whose command line names `dir`, less `exclude` (the daemons):
 * what an interrupted POP-C++ client leaves, its $POPC_RSH's ssh sessions (they name the run's
 * known_hosts) and its AppCoreService (its -cwd), each in a process group of its own.
 */
export async function strayProcessesUnder(dir, exclude = []) {
  const found = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!/^\d+$/.test(entry) || pid === process.pid || exclude.includes(pid)) continue;
    const argv = await readFile(join('/proc', entry, 'cmdline'), 'utf8').catch(() => '');
    if (!argv.split('\0')[0]?.includes('qemu-system') && argv.includes(dir)) found.push(pid);
  }
  return found;
}

/** Stops one location's daemon and destroys its VMs (named LABEL/WORKER in `destroyed`). */
async function stopOne(ctx, node, label, done) {
  if (node.daemon !== undefined) {
    const exited = await node.daemon.stop('SIGTERM', 90_000);
    done.daemons[label] = exited.code ?? exited.signal;
    // What the daemon said when it did not stop cleanly (its log level is warn).
    if (done.daemons[label] !== 0) done.daemonLogs[label] = node.daemon.stderr().slice(-4000);
    node.daemon = undefined;
  }
  const psm = (args) =>
    run(process.execPath, [join(ctx.root, 'bin', 'psm.js'), ...args], { timeoutMs: 120_000 });
  if (!existsSync(node.vmDir)) return;
  const listed = await psm(['vm', 'list', '--vm-dir', node.vmDir, '--json']);
  let names = [];
  try {
    const parsed = JSON.parse(listed.stdout);
    names = (Array.isArray(parsed) ? parsed : (parsed.workers ?? [])).map((w) => w.name);
  } catch {
    names = await readdir(node.vmDir);
  }
  for (const name of names) {
    const destroyed = await psm(['vm', 'destroy', name, '--vm-dir', node.vmDir]);
    if (destroyed.code === 0) done.destroyed.push(`${label}/${name}`);
  }
}

/**
 * Stops every daemon of the run (the first location's and step 8's grid nodes', at once) and
 * destroys their VMs; returns what it did. Safe to call twice.
 */
export async function stopNodes(ctx) {
  const done = { daemonExit: null, daemons: {}, daemonLogs: {}, destroyed: [] };
  const nodes = [{ node: ctx, label: basename(ctx.location) }];
  for (const node of ctx.popcNodes ?? []) nodes.push({ node, label: node.name });
  const daemons = nodes.map(({ node }) => node.daemon?.child.pid).filter((pid) => pid !== undefined);
  for (const pid of await strayProcessesUnder(ctx.work, daemons)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await Promise.all(nodes.map(({ node, label }) => stopOne(ctx, node, label, done)));
  done.daemonExit = done.daemons[basename(ctx.location)] ?? null;
  done.destroyed.sort();
  for (let i = 0; i < 60 && (await qemuProcessesUnder(ctx.work)).length > 0; i += 1) await sleep(500);
  // Still there after 30 s (a destroy that failed): these are this run's own VMs, by PID.
  for (const pid of await qemuProcessesUnder(ctx.work)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return done;
}

/** Removes the throwaway directory and reports anything left behind. */
export async function removeWork(ctx) {
  await rm(ctx.work, { recursive: true, force: true });
  for (let i = 0; i < 20 && (await qemuProcessesUnder(ctx.work)).length > 0; i += 1) await sleep(250);
  return {
    qemuProcesses: await qemuProcessesUnder(ctx.work),
    otherProcesses: await strayProcessesUnder(ctx.work),
    workDirExists: existsSync(ctx.work),
    socketExists: [ctx, ...(ctx.popcNodes ?? [])].some((n) =>
      existsSync(join(n.location, 'var', 'psm', 'psm.sock')),
    ),
  };
}
