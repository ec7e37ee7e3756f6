// Step 7: the first application ends (its key refused, its worker reverted and given to the next
// application with the same pinned host key).
import { HELLO } from './steps-ssh.mjs';

export async function stepEnd(s, ctx) {
  const { psmJson, keyPair, keyAccepted, fingerprints, pinned, ssh } = ctx.tools;
  const a = ctx.apps['app-a'];
  const b = ctx.apps['app-b'];
  // app-c takes the pool's last free worker, so max_vms 3 is reached and app-d can only get
  // app-a's worker once it is reverted.
  const keyC = await keyPair('app-c');
  const c = await psmJson(['reserve', 'app-c', '--key', `${keyC}.pub`, '--wait', '900']);
  s.check(
    c.code === 0 && c.json.worker !== a.worker && c.json.worker !== b.worker,
    'app-c takes the third worker (the pool is now full)',
    c.json?.worker ?? c.stderr.trim(),
  );

  if (c.code === 0) {
    const cPrints = (await fingerprints(c.json.hostKeys, 'host-app-c')).sort();
    const cPinned = (await pinned(c.json.worker)).sort();
    s.fact('freeReserve', { worker: c.json.worker, reserved: cPrints, pinned: cPinned });
    s.check(
      JSON.stringify(cPrints) === JSON.stringify(cPinned),
      `the reserve answer names ${c.json.worker}'s pinned host key (rotated in step 5)`,
      cPinned.join(' '),
    );
    const cRuns = await ssh(keyC, c.json.ssh.port, ['-T', 'popcobjrun', HELLO, 'app-c']);
    s.check(
      cRuns.code === 0,
      "app-c's key runs the object there, strict host key checking",
      cRuns.stdout.trim() || cRuns.stderr.trim(),
    );
  }

  s.doing('app-a ends');
  const ended = await psmJson(['end', 'app-a']);
  s.fact('end', { code: ended.code, json: ended.json ?? null });
  s.check(
    ended.code === 0 && ended.json?.worker === a.worker && ended.json?.outcome === 'reverted',
    `psm end app-a: ${a.worker} reverted to its clean snapshot`,
    JSON.stringify(ended.json ?? ended.stderr.trim()),
  );
  const gone = await keyAccepted(a.key, a.ssh.port);
  s.fact('endedKey', { accepted: gone.accepted ?? null, stderr: gone.stderr });
  s.check(gone.accepted === false, "app-a's key is refused by its former worker", gone.stderr.trim());

  const keyD = await keyPair('app-d');
  const d = await psmJson(['reserve', 'app-d', '--key', `${keyD}.pub`, '--wait', '900']);
  const dPrints = d.code === 0 ? (await fingerprints(d.json.hostKeys, 'host-app-d')).sort() : [];
  const pinnedNow = (await pinned(a.worker)).sort();
  s.fact('reuse', {
    worker: d.json?.worker ?? null,
    reserved: dPrints,
    pinned: pinnedNow,
    before: a.fingerprints,
  });
  s.check(
    d.code === 0 && d.json.worker === a.worker,
    `app-d gets ${a.worker} again`,
    d.json?.worker ?? d.stderr.trim(),
  );
  s.check(
    JSON.stringify(pinnedNow) === JSON.stringify(a.fingerprints) &&
      JSON.stringify(dPrints) === JSON.stringify(a.fingerprints),
    `${a.worker} keeps its pinned host key across the revert`,
    pinnedNow.join(' '),
  );
  const runs = await ssh(keyD, d.json?.ssh?.port ?? a.ssh.port, ['-T', 'popcobjrun', HELLO, 'app-d']);
  s.check(
    runs.code === 0,
    "app-d's key runs the object there, strict host key checking",
    runs.stdout.trim() || runs.stderr.trim(),
  );
  const stillGone = await keyAccepted(a.key, a.ssh.port);
  s.check(stillGone.accepted === false, "app-a's key stays refused there", stillGone.stderr.trim());
}
