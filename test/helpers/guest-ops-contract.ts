/**
 * The guest-operations driver contract, written once against the interfaces in
 * src/guest-ops/guest-ops.ts. A driver's test file supplies a harness (driver, template, and the
 * few things only the hypervisor side can do) and calls `defineGuestOpsContract`.
 *
 * It keeps the number of boots at two (two linked clones, booted concurrently) because the VM
 * part must stay under 3 minutes on a 2-core machine under TCG.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLEAN_SNAPSHOT,
  type GuestCommand,
  type GuestOpsDriver,
  type Worker,
  type WorkerTemplate,
} from '../../src/guest-ops/guest-ops.js';

export interface ContractHarness {
  readonly driver: GuestOpsDriver;
  readonly template: WorkerTemplate;
  /** A POSIX printf in the guest (argv prefix included, e.g. busybox + 'printf'). */
  readonly printf: GuestCommand;
  /** A program copying stdin to stdout. */
  readonly cat: GuestCommand;
  /** sleep SECONDS, and a ps that lists every process with its arguments (`ps -o pid,args`). */
  readonly sleep: GuestCommand;
  readonly ps: GuestCommand;
  /** A writable directory on the clone's own disk, and one in guest RAM. */
  readonly diskDir: string;
  readonly ramDir: string;
  /** Makes the worker's agent hang (QEMU: QMP `stop` pauses the vCPUs), and undoes it. */
  freezeGuest(worker: Worker): Promise<void>;
  thawGuest(worker: Worker): Promise<void>;
  /** A digest of the template's disk: clones must never change it. */
  templateFingerprint(): Promise<string>;
  /** What the driver left on the host (processes, sockets, files): must be empty after destroy. */
  leftovers(): Promise<string[]>;
  cleanup(): Promise<void>;
}

const BOOT_MS = 150_000;
const OP_MS = 60_000;

export interface ContractOptions {
  /**
   * False when the hypervisor under test serves the lifecycle but not guest operations (govmomi's
   * simulator with no container behind the VM): the guest-operation tests are then not defined,
   * and the tests that mix both keep only their lifecycle assertions. Default true.
   */
  readonly guestOperations?: boolean;
}

