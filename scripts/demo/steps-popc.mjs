// Step 8: a real POP-C++ 2.5 program. psmsum (contrib/popc/programs/psmsum) creates one
// parallel object on each machine it is given, feeds them numbers and prints what each returns;
// POP-C++'s own popcrun runs it on the admin with psm's $POPC_RSH, so each object is started by
// POP-C++'s client through the application's restricted key on a worker of another grid node,
// every connection inside that key's SSH session (docs/popc.md). Then the same key with the real
// ssh: no shell; and after `psm end` on each node, refused. The nodes' daemons and VMs are
// stopped by step 9 (or the cleanup after a failure or Ctrl-C), with the first node's.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { popcPaths } from './image.mjs';
import { run } from './processes.mjs';
import { loginsSeen, NODES, OBJECT_PORTS, reserveOn, startPopcNode, addToTunnelMap } from './popc-nodes.mjs';

const APP = 'psmsum';
const RESULT =
  /^object 1 on (\S+) pid (\d+): sum=(\d+)\nobject 2 on (\S+) pid (\d+): sum=(\d+)\ntotal=(\d+)\n$/;

/** Runs psmsum under popcrun, one object on each of `machines` ("NODE:PORT"). */
async function popcrun(ctx, dir, map, machines) {
  const popc = popcPaths(ctx.popc);
  // The object map: the code file at its path on the workers (the worker image puts it there).
  const objMap = join(dir, 'obj.map');
  await writeFile(objMap, 'Counter x86_64-unknown-Linux /usr/local/popc/objects/psmsum.obj\n');
  const rsh = join(ctx.root, 'bin', 'psm-popc-rsh.js');
  ctx.display.command(
    `POPC_RSH=bin/psm-popc-rsh.js PSM_POPC_TUNNELS=${map.replace(`${ctx.work}/`, '')} POPC_HOST=127.0.0.1 ` +
      `popcrun obj.map psmsum ${machines.join(' ')}`,
  );
  return run(popc.popcrun, [objMap, popc.psmsum, ...machines], {
    timeoutMs: 240_000,
    stop: ctx.stop,
    cwd: dir,
    // popcrun, psmsum and every ssh it starts: one process group, stopped together on Ctrl-C.
    group: true,
    env: {
      // bin/psm-popc-rsh.js is a node script: this node first on PATH.
      PATH: [dirname(process.execPath), '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(delimiter),
      POPC_LOCATION: popc.location,
      POPC_RSH: rsh,
      POPC_HOST: '127.0.0.1',
      POPC_JOBSERVICE: '127.0.0.1:2711',
      PSM_POPC_TUNNELS: map,
    },
  });
}

export async function stepPopc(s, ctx) {
  ctx.popcNodes = [];
  const nodes = [];
  for (const name of NODES) nodes.push(await startPopcNode(s, ctx, name));
  const key = await ctx.tools.keyPair(`${APP}-main-node`);
  const [fingerprint] = await ctx.tools.fingerprints(
    [(await readFile(`${key}.pub`, 'utf8')).trim()],
    `${APP}-main-node-fp`,
  );
  s.doing(`${APP} reserves a worker on each node`);
  await Promise.all(nodes.map((node) => reserveOn(s, node, APP, key)));

  const dir = join(ctx.work, APP);
  await mkdir(dir, { mode: 0o700 });
  const map = join(dir, 'tunnels.json');
  for (const node of nodes) await addToTunnelMap(s, node, APP, map, key);
  // A port the node's policy does not permit never gets into the map.
  const sshd = await nodes[0].tools.psmJson(
    ['popc', 'tunnel-map', APP, '--map', map, '--identity', key, '--object-port', '22'],
    { show: false },
  );
  s.fact('popcMapRefused', { code: sshd.code, error: sshd.json?.error ?? null });
  s.check(
    sshd.code === 4 && sshd.json?.error?.code === 'POPC_RSH_NOT_PERMITTED',
    "an object port the policy's permitOpen does not list (22) is refused (exit 4)",
    sshd.json?.error?.message ?? sshd.stderr.trim(),
  );
  const before = await Promise.all(nodes.map((node) => loginsSeen(node, fingerprint)));
  s.doing(`POP-C++'s popcrun runs ${APP}`);
  const machines = nodes.map((node) => `${node.name}:${OBJECT_PORTS[node.name]}`);
  const ran = await popcrun(ctx, dir, map, machines);
  const after = await Promise.all(nodes.map((node) => loginsSeen(node, fingerprint)));
  for (const line of ran.stdout.trim().split('\n')) s.display.line(`      | ${line}`);
  const m = RESULT.exec(ran.stdout);
  const objects = m ? [1, 4].map((i) => ({ host: m[i], pid: Number(m[i + 1]), sum: Number(m[i + 2]) })) : [];
  const total = m ? Number(m[7]) : null;
  s.fact('popc', {
    code: ran.code,
    stdout: ran.stdout,
    stderr: ran.stderr.slice(-4000),
    objects,
    total,
    admin: hostname(),
    machines,
    workers: Object.fromEntries(nodes.map((n) => [n.name, n.reserved.worker])),
    logins: Object.fromEntries(nodes.map((n, i) => [n.name, after[i] - before[i]])),
  });
  s.check(
    ran.code === 0 && m !== null && objects[0]?.sum === 55 && objects[1]?.sum === 210 && total === 265,
    `popcrun ${APP} exits 0; its objects return sum=55 and sum=210, total=265`,
    m ? `exit ${ran.code}, ${objects.map((o) => o.sum).join(' + ')} = ${total}` : tail(ran),
  );
  s.check(
    objects.length === 2 && objects.every((o) => o.host === 'psm-worker' && o.host !== hostname()),
    `the objects ran in workers (guest host name psm-worker, not this machine's ${hostname()})`,
    objects.map((o) => `${o.host} pid ${o.pid}`).join(', ') || 'no object answered',
  );
  s.check(
    nodes.every((_, i) => after[i] - before[i] === 1),
    "each object was started on its own node's worker (each worker's sshd logged one login with the key)",
    nodes.map((n, i) => `${n.name}/${n.reserved.worker}: ${after[i] - before[i]}`).join(', '),
  );

  const shells = {};
  for (const node of nodes) {
    const shell = await node.tools.ssh(key, node.reserved.ssh.port, ['-T'], { input: 'id\n' });
    shells[node.name] = { code: shell.code, stdout: shell.stdout, stderr: shell.stderr };
    s.check(
      shell.code === 126 && shell.stdout === '',
      `${node.name}: the same key with the real ssh gets no shell`,
      `exit ${shell.code}, ${(shell.stdout + shell.stderr).trim()}`,
    );
  }
  s.fact('popcShell', shells);

  s.doing(`${APP} ends on both nodes`);
  const ended = {};
  for (const node of nodes) {
    const end = await node.tools.psmJson(['end', APP]);
    const gone = await node.tools.keyAccepted(key, node.reserved.ssh.port);
    ended[node.name] = {
      code: end.code,
      outcome: end.json?.outcome ?? null,
      accepted: gone.accepted ?? null,
    };
    s.check(
      end.code === 0 && gone.accepted === false,
      `${node.name}: psm end ${APP} (${end.json?.outcome ?? 'failed'}); the key is refused`,
      gone.stderr.trim() || end.stderr.trim(),
    );
  }
  s.fact('popcEnd', ended);
}

function tail(ran) {
  return `exit ${ran.code}: ${`${ran.stdout}\n${ran.stderr}`.trim().split('\n').slice(-5).join(' | ')}`;
}
