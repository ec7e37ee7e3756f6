/**
 * `npm run demo` end to end (issues 14 and 16): the demo itself (`node scripts/demo.mjs`, the built
 * CLI, real QEMU workers, the real OpenSSH client, POP-C++ 2.5's own popcrun) runs its nine steps; its JSON report holds every
 * outcome it printed, and this test asserts each one, refusals included, then looks for itself
 * that nothing of the run is left: no qemu-system process, no socket, no directory. Other runs
 * are interrupted (SIGINT once the daemon runs and a VM exists, SIGTERM during psm rotate-keys,
 * SIGINT while the POP-C++ program runs on the five VMs) and must clean up too.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWorkerImage } from '../helpers/image-vm.js';
import { qemuProcessesLeft, qemuProcessesNaming } from '../helpers/qemu-processes.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const DEMO = resolve('scripts/demo.mjs');
const RUN_MS = 1_500_000;

interface Check {
  ok: boolean;
  what: string;
  detail: string;
}
interface Report {
  ok: boolean;
  work: string;
  error?: string;
  steps: { n: number; title: string; checks: Check[]; error?: string }[];
  facts: Record<string, unknown>;
}
type Ssh = { code: number | null; stdout: string; stderr: string };

interface DemoRun {
  code: number | null;
  stdout: string;
  work: string;
}

/** Runs the demo as a user would; `onLine` sees each stdout line (and may interrupt it). */
function runDemo(args: string[], onLine?: (line: string, child: ReturnType<typeof spawn>) => void) {
  return new Promise<DemoRun>((done, fail) => {
    const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let pending = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      pending += chunk.toString();
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        onLine?.(pending.slice(0, nl), child);
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      const work = /psm-demo: working in (\S+)/.exec(stdout)?.[1] ?? '';
      done({ code, stdout, work });
    });
  });
}