export function defineGuestOpsContract(
  name: string,
  setup: () => Promise<ContractHarness>,
  options: ContractOptions = {},
): void {
  const guestOps = options.guestOperations !== false;
  /** A test of guest operations: defined only when the harness has them. */
  const guestIt = guestOps ? it : ((() => undefined) as unknown as typeof it);
  describe(`guest-ops contract: ${name}${guestOps ? '' : ' (lifecycle)'}`, () => {
    let h: ContractHarness;
    let a: Worker;
    let b: Worker;
    let baseFingerprint = '';
    const names = [
      `ct-a-${randomBytes(3).toString('hex')}`,
      `ct-b-${randomBytes(3).toString('hex')}`,
    ] as const;

    beforeAll(async () => {
      h = await setup();
      baseFingerprint = await h.templateFingerprint();
    });

    afterAll(async () => {
      // Whatever failed above, leave no VM behind.
      for (const worker of names) await h?.driver.destroyWorker(worker);
      await h?.cleanup();
    }, 60_000);

    async function run(worker: Worker, cmd: GuestCommand, args: string[], stdin?: Uint8Array) {
      const ran = await worker.runProgram(cmd.path, [...cmd.argv, ...args], {
        timeoutMs: OP_MS,
        ...(stdin ? { stdin } : {}),
      });
      if (!ran.ok) throw new Error(`${ran.error.code}: ${ran.error.message}`);
      return ran.value;
    }

    it(
      'boots two linked clones of one template concurrently, and both agents answer',
      async () => {
        const clones = await Promise.all(names.map((n) => h.driver.cloneWorker(n, h.template)));
        for (const clone of clones) expect(clone.ok, clone.ok ? '' : clone.error.message).toBe(true);
        [a, b] = clones.map((c) => (c.ok ? c.value : undefined)) as [Worker, Worker];
        const started = await Promise.all([a.powerOn(), b.powerOn()]);
        expect(started.map((s) => s.ok)).toEqual([true, true]);
        const agents = await Promise.all([
          a.waitForAgent({ timeoutMs: BOOT_MS }),
          b.waitForAgent({ timeoutMs: BOOT_MS }),
        ]);
        expect(agents.map((r) => (r.ok ? 'ok' : r.error.message))).toEqual(['ok', 'ok']);
        for (const worker of [a, b]) {
          const status = await worker.status({ probeAgent: true });
          expect(status.ok && { power: status.value.power, agent: status.value.agent }).toEqual({
            power: 'running',
            agent: 'ready',
          });
        }
        const listed = await h.driver.listWorkers();
        expect(
          listed.ok && listed.value.filter((w) => names.includes(w.name as (typeof names)[number])).length,
        ).toBe(2);
      },
      BOOT_MS * 2,
    );

    it(
      'reads each clone’s IP address',
      async () => {
        for (const worker of [a, b]) {
          const address = await worker.readAddress();
          expect(address.ok, address.ok ? '' : address.error.message).toBe(true);
          if (address.ok)
            expect(address.value.family === 'ipv4' ? address.value.address : '').toMatch(
              /^\d+\.\d+\.\d+\.\d+$/,
            );
        }
      },
      OP_MS,
    );

    guestIt(
      'passes argv verbatim: spaces, quotes, ;, $(...), backquotes and newlines (no shell anywhere)',
      async () => {
        const args = [
          'a b',
          `"double" 'single'`,
          'x; echo injected',
          '$(echo injected)',
          '`echo injected`',
          'one\ntwo',
          '',
          '*',
          '$HOME',
          '\\n%s',
        ];
        const out = await run(a, h.printf, ['<%s>\\n', ...args]);
        expect(out.exitCode).toBe(0);
        expect(Buffer.from(out.stdout).toString('utf8')).toBe(args.map((x) => `<${x}>\n`).join(''));
      },
      OP_MS,
    );

    guestIt(
      'feeds stdin, and reports exit codes and stderr',
      async () => {
        const data = randomBytes(3000);
        const echoed = await run(a, h.cat, [], data);
        expect(Buffer.from(echoed.stdout).equals(data)).toBe(true);
        const failed = await run(a, h.cat, [`${h.diskDir}/does-not-exist`]);
        expect(failed.exitCode).not.toBe(0);
        expect(Buffer.from(failed.stderr).toString('utf8')).toContain('does-not-exist');
      },
      OP_MS,
    );

    guestIt(
      'writes files with their modes and owner, and reads them back identical',
      async () => {
        const binary = Buffer.concat([
          Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
          randomBytes(1536 * 1024),
        ]);
        const cases = [
          { path: `${h.diskDir}/contract-0600.bin`, data: binary, mode: 0o600, owner: { uid: 0, gid: 0 } },
          {
            path: `${h.ramDir}/contract-0755`,
            data: Buffer.from('#!/bin/sh\n'),
            mode: 0o755,
            owner: { uid: 1000, gid: 1000 },
          },
          {
            path: `${h.diskDir}/contract-0444`,
            data: Buffer.alloc(0),
            mode: 0o444,
            owner: { uid: 0, gid: 0 },
          },
        ];
        for (const c of cases) {
          const put = await a.copyToGuest(c.data, c.path, { mode: c.mode, owner: c.owner, timeoutMs: OP_MS });
          expect(put.ok, put.ok ? '' : put.error.message).toBe(true);
          const got = await a.copyFromGuest(c.path, { timeoutMs: OP_MS });
          expect(got.ok, got.ok ? '' : got.error.message).toBe(true);
          if (!got.ok) continue;
          expect(Buffer.from(got.value.data).equals(c.data)).toBe(true);
          expect(got.value.mode.toString(8)).toBe(c.mode.toString(8));
          expect(got.value.owner).toEqual(c.owner);
        }
        // Overwriting replaces the file (atomically) and takes the new mode.
        const again = await a.copyToGuest(Buffer.from('v2'), cases[0]!.path, {
          mode: 0o640,
          timeoutMs: OP_MS,
        });
        expect(again.ok).toBe(true);
        const v2 = await a.copyFromGuest(cases[0]!.path);
        expect(v2.ok && [Buffer.from(v2.value.data).toString(), v2.value.mode]).toEqual(['v2', 0o640]);
      },
      OP_MS * 2,
    );

    guestIt(
      'keeps clones apart: a write in clone A is invisible in clone B and in the template',
      async () => {
        const path = `${h.diskDir}/only-in-a`;
        expect((await a.copyToGuest(Buffer.from('A'), path)).ok).toBe(true);
        const inB = await b.copyFromGuest(path);
        expect(inB.ok).toBe(false);
        const listing = await run(b, h.printf, ['%s', 'B is alive']);
        expect(Buffer.from(listing.stdout).toString()).toBe('B is alive');
        expect(await h.templateFingerprint()).toBe(baseFingerprint);
      },
      OP_MS,
    );

    it(
      guestOps
        ? 'reverts to the clean snapshot: later writes are gone, earlier ones stay, the agent and IP work'
        : 'reverts to the clean snapshot: the agent and IP work, bad names are refused',
      async () => {
        const before = `${h.diskDir}/before-snapshot`;
        const after = [`${h.diskDir}/after-snapshot`, `${h.ramDir}/after-snapshot`];
        if (guestOps) expect((await a.copyToGuest(Buffer.from('kept'), before)).ok).toBe(true);
        const snap = await a.takeSnapshot(CLEAN_SNAPSHOT, { timeoutMs: OP_MS });
        expect(snap.ok, snap.ok ? '' : snap.error.message).toBe(true);
        if (guestOps)
          for (const path of after) expect((await a.copyToGuest(Buffer.from('dirty'), path)).ok).toBe(true);
        const reverted = await a.revertToSnapshot(CLEAN_SNAPSHOT, { timeoutMs: OP_MS });
        expect(reverted.ok, reverted.ok ? '' : reverted.error.message).toBe(true);
        if (guestOps) {
          for (const path of after) expect((await a.copyFromGuest(path)).ok).toBe(false);
          const kept = await a.copyFromGuest(before);
          expect(kept.ok && Buffer.from(kept.value.data).toString()).toBe('kept');
        }
        expect((await a.readAddress()).ok).toBe(true);
        const bad = await a.revertToSnapshot('no-such-snapshot');
        expect(!bad.ok && bad.error.code).toBe('SNAPSHOT_FAILED');
        // A failed revert leaves the worker as it was: running, agent answering.
        const still = await a.status({ probeAgent: true });
        expect(still.ok && [still.value.power, still.value.agent]).toEqual(['running', 'ready']);
        const refused = await a.takeSnapshot('bad name; quit');
        expect(!refused.ok && refused.error.code).toBe('INVALID_ARGUMENT');
      },
      OP_MS * 2,
    );

    guestIt(
      "kills a program that runs over its timeout, and stops on the caller's AbortSignal",
      async () => {
        const slow = await a.runProgram(h.sleep.path, [...h.sleep.argv, '300'], { timeoutMs: 1_500 });
        expect(!slow.ok && slow.error.code).toBe('GUEST_PROGRAM_TIMEOUT');
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 500);
        const aborted = await a.runProgram(h.sleep.path, [...h.sleep.argv, '301'], {
          timeoutMs: OP_MS,
          signal: controller.signal,
        });
        expect(!aborted.ok && aborted.error.code).toBe('ABORTED');
        // Both were killed in the guest, not left running. The listing must show itself, or an
        // empty answer (a missing applet) would pass for "nothing left".
        const listed = Buffer.from((await run(a, h.ps, [])).stdout).toString();
        expect(listed).toMatch(/ps -o pid,args/);
        expect(listed).not.toMatch(/sleep 30[01]\b/);
      },
      OP_MS,
    );

    it(
      'times out on a hung agent with a coded error instead of hanging, and recovers',
      async () => {
        await h.freezeGuest(b);
        try {
          if (guestOps) {
            const hung = await b.runProgram(h.cat.path, h.cat.argv, { timeoutMs: 2_000 });
            expect(!hung.ok && hung.error.code).toBe('AGENT_TIMEOUT');
          }
          const ip = await b.readAddress({ timeoutMs: 1_500 });
          expect(!ip.ok && ip.error.code).toBe('AGENT_TIMEOUT');
        } finally {
          await h.thawGuest(b);
        }
        if (guestOps) {
          const after = await run(b, h.printf, ['%s', 'back']);
          expect(Buffer.from(after.stdout).toString()).toBe('back');
        } else {
          expect((await b.waitForAgent({ timeoutMs: OP_MS })).ok).toBe(true);
        }
      },
      OP_MS,
    );

    it('powers off (clean ACPI shutdown for one, hard stop for the other)', async () => {
      const clean = await a.powerOff({ graceMs: 60_000, timeoutMs: 90_000 });
      expect(clean.ok, clean.ok ? '' : clean.error.message).toBe(true);
      const hard = await b.powerOff({ graceMs: 0 });
      expect(hard.ok).toBe(true);
      for (const worker of [a, b]) {
        const status = await worker.status();
        expect(status.ok && status.value.power).toBe('stopped');
        const ran = await worker.runProgram(h.cat.path, h.cat.argv, { timeoutMs: 2_000 });
        expect(!ran.ok && ran.error.code).toBe('WORKER_NOT_RUNNING');
      }
    }, 120_000);

    it(
      'destroys both clones and leaves no process, socket or file behind',
      async () => {
        for (const worker of names)
          expect(await h.driver.destroyWorker(worker)).toEqual({ ok: true, value: undefined });
        const gone = await h.driver.openWorker(names[0]);
        expect(!gone.ok && gone.error.code).toBe('WORKER_NOT_FOUND');
        expect(await h.leftovers()).toEqual([]);
        expect(await h.templateFingerprint()).toBe(baseFingerprint);
      },
      OP_MS,
    );
  });
}
