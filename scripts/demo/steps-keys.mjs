// Steps 5 and 6: `psm rotate-keys --admin --host-keys` over the workers (the old admin key is
// refused afterwards, the new host keys are pinned and strict ssh still connects), then a drift
// an intruder would leave (an unrestricted key in authorized_keys) found by `psm audit` and
// undone by `psm audit --fix`.
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HELLO } from './steps-ssh.mjs';

const AUTHORIZED_KEYS = '/persist/etc/ssh/authorized_keys/popc';

export async function stepRotate(s, ctx) {
  const { psmJson, keyAccepted, pinned, ssh } = ctx.tools;
  const listed = await psmJson(['workers', 'list']);
  const all = (listed.json?.workers ?? []).map((w) => ({ worker: w.name, app: w.app ?? null, ssh: w.ssh }));
  const held = [ctx.apps['app-a'], ctx.apps['app-b']];
  const free = all.filter((w) => w.app === null && w.ssh !== null && w.ssh !== undefined);
  s.check(
    all.length === 3 && free.length === 1,
    'three workers: two held by applications, one free',
    all.map((w) => `${w.worker}${w.app ? ` (${w.app})` : ' (free)'}`).join(', '),
  );
  const admin = join(ctx.location, 'var', 'psm', 'keys', 'admin_ed25519');
  const old = join(ctx.work, 'keys', 'old-admin');
  await copyFile(admin, old);
  await copyFile(`${admin}.pub`, `${old}.pub`);
  const before = {};
  for (const w of [...held, ...free]) {
    const accepted = await keyAccepted(old, w.ssh.port);
    s.check(
      accepted.accepted === true,
      `the admin key logs in to ${w.worker} before`,
      accepted.accepted === true ? 'accepted (gate)' : accepted.stderr.trim(),
    );
    before[w.worker] = await pinned(w.worker);
  }
  s.doing('psm rotate-keys --admin --host-keys');
  const rotated = await psmJson(['rotate-keys', '--admin', '--host-keys']);
  const r = rotated.json ?? {};
  s.fact('rotate', { code: rotated.code, json: rotated.json ?? null });
  const adminDone =
    r.admin?.phase === 'done' &&
    Object.values(r.admin?.workers ?? {}).length === 3 &&
    Object.values(r.admin.workers).every((v) => v === 'removed');
  s.check(
    adminDone,
    'the admin key is replaced on all three workers, in proven phases',
    `${r.admin?.oldFingerprint ?? '?'} -> ${r.admin?.newFingerprint ?? '?'}, ${r.admin?.logins ?? '?'} proving logins`,
  );
  // A held worker keeps its host key until its application ends: its main node pinned that one.
  const deferred = Object.fromEntries((r.hostKeys?.failed ?? []).map((f) => [f.worker, f]));
  s.check(
    rotated.code === 7 &&
      held.every(
        (w) =>
          deferred[w.worker]?.code === 'ROTATE_INCOMPLETE' &&
          /held by/.test(deferred[w.worker]?.message ?? ''),
      ) &&
      free.every((w) => r.hostKeys?.workers?.[w.worker] === 'done'),
    "host keys: the free worker's are replaced; the held workers' wait until their applications end (exit 7, ROTATE_INCOMPLETE)",
    Object.entries(r.hostKeys?.workers ?? {})
      .map(([w, state]) => `${w} ${state}`)
      .join(', '),
  );
  for (const w of [...held, ...free]) {
    const oldKey = await keyAccepted(old, w.ssh.port);
    const newKey = await keyAccepted(admin, w.ssh.port);
    const after = (await pinned(w.worker)).sort();
    const isFree = free.includes(w);
    s.fact(`rotated.${w.worker}`, {
      free: isFree,
      oldAccepted: oldKey.accepted ?? null,
      newAccepted: newKey.accepted ?? null,
      before: before[w.worker],
      after,
    });
    s.check(oldKey.accepted === false, `the old admin key is refused by ${w.worker}`, oldKey.stderr.trim());
    s.check(
      newKey.accepted === true,
      `the new admin key logs in to ${w.worker}, strict host key checking`,
      newKey.accepted === true ? 'accepted (gate)' : newKey.stderr.trim(),
    );
    const kept = after.filter((f) => before[w.worker].includes(f));
    if (isFree)
      s.check(
        after.length > 0 && kept.length === 0,
        `${w.worker} has new host keys, pinned`,
        after.join(' '),
      );
    else
      s.check(
        JSON.stringify(after) === JSON.stringify([...before[w.worker]].sort()),
        `${w.worker} keeps the host key its application pinned`,
        after.join(' '),
      );
  }
  ctx.freeWorker = free[0];
  const a = ctx.apps['app-a'];
  const strict = await ssh(a.key, a.ssh.port, ['-T', 'popcobjrun', HELLO, 'after-rotation']);
  s.check(
    strict.code === 0,
    "app-a's key still runs its object, no prompt, no warning",
    strict.stdout.trim() || strict.stderr.trim(),
  );
}