describe('npm run demo: psm main job on real worker VMs', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let run: DemoRun;
  let report: Report;
  const fact = <T>(name: string): T => report.facts[name] as T;

  beforeAll(async () => {
    expect(existsSync(resolve('dist', 'cli', 'main.js')), 'run npm run build first').toBe(true);
    await ensureWorkerImage();
    temp = await makeTempDir('demo-test');
    const reportFile = join(temp.path, 'report.json');
    run = await runDemo(['--report', reportFile]);
    report = JSON.parse(await readFile(reportFile, 'utf8')) as Report;
  }, RUN_MS + 60_000);
  afterAll(async () => {
    await temp?.remove();
  });

  it('exits 0 with every check of the nine steps passed, printed as plain numbered lines and a summary table', () => {
    const failed = report.steps.flatMap((s) =>
      s.checks.filter((c) => !c.ok).map((c) => `${s.n}: ${c.what}: ${c.detail}`),
    );
    expect(failed, run.stdout).toEqual([]);
    expect(report.error, run.stdout).toBeUndefined();
    expect(report.steps.map((s) => s.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([run.code, report.ok]).toEqual([0, true]);
    for (let n = 1; n <= 9; n += 1) expect(run.stdout).toMatch(new RegExp(`^\\[${n}/9\\] `, 'm'));
    expect(run.stdout).toMatch(/^step +what was checked +checks +result +seconds$/m);
    // Not a terminal: no progress line, no escape sequence.
    expect(run.stdout.includes(String.fromCharCode(0x1b)) || run.stdout.includes('\r')).toBe(false);
  });

  it('step 1-2: the policies lint clean; two workers with their own fresh host keys, pinned by name and port', () => {
    expect(fact<{ code: number }>('lint').code).toBe(0);
    const a = fact<{ reserved: string[]; byName: string[]; byPort: string[] }>('pins.app-a');
    const b = fact<{ reserved: string[]; byName: string[]; byPort: string[] }>('pins.app-b');
    for (const pins of [a, b]) {
      expect(pins.reserved.length).toBeGreaterThan(0);
      expect(pins.byName).toEqual(pins.reserved);
      expect(pins.byPort).toEqual(pins.reserved);
    }
    expect(fact('sharedHostKeys')).toEqual([]);
  });

  it('step 3: the allowed object runs, the tunnel to 2711 carries data; a shell, other commands, a foreign key and an impersonating worker are refused', () => {
    expect(fact<Ssh>('hello')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^hello from \S+ \(uid 1000\): demo\n$/),
    });
    const tunnel = fact<{ sent: string; received: string }>('tunnel');
    expect(tunnel.received).toBe(tunnel.sent);
    expect(fact<Ssh>('shell')).toMatchObject({
      code: 126,
      stdout: '',
      stderr: expect.stringMatching(/psm-gate: refused/),
    });
    const refused = fact<Record<string, Ssh>>('refused');
    expect(Object.keys(refused)).toEqual(['/bin/sh -c id', 'id', 'popcobjrun /bin/sh']);
    for (const outcome of Object.values(refused)) expect([outcome.code, outcome.stdout]).toEqual([126, '']);
    expect(fact<{ accepted: boolean }>('crossKey').accepted).toBe(false);
    const impersonations = Object.values(fact<Record<string, Ssh>>('impersonation'));
    expect(impersonations).toHaveLength(2);
    for (const outcome of impersonations) {
      expect(outcome.code).toBe(255);
      expect(outcome.stderr).toMatch(/Host key verification failed/);
    }
  });

  it("step 4: psm run-main runs the application's main in its worker (exit code and output back), an unknown app is exit 3", () => {
    expect(fact('runMainKnown'), 'psm run-main is not a psm command on this checkout').toBe(true);
    const main = fact<{ code: number; json: { exitCode: number; object: string; stdout: string } }>(
      'runMain',
    );
    expect(main.code).toBe(0);
    expect(main.json).toMatchObject({
      app: 'app-a',
      exitCode: 0,
      stdout: expect.stringMatching(/: main of app-a\n$/),
    });
    expect(fact<{ code: number }>('runMainUnknown').code).toBe(3);
  });

  it("step 5: the old admin key is refused on every worker and the new one accepted; only the free worker's host key changes", () => {
    const rotated = Object.entries(report.facts).filter(([name]) => name.startsWith('rotated.'));
    expect(rotated).toHaveLength(3);
    for (const [, value] of rotated) {
      const r = value as {
        free: boolean;
        oldAccepted: boolean;
        newAccepted: boolean;
        before: string[];
        after: string[];
      };
      expect([r.oldAccepted, r.newAccepted]).toEqual([false, true]);
      if (r.free) expect(r.after.filter((f) => r.before.includes(f))).toEqual([]);
      else expect([...r.after].sort()).toEqual([...r.before].sort());
    }
    expect(rotated.filter(([, v]) => (v as { free: boolean }).free)).toHaveLength(1);
  });

  it('step 6: an injected unrestricted key gives a shell; psm audit finds it (exit 1), --fix removes it, the next audit is clean', () => {
    expect(fact<Ssh>('intruderBefore')).toMatchObject({ code: 0, stdout: expect.stringMatching(/uid=1000/) });
    const found = fact<{ code: number; codes: Record<string, string[]> }>('auditFound');
    expect(found.code).toBe(1);
    const drifted = Object.entries(found.codes).filter(([, codes]) => codes.length > 0);
    expect(drifted).toHaveLength(1);
    expect(drifted[0]?.[1]).toContain('UNKNOWN_KEY');
    expect(fact<{ code: number }>('auditFix').code).toBe(0);
    const again = fact<{ code: number; codes: Record<string, string[]> }>('auditAgain');
    expect([again.code, Object.values(again.codes).flat()]).toEqual([0, []]);
    expect(fact<{ accepted: boolean }>('intruderAfter').accepted).toBe(false);
  });

  it("step 7: app-a's end reverts its worker and refuses its key; the next application gets that worker with the same pinned host key", () => {
    const ended = fact<{ code: number; json: { worker: string; outcome: string } }>('end');
    expect([ended.code, ended.json.outcome]).toEqual([0, 'reverted']);
    expect(fact<{ accepted: boolean }>('endedKey').accepted).toBe(false);
    const reuse = fact<{ worker: string; reserved: string[]; pinned: string[]; before: string[] }>('reuse');
    expect(reuse.worker).toBe(ended.json.worker);
    expect(reuse.reserved).toEqual(reuse.before);
    expect(reuse.pinned).toEqual(reuse.before);
    const free = fact<{ reserved: string[]; pinned: string[] }>('freeReserve');
    expect(free.reserved).toEqual(free.pinned);
  });

  it("step 8: POP-C++'s popcrun runs psmsum, one object in each grid node's worker; the sums are right; the key gets no shell and is refused after psm end", () => {
    const popc = fact<{
      code: number;
      stdout: string;
      objects: { host: string; pid: number; sum: number }[];
      total: number;
      machines: string[];
      workers: Record<string, string>;
      logins: Record<string, number>;
    }>('popc');
    expect(popc.code, popc.stdout).toBe(0);
    // What psmsum printed, line for line: the sums its two objects computed in the workers.
    expect(popc.stdout).toMatch(
      /^object 1 on psm-worker pid \d+: sum=55\nobject 2 on psm-worker pid \d+: sum=210\ntotal=265\n$/,
    );
    expect(popc.objects.map((o) => o.sum)).toEqual([55, 210]);
    expect(popc.total).toBe(265);
    // The guests' host name, not this machine's: the objects did not run on the admin.
    for (const o of popc.objects) expect([o.host, o.host === hostname()]).toEqual(['psm-worker', false]);
    expect(popc.machines).toEqual(['node-1:2712', 'node-2:2713']);
    expect(Object.keys(popc.workers)).toEqual(['node-1', 'node-2']);
    // Each node's worker's own sshd logged exactly one login with the application's key.
    expect(popc.logins).toEqual({ 'node-1': 1, 'node-2': 1 });
    // psm popc tunnel-map wrote each node's entry: its worker, its own pinned known_hosts.
    for (const node of ['node-1', 'node-2']) {
      const added = fact<{ code: number; entry: Record<string, unknown> }>(`popcMap.${node}`);
      expect(added.code).toBe(0);
      expect(added.entry).toMatchObject({
        name: node,
        hostKeyAlias: popc.workers[node],
        knownHostsFile: join(run.work, node, 'var', 'psm', 'known_hosts'),
        callbackPort: 2720,
        appservicePort: 2721,
      });
    }
    const refused = fact<{ code: number; error: { code: string } }>('popcMapRefused');
    expect([refused.code, refused.error.code]).toEqual([4, 'POPC_RSH_NOT_PERMITTED']);
    const shells = fact<Record<string, Ssh>>('popcShell');
    expect(Object.keys(shells)).toEqual(['node-1', 'node-2']);
    for (const shell of Object.values(shells)) expect([shell.code, shell.stdout]).toEqual([126, '']);
    const ended = fact<Record<string, { code: number; outcome: string; accepted: boolean }>>('popcEnd');
    expect(ended).toEqual({
      'node-1': { code: 0, outcome: 'reverted', accepted: false },
      'node-2': { code: 0, outcome: 'reverted', accepted: false },
    });
  });

  it('step 9: the audit log verifies; every daemon stopped on SIGTERM; all five VMs destroyed; nothing of the run is left', async () => {
    expect(fact<{ code: number }>('auditLog').code).toBe(0);
    const shutdown = fact<{ daemonExit: number; daemons: Record<string, number>; destroyed: string[] }>(
      'shutdown',
    );
    expect(shutdown.daemonExit).toBe(0);
    expect(shutdown.daemons).toEqual({ popc: 0, 'node-1': 0, 'node-2': 0 });
    expect(shutdown.destroyed).toHaveLength(5);
    expect(shutdown.destroyed.filter((name) => /^node-[12]\//.test(name))).toHaveLength(2);
    expect(run.work).toMatch(/psm-demo-/);
    expect(existsSync(run.work)).toBe(false);
    expect(await qemuProcessesLeft(run.work)).toEqual([]);
    expect(await processesNaming(run.work)).toEqual([]);
  });
});

/**
 * Runs the demo and sends `signal` once a stdout line matches `when` and `ready` holds (by
 * default: a QEMU of the run is up), looked at every `pollMs`; resolves with the run and how many
 * of its QEMU processes were alive at that moment.
 */
async function interruptedRun(
  when: RegExp,
  signal: NodeJS.Signals,
  { ready = async (work: string) => (await qemuProcessesNaming(work)).length > 0, pollMs = 500 } = {},
) {
  let work = '';
  let watching = false;
  let alive = 0;
  let seen = false;
  const run = await runDemo([], (line, child) => {
    work = /psm-demo: working in (\S+)/.exec(line)?.[1] ?? work;
    if (watching || !when.test(line)) return;
    watching = true;
    void (async () => {
      for (let waited = 0; waited < 300_000 && child.exitCode === null; waited += pollMs) {
        if (await ready(work)) {
          seen = true;
          break;
        }
        await sleep(pollMs);
      }
      alive = (await qemuProcessesNaming(work)).length;
      child.kill(signal);
    })();
  });
  return { run, work, alive, seen };
}

/** The ssh sessions psm's $POPC_RSH holds for the run's objects (ssh ... -R ..., naming the run's known_hosts). */
async function objectSessions(work: string): Promise<number> {
  let found = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(join('/proc', entry, 'cmdline'), 'utf8').catch(() => '')).split('\0');
    if (argv[0] === 'ssh' && argv.includes('-R') && argv.some((a) => a.includes(work))) found += 1;
  }
  return found;
}

