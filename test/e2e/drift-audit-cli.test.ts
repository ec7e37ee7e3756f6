/**
 * `psm audit` on a real worker: clean after key exchange, and each kind of drift, injected into
 * the guest the way an intruder or a careless admin would (`psm vm exec` / `psm vm copy-in`),
 * is found with its code and nothing else; `--fix` brings the worker back and the next audit
 * is clean again.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../src/common/run-program.js';
import { generateSshKeyPair } from '../../src/authorized-keys/keys/index.js';
import { defaultVmDirectory } from '../../src/guest-ops/driver-factory.js';
import {
  grantApplication,
  GUEST_AUTHORIZED_KEYS,
  installAdminKey,
  keysRecordPath,
  type KeyExchangeSettings,
} from '../../src/psm/key-exchange/index.js';
import { PSM_SSHD_CONFIG_PATH } from '../../src/psm/host-keys/sshd-config.js';
import { QEMU_USER_ADMIN_ADDRESS } from '../../src/vault/schema.js';
import { bootPreparedWorker, BOOT_MS, makeKeyxLocation, type KeyxLocation } from '../helpers/keyx-worker.js';

const PSM = resolve('bin/psm.js');
const NAME = 'au1';
const OP_MS = 120_000;
const ADMIN_GATE = '/usr/local/libexec/psm/gate-admin';

let at: KeyxLocation;
let vmDir: string;
let settings: KeyExchangeSettings;

async function psm(args: readonly string[]) {
  const ran = await runProgram(process.execPath, [PSM, ...args], { timeoutMs: 200_000 });
  return { code: ran.exitCode, stdout: ran.stdout.toString(), stderr: ran.stderr.toString() };
}

async function vm(args: readonly string[]): Promise<string> {
  const ran = await psm(['vm', args[0] ?? '', NAME, '--vm-dir', vmDir, ...args.slice(1)]);
  if (ran.code !== 0) throw new Error(`psm vm ${args.join(' ')}: ${ran.stderr}`);
  return ran.stdout;
}

const exec = (path: string, ...argv: string[]) => vm(['exec', '--', path, ...argv]);

async function copyOut(guestPath: string): Promise<string> {
  const file = join(at.location, 'copied');
  await vm(['copy-out', guestPath, file, '--force']);
  return readFile(file, 'utf8');
}

async function copyIn(text: string, guestPath: string, mode: string): Promise<void> {
  const file = join(at.location, 'to-copy');
  await writeFile(file, text);
  await vm(['copy-in', file, guestPath, '--mode', mode, '--owner', '0:0']);
}

interface Report {
  ok: boolean;
  findings: number;
  workers: { worker: string; findings: { code: string }[]; fixed?: { what: string; ok: boolean }[] }[];
}

async function audit(...extra: string[]): Promise<{ code: number | null; report: Report; codes: string[] }> {
  const ran = await psm(['audit', '--location', at.location, '--json', ...extra]);
  const report = JSON.parse(ran.stdout) as Report;
  const codes = [...new Set(report.workers.flatMap((w) => w.findings.map((f) => f.code)))].sort();
  return { code: ran.code, report, codes };
}

/** Drift is found with exactly `codes`; --fix leaves a clean worker; the next audit is clean. */
async function expectFoundAndFixed(codes: string[]): Promise<void> {
  const found = await audit();
  expect([found.code, found.codes]).toEqual([1, [...codes].sort()]);
  const fixed = await audit('--fix');
  expect([fixed.code, fixed.codes], JSON.stringify(fixed.report.workers[0]?.fixed)).toEqual([0, []]);
  const again = await audit();
  expect([again.code, again.codes]).toEqual([0, []]);
}

async function editKeys(edit: (lines: string[]) => string[]): Promise<void> {
  const lines = (await copyOut(GUEST_AUTHORIZED_KEYS)).split('\n').filter((l) => l !== '');
  await copyIn(`${edit(lines).join('\n')}\n`, GUEST_AUTHORIZED_KEYS, '0644');
}

const adminLine = (lines: string[]): string => lines.find((l) => l.includes('role=admin')) ?? '';

