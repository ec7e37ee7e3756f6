// The clean shutdown the demo ends with, also after a failure or Ctrl-C: SIGTERM to the daemon,
// every VM of the run destroyed, its QEMU processes gone, the throwaway directory removed; and
// the proof of it (no qemu-system process of this run, no socket, no directory).
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
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

/** Stops the daemon and destroys the run's VMs; returns what it did. Safe to call twice. */
export async function stopNode(ctx) {
  const done = { daemonExit: null, destroyed: [] };
  if (ctx.daemon !== undefined) {
    const exited = await ctx.daemon.stop('SIGTERM', 90_000);
    done.daemonExit = exited.code ?? exited.signal;
    // What the daemon said when it did not stop cleanly (its log level is warn).
    if (done.daemonExit !== 0) done.daemonLog = ctx.daemon.stderr().slice(-4000);
    ctx.daemon = undefined;
  }
  const psm = (args) =>
    run(process.execPath, [join(ctx.root, 'bin', 'psm.js'), ...args], { timeoutMs: 120_000 });
  if (existsSync(ctx.vmDir)) {
    const listed = await psm(['vm', 'list', '--vm-dir', ctx.vmDir, '--json']);
    let names = [];
    try {
      const parsed = JSON.parse(listed.stdout);
      names = (Array.isArray(parsed) ? parsed : (parsed.workers ?? [])).map((w) => w.name);
    } catch {
      names = await readdir(ctx.vmDir);
    }
    for (const name of names) {
      const destroyed = await psm(['vm', 'destroy', name, '--vm-dir', ctx.vmDir]);
      if (destroyed.code === 0) done.destroyed.push(name);
    }
  }
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
    workDirExists: existsSync(ctx.work),
    socketExists: existsSync(join(ctx.location, 'var', 'psm', 'psm.sock')),
  };
}