export async function stepDrift(s, ctx) {
  const { psm, psmJson, keyPair, ssh, keyAccepted } = ctx.tools;
  const b = ctx.apps['app-b'];
  const vm = (args) => psm(['vm', ...args.slice(0, 1), b.worker, '--vm-dir', ctx.vmDir, ...args.slice(1)]);
  const intruder = await keyPair('intruder');
  const copied = join(ctx.work, 'authorized_keys.copy');
  const out = await vm(['copy-out', AUTHORIZED_KEYS, copied, '--force']);
  if (out.code !== 0) throw new Error(`psm vm copy-out: ${out.stderr}`);
  const lines = (await readFile(copied, 'utf8')).split('\n').filter((l) => l !== '');
  const stranger = (await readFile(`${intruder}.pub`, 'utf8')).trim();
  await writeFile(copied, `${[...lines, stranger].join('\n')}\n`);
  const drifted = await vm(['copy-in', copied, AUTHORIZED_KEYS, '--mode', '0644', '--owner', '0:0']);
  s.check(
    drifted.code === 0,
    `an unrestricted key is slipped into ${b.worker}'s authorized_keys`,
    `${lines.length} psm lines + 1 without "restrict"`,
  );
  const shell = await ssh(intruder, b.ssh.port, ['-T', '/usr/bin/id']);
  s.fact('intruderBefore', { code: shell.code, stdout: shell.stdout });
  s.check(
    shell.code === 0 && /uid=/.test(shell.stdout),
    'the drift is real: that key runs any command',
    shell.stdout.trim() || shell.stderr.trim(),
  );

  s.doing('psm audit');
  const found = await psmJson(['audit']);
  const codesOf = (report) =>
    Object.fromEntries(
      (report?.workers ?? []).map((w) => [w.worker, [...new Set(w.findings.map((f) => f.code))].sort()]),
    );
  const foundCodes = codesOf(found.json);
  s.fact('auditFound', { code: found.code, codes: foundCodes });
  const others = Object.entries(foundCodes).filter(([w, codes]) => w !== b.worker && codes.length > 0);
  s.check(
    found.code === 1 && (foundCodes[b.worker] ?? []).includes('UNKNOWN_KEY') && others.length === 0,
    `psm audit finds it on ${b.worker} only (exit 1)`,
    `${JSON.stringify(foundCodes)}`,
  );
  const fixed = await psmJson(['audit', '--fix']);
  s.fact('auditFix', { code: fixed.code, codes: codesOf(fixed.json) });
  s.check(
    fixed.code === 0,
    'psm audit --fix writes the intended keys back (exit 0)',
    JSON.stringify(codesOf(fixed.json)),
  );
  const again = await psmJson(['audit']);
  s.fact('auditAgain', { code: again.code, codes: codesOf(again.json) });
  s.check(
    again.code === 0 && Object.values(codesOf(again.json)).every((c) => c.length === 0),
    'a second psm audit is clean (exit 0)',
    `${(again.json?.workers ?? []).length} worker(s), ${again.json?.findings ?? '?'} finding(s)`,
  );
  const after = await keyAccepted(intruder, b.ssh.port);
  s.fact('intruderAfter', { accepted: after.accepted ?? null });
  s.check(after.accepted === false, "the intruder's key is refused now", after.stderr.trim());
}
