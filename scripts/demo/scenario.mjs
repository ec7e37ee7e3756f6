// psm's main job end to end, as `npm run demo` shows it and test/e2e/demo.test.ts asserts it:
// nine numbered steps on real QEMU workers, each check recorded with what was seen, the whole
// run returned as a report. Cleanup (daemon stopped, VMs destroyed, directory removed) runs on
// success, failure and interruption alike.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interrupted } from './processes.mjs';
import { toolkit } from './toolkit.mjs';
import { stepNode, stepReserve } from './steps-start.mjs';
import { stepRunMain, stepSsh } from './steps-ssh.mjs';
import { stepDrift, stepRotate } from './steps-keys.mjs';
import { stepEnd } from './steps-end.mjs';
import { stepPopc } from './steps-popc.mjs';
import { removeWork, stopNodes } from './cleanup.mjs';

export const STEPS = [
  [1, 'a throwaway grid node: psm init, policies linted, psm daemon on QEMU workers', stepNode],
  [2, 'two applications reserve at once: fresh host keys, pinned', stepReserve],
  [3, 'real ssh with the main-node key: object, tunnel, refusals, impersonation', stepSsh],
  [4, "psm run-main: the application's main in its worker", stepRunMain],
  [5, 'psm rotate-keys --admin --host-keys: the old admin key refused', stepRotate],
  [6, 'a drift injected, found by psm audit, fixed by psm audit --fix', stepDrift],
  [7, 'app-a ends: its key refused, its worker reverted and reused', stepEnd],
  [8, "a real POP-C++ program: psmsum's objects in workers of two grid nodes", stepPopc],
  [9, 'psm audit-log verify on the whole run, clean shutdown, nothing left', stepFinish],
];

async function stepFinish(s, ctx) {
  s.doing('stopping the daemons, destroying the VMs');
  const stopped = await stopNodes(ctx);
  s.fact('shutdown', stopped);
  const exits = Object.entries(stopped.daemons);
  s.check(
    exits.length === 3 && exits.every(([, code]) => code === 0),
    'every psm daemon of the run stops on SIGTERM (exit 0)',
    exits.map(([node, code]) => `${node} exit ${code}`).join(', '),
  );
  // Three workers of the first node (max_vms 3), one on each of step 8's two grid nodes.
  s.check(
    stopped.destroyed.length === 5,
    'every worker VM of the run is destroyed',
    stopped.destroyed.join(', '),
  );
  const verified = await ctx.tools.psmJson(['audit-log', 'verify']);
  s.fact('auditLog', { code: verified.code, json: verified.json ?? null });
  s.check(
    verified.code === 0,
    "psm audit-log verify: the run's audit log is intact",
    `${verified.json?.entries ?? '?'} entries`,
  );
  const left = await removeWork(ctx);
  ctx.removed = true;
  s.fact('leftovers', left);
  s.check(
    left.qemuProcesses.length === 0 && left.otherProcesses.length === 0,
    'no qemu-system process of this run is left, nor any other naming its directory',
    [...left.qemuProcesses, ...left.otherProcesses].join(' ') || 'none',
  );
  s.check(
    !left.workDirExists && !left.socketExists,
    'no socket, no temp directory left',
    `${ctx.work} removed`,
  );
}

/**
 * Runs the scenario. `display` prints (scripts/demo/display.mjs), `stop` is the run's
 * interruption flag (scripts/demo/processes.mjs). Resolves with the report; rethrows Interrupted
 * after cleaning up.
 */
export async function runScenario({ root, image, display, stop }) {
  const work = await mkdtemp(join(tmpdir(), 'psm-demo-'));
  const location = join(work, 'popc');
  const vmDir = join(location, 'var', 'psm', 'vms');
  await mkdir(join(work, 'keys'), { mode: 0o700 });
  const ctx = { root, image, display, stop, work, location, vmDir, daemon: undefined, removed: false };
  ctx.popcNodes = [];
  ctx.tools = toolkit({ root, work, location, vmDir, stop, display });
  const report = { work, steps: [], facts: {}, ok: false, error: undefined, leftovers: undefined };
  display.line(`psm-demo: working in ${work} (removed at the end)`);
  const started = Date.now();
  try {
    for (const [n, title, body] of STEPS) {
      const step = { n, title, checks: [], seconds: 0, error: undefined };
      report.steps.push(step);
      const t0 = Date.now();
      display.stepStart(n, title, STEPS.length);
      const s = {
        display,
        doing: (text) => display.doing(text),
        check(ok, what, detail) {
          step.checks.push({ ok: ok === true, what, detail: detail ?? '' });
          display.check(ok === true, what, detail);
        },
        fact(name, value) {
          report.facts[name] = value;
        },
      };
      try {
        await body(s, ctx);
      } catch (error) {
        if (error instanceof Interrupted) throw error;
        step.error = error instanceof Error ? error.message : String(error);
        display.line(`  FAIL step ${n} could not go on: ${step.error}`);
        throw error;
      } finally {
        step.seconds = (Date.now() - t0) / 1000;
        display.stepEnd(n, step.seconds, step.error !== undefined || step.checks.some((c) => !c.ok));
      }
    }
  } catch (error) {
    if (error instanceof Interrupted) {
      display.line(`\npsm-demo: ${error.message}; cleaning up`);
      report.error = error.message;
    } else report.error ??= error instanceof Error ? error.message : String(error);
    if (!ctx.removed) {
      await stopNodes(ctx);
      report.leftovers = await removeWork(ctx);
    }
    if (error instanceof Interrupted) {
      report.interrupted = error.signal;
      return report;
    }
  }
  report.leftovers ??= report.facts.leftovers;
  report.seconds = (Date.now() - started) / 1000;
  report.ok = report.error === undefined && report.steps.every((st) => st.checks.every((c) => c.ok));
  display.summary(report.steps, report.seconds);
  display.line(
    report.ok
      ? '\npsm-demo: every check passed'
      : `\npsm-demo: FAILED (${report.steps.flatMap((st) => st.checks.filter((c) => !c.ok).map((c) => `step ${st.n}: ${c.what}`)).join('; ') || report.error})`,
  );
  return report;
}