/** Live processes (other than QEMU) whose command line names `dir`: the run's ssh sessions, say. */
async function processesNaming(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = await readFile(join('/proc', entry, 'cmdline'), 'utf8').catch(() => '');
    if (argv.includes(dir)) found.push(`${entry}: ${argv.replaceAll('\0', ' ').slice(0, 200)}`);
  }
  return found;
}

async function expectNothingLeft(work: string): Promise<void> {
  expect(work).toMatch(/psm-demo-/);
  expect(await qemuProcessesLeft(work)).toEqual([]);
  expect(await processesNaming(work)).toEqual([]);
  for (const node of ['popc', 'node-1', 'node-2'])
    expect(existsSync(join(work, node, 'var', 'psm', 'psm.sock'))).toBe(false);
  expect(existsSync(work)).toBe(false);
}

describe('npm run demo interrupted', () => {
  it(
    'Ctrl-C (SIGINT) in step 2, the daemon running and a VM up: exit 130, no qemu-system process, socket or directory left',
    async () => {
      // The daemon serves from step 2 on (its pool is cloning); the reserves are in flight.
      const { run, work, alive } = await interruptedRun(/^\[2\/9\]/, 'SIGINT');
      expect(alive).toBeGreaterThan(0);
      expect(run.stdout).toMatch(/interrupted by SIGINT; cleaning up/);
      expect(run.code, run.stdout).toBe(130);
      await expectNothingLeft(work);
    },
    RUN_MS,
  );

  it(
    'SIGTERM while psm rotate-keys runs (step 5): exit 143, nothing left',
    async () => {
      const { run, work, alive } = await interruptedRun(/\$ psm rotate-keys/, 'SIGTERM');
      expect(alive).toBe(3);
      expect(run.stdout).toMatch(/interrupted by SIGTERM; cleaning up/);
      expect(run.code, run.stdout).toBe(143);
      await expectNothingLeft(work);
    },
    RUN_MS,
  );

  it(
    "Ctrl-C (SIGINT) while psmsum's objects run (step 8, five VMs, the objects' ssh sessions up): exit 130, no qemu-system, ssh or other process of the run, no socket or directory left",
    async () => {
      // Once an object's ssh session is up: POP-C++ runs each $POPC_RSH in a process group of
      // its own, so these outlive the client and must be stopped by the cleanup.
      const { run, work, alive, seen } = await interruptedRun(/\$ POPC_RSH=/, 'SIGINT', {
        ready: async (w) => (await objectSessions(w)) > 0,
        pollMs: 50,
      });
      expect(seen, `no object session seen before the run ended:\n${run.stdout}`).toBe(true);
      expect(alive).toBe(5);
      expect(run.stdout).toMatch(/interrupted by SIGINT; cleaning up/);
      expect(run.code, run.stdout).toBe(130);
      await expectNothingLeft(work);
    },
    RUN_MS,
  );
});