beforeAll(async () => {
  at = await makeKeyxLocation('drift');
  vmDir = defaultVmDirectory(at.location);
  const worker = await bootPreparedWorker(at, NAME);
  settings = {
    location: at.location,
    policies: at.policies,
    adminAddress: QEMU_USER_ADMIN_ADDRESS,
    audit: at.audit,
  };
  try {
    const admin = await installAdminKey(settings, worker, await readFile(`${at.adminKeyFile}.pub`, 'utf8'));
    if (!admin.ok) throw new Error(admin.error.message);
    const main = generateSshKeyPair('ed25519', 'main');
    const initiator = generateSshKeyPair('ed25519', 'initiator');
    const granted = await grantApplication(settings, worker, 'app-7', {
      mainNode: main.publicKey,
      initiator: [initiator.publicKey],
    });
    if (!granted.ok) throw new Error(granted.error.message);
  } finally {
    await worker.close();
  }
}, BOOT_MS + 60_000);

afterAll(async () => {
  await at?.remove();
}, 60_000);

describe('psm audit on a real worker', () => {
  it(
    'is clean on a freshly prepared worker with keys exchanged (exit 0, no finding)',
    async () => {
      const clean = await audit();
      expect([clean.code, clean.report.ok, clean.codes]).toEqual([0, true, []]);
      expect(clean.report.workers.map((w) => w.worker)).toEqual([NAME]);
    },
    OP_MS,
  );

  it(
    'finds a key psm did not grant (UNKNOWN_KEY)',
    async () => {
      const stranger = generateSshKeyPair('ed25519', 'stranger').publicKey.trim();
      await editKeys((lines) => [...lines, `restrict,command="/bin/true" ${stranger}`]);
      await expectFoundAndFixed(['UNKNOWN_KEY']);
    },
    OP_MS,
  );

  it(
    "finds the agent's unrestricted duplicate of a granted key (DUPLICATE_KEY, LINE_WITHOUT_RESTRICT, OPTIONS_DIFFER)",
    async () => {
      await editKeys((lines) => {
        const [, type, base64] = /(ssh-ed25519) (\S+)/.exec(adminLine(lines)) ?? [];
        return [...lines, `${type} ${base64} added-by-guest-agent`];
      });
      await expectFoundAndFixed(['DUPLICATE_KEY', 'LINE_WITHOUT_RESTRICT', 'OPTIONS_DIFFER']);
    },
    OP_MS,
  );

  it(
    'finds a granted key whose options were widened (OPTIONS_DIFFER)',
    async () => {
      await editKeys((lines) =>
        lines.map((l) => (l.includes('role=admin') ? l.replace('127.0.0.1:2711', '127.0.0.1:22') : l)),
      );
      await expectFoundAndFixed(['OPTIONS_DIFFER']);
    },
    OP_MS,
  );

  it(
    "finds a granted key's changed comment (COMMENT_DIFFERS)",
    async () => {
      await editKeys((lines) =>
        lines.map((l) => (l.includes('role=admin') ? l.replace(/ psm role=admin .*$/, ' harmless') : l)),
      );
      await expectFoundAndFixed(['COMMENT_DIFFERS']);
    },
    OP_MS,
  );

  it(
    'finds an exact duplicate line (DUPLICATE_KEY)',
    async () => {
      await editKeys((lines) => [...lines, adminLine(lines)]);
      await expectFoundAndFixed(['DUPLICATE_KEY']);
    },
    OP_MS,
  );

  it(
    'finds a line sshd cannot read (INVALID_LINE)',
    async () => {
      await editKeys((lines) => [...lines, 'ssh-ed25519 not-base64!']);
      await expectFoundAndFixed(['INVALID_LINE']);
    },
    OP_MS,
  );

  it(
    'finds a granted key that is gone (MISSING_KEY)',
    async () => {
      await editKeys((lines) => lines.filter((l) => !l.includes('role=main-node')));
      await expectFoundAndFixed(['MISSING_KEY']);
    },
    OP_MS,
  );

  it(
    'finds the whole file gone (FILE_MISSING)',
    async () => {
      await exec('/bin/rm', '-f', GUEST_AUTHORIZED_KEYS);
      await expectFoundAndFixed(['FILE_MISSING']);
    },
    OP_MS,
  );

  it(
    'finds authorized_keys writable by others, and its directory owned by the user (MODE_OR_OWNER_WRONG)',
    async () => {
      await exec('/bin/chmod', '666', GUEST_AUTHORIZED_KEYS);
      await exec('/bin/chown', '1000:1000', '/persist/etc/ssh/authorized_keys');
      await expectFoundAndFixed(['MODE_OR_OWNER_WRONG']);
    },
    OP_MS,
  );

  it(
    "finds an edited sshd config (SSHD_CONFIG_CHANGED), and --fix restarts sshd with psm's",
    async () => {
      const config = await copyOut(PSM_SSHD_CONFIG_PATH);
      await copyIn(`${config}AllowAgentForwarding yes\n`, PSM_SSHD_CONFIG_PATH, '0644');
      await expectFoundAndFixed(['SSHD_CONFIG_CHANGED']);
      expect(await copyOut(PSM_SSHD_CONFIG_PATH)).toBe(config);
    },
    OP_MS,
  );

  it(
    'finds an edited gate (GATE_CHANGED) and a gate made writable (MODE_OR_OWNER_WRONG)',
    async () => {
      const gate = await copyOut(ADMIN_GATE);
      await copyIn(gate.replace('set -f', 'set -f\nid'), ADMIN_GATE, '0755');
      await expectFoundAndFixed(['GATE_CHANGED']);
      await exec('/bin/chmod', '777', ADMIN_GATE);
      await expectFoundAndFixed(['MODE_OR_OWNER_WRONG']);
      expect(await copyOut(ADMIN_GATE)).toBe(gate);
    },
    OP_MS,
  );

  it(
    'finds a host key that is not the pinned one (HOST_KEY_NOT_PINNED); --fix does not pin it',
    async () => {
      // prepare names its key file by generation: the one sshd uses is in psm's config.
      const HOST_KEY = /^HostKey (\S+)$/m.exec(await copyOut(PSM_SSHD_CONFIG_PATH))?.[1] ?? '';
      expect(HOST_KEY).toMatch(/^\/persist\/etc\/ssh\/psm_host_ed25519_key-/);
      await exec('/bin/cp', '-p', HOST_KEY, '/persist/etc/ssh/kept-key');
      await exec('/usr/bin/ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', '/persist/etc/ssh/other-key');
      await exec('/bin/mv', '-f', '/persist/etc/ssh/other-key', HOST_KEY);
      const found = await audit();
      expect([found.code, found.codes]).toEqual([1, ['HOST_KEY_NOT_PINNED']]);
      const fixed = await audit('--fix');
      expect([fixed.code, fixed.codes]).toEqual([1, ['HOST_KEY_NOT_PINNED']]);
      await exec('/bin/mv', '-f', '/persist/etc/ssh/kept-key', HOST_KEY);
      expect((await audit()).codes).toEqual([]);
    },
    OP_MS,
  );

  it(
    "finds an application's expired keys (EXPIRED_LINE); --fix revokes that grant",
    async () => {
      const opened = await at.driver.openWorker(NAME);
      if (!opened.ok) throw new Error(opened.error.message);
      try {
        const old = { ...settings, now: () => new Date(Date.now() - 8 * 86_400_000) };
        const main = generateSshKeyPair('ed25519', 'late');
        const granted = await grantApplication(old, opened.value, 'app-old', {
          mainNode: main.publicKey,
          initiator: [],
        });
        expect(granted.ok, granted.ok ? '' : granted.error.message).toBe(true);
      } finally {
        await opened.value.close();
      }
      await expectFoundAndFixed(['EXPIRED_LINE']);
      const record = JSON.parse(await readFile(keysRecordPath(at.location, NAME), 'utf8')) as {
        applications: { appId: string }[];
      };
      expect(record.applications.map((a) => a.appId)).toEqual(['app-7']);
    },
    OP_MS,
  );

  it(
    'reports a worker psm holds no intended keys for (NO_INTENDED_STATE) and one it cannot reach (WORKER_UNREACHABLE)',
    async () => {
      const record = keysRecordPath(at.location, NAME);
      await rename(record, `${record}.aside`);
      try {
        const found = await audit();
        expect([found.code, found.codes]).toEqual([1, ['NO_INTENDED_STATE']]);
      } finally {
        await rename(`${record}.aside`, record);
      }
      const missing = await audit('--workers', 'no-such-worker');
      expect([missing.code, missing.codes]).toEqual([1, ['WORKER_UNREACHABLE']]);
      expect((await audit()).codes).toEqual([]);
    },
    OP_MS,
  );

  it(
    'records every run in the audit log, which still verifies',
    async () => {
      const verified = await psm(['audit-log', 'verify', '--location', at.location, '--json']);
      expect(verified.code, verified.stderr).toBe(0);
      const log = await readFile(join(at.location, 'var', 'psm', 'audit.log'), 'utf8');
      const actions = log
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { action: string }).action);
      expect(actions).toEqual(
        expect.arrayContaining([
          'key-exchange.admin-install',
          'key-exchange.grant',
          'audit.run',
          'audit.fix',
        ]),
      );
    },
    OP_MS,
  );
});
