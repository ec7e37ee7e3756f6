/**
 * Issue 3's proof against the real Debian sshd: the test user's authorized_keys is rendered by psm
 * from the shipped policies (only the worker paths, the tunnel port and `from` are pointed at this
 * test's temp dir and 127.0.0.1), the key's forced command is the generated gate, and popcobjrun
 * is a stand-in that records its argv. The server itself allows forwarding, agent, X11, pty and
 * user-rc, so every refusal seen here comes from the key's restrictions. The last test checks
 * that every CAN and CANNOT statement `psm policy explain` makes for these policies was shown true
 * by one of the probes (each probe records the kind of statement it proved).
 */
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Client, type ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { readKeyField } from '../../src/authorized-keys/index.js';
import { generateGate, GATE_REFUSED_EXIT } from '../../src/psm/gate/index.js';
import { explainPolicy, parsePolicy, type KeyPolicy } from '../../src/psm/policy/index.js';
import { NO_LISTEN_SENTINEL, renderKeyLine } from '../../src/psm/render-key-line.js';
import { generateKeyPair, type TestKeyPair } from '../helpers/keys.js';
import { SHIPPED_POLICIES } from '../helpers/policy-fixtures.js';
import { freePort } from '../helpers/free-port.js';
import { tryPublicKeyLogin } from '../helpers/ssh-client.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const DAY_MS = 86_400_000;

interface Overrides {
  readonly from?: string[];
  readonly permitOpen?: string[];
  readonly permitListen?: string[];
}

let work: Awaited<ReturnType<typeof makeTempDir>>;
let sshd: TestSshd;
let echo: Server;
let other: Server;
let echoPort = 0;
let otherPort = 0;
let objectsDir = '';
let recordsDir = '';
let envDir = '';
const rendered: KeyPolicy[] = [];

/** The kinds of statement explain makes, each matched by its wording (explain.ts). */
const STATEMENT_KINDS = [
  ['from', /^Log in only from /],
  ['from-anywhere', /^Log in from anywhere/],
  ['objects', /^Start POP-C\+\+ objects with popcobjrun /],
  ['no-program', /^Start any program: every command it sends is refused by the gate /],
  ['tunnels', /^Open tunnels through the worker \(like "ssh -L"\) to /],
  ['no-tunnels', /^Open any tunnel \(port forwarding is switched off\)/],
  ['listen', /^Ask the worker to listen and tunnel back \(like "ssh -R"\) on: /],
  ['no-listen', /^Ask the worker to listen for connections and tunnel them back/],
  ['expiry', /^Be used for .* after psm writes it; after that the worker's SSH server refuses it\.$/],
  ['gate-only', /^Get a shell or run any other command: whatever it asks to run, the worker runs the gate /],
  ['no-pty', /^Get a terminal \(no pty\)/],
  ['no-agent-x11', /^Forward the SSH agent or X11/],
  ['no-env-rc', /^Set environment variables, or make the worker run the account's ~\/\.ssh\/rc\.$/],
] as const;
type StatementKind = (typeof STATEMENT_KINDS)[number][0];
const proved = new Set<StatementKind>();
const keys: Record<'main' | 'admin' | 'adminLocal' | 'initiator' | 'expired' | 'listener', TestKeyPair> =
  {} as never;
let listenPort = 0;

/** A shipped policy with only the worker paths (and, when asked, from/permitOpen) changed for this host. */
async function shippedPolicy(file: string, overrides: Overrides, gateName: string): Promise<KeyPolicy> {
  const doc = parseDocument(await readFile(join(SHIPPED_POLICIES, file), 'utf8'));
  doc.setIn(['command', 'gate'], join(work.path, 'bin', gateName));
  doc.setIn(['command', 'popcobjrun'], join(work.path, 'bin', 'popcobjrun'));
  if ((doc.get('objects') as { items: unknown[] }).items.length > 0) doc.set('objects', [`${objectsDir}/`]);
  if (overrides.from) doc.set('from', overrides.from);
  if (overrides.permitOpen) doc.set('permitOpen', overrides.permitOpen);
  if (overrides.permitListen) doc.set('permitListen', overrides.permitListen);
  const parsed = parsePolicy(doc.toString(), file, { gateDir: join(work.path, 'bin') });
  if (!parsed.ok) throw new Error(`${file}: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

async function keyLine(policy: KeyPolicy, pair: TestKeyPair, now: Date): Promise<string> {
  const key = readKeyField(pair.publicLine, 0);
  if (!key.ok) throw new Error(key.error.message);
  const rendered = renderKeyLine(policy, key.value.key, {
    appId: 'app-e2e',
    worker: 'worker-1',
    now,
    gateDir: join(work.path, 'bin'),
  });
  if (!rendered.ok) throw new Error(rendered.error.message);
  await writeFile(policy.gatePath, generateGate(policy).script, { mode: 0o755 });
  await chmod(policy.gatePath, 0o755);
  return rendered.value.line;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** Connects with extra ssh2 options (agent forwarding needs an agent path; it is never contacted). */
function connect(pair: TestKeyPair, extra: Record<string, unknown> = {}): Promise<Client> {
  const pinned = Buffer.from(sshd.hostKeyPublic.split(' ')[1] ?? '', 'base64');
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      privateKey: pair.privateKey,
      authHandler: ['publickey'],
      hostVerifier: (key: Buffer) => key.equals(pinned),
      readyTimeout: 15_000,
      ...extra,
    });
  });
}

async function withClient<T>(
  pair: TestKeyPair,
  run: (c: Client) => Promise<T>,
  extra?: Record<string, unknown>,
): Promise<T> {
  const client = await connect(pair, extra);
  try {
    return await run(client);
  } finally {
    client.end();
  }
}

interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(channel: ClientChannel): Promise<ExecResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let code: number | null = null;
    channel.on('data', (d: Buffer) => (stdout += d.toString()));
    channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    channel.on('exit', (c: number | null) => (code = c));
    channel.on('close', () => resolve({ code, stdout, stderr }));
  });
}

function exec(client: Client, command: string, options: Record<string, unknown> = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, options, (error, channel) => (error ? reject(error) : resolve(collect(channel))));
  });
}

async function records(): Promise<string[]> {
  return (await readdir(recordsDir)).sort();
}

beforeAll(async () => {
  work = await makeTempDir('policy-e2e');
  await chmod(work.path, 0o755);
  objectsDir = join(work.path, 'objects');
  recordsDir = join(work.path, 'records');
  envDir = join(work.path, 'env');
  await mkdir(join(work.path, 'bin'), { mode: 0o755 });
  await mkdir(objectsDir, { mode: 0o755 });
  await mkdir(recordsDir);
  await chmod(recordsDir, 0o1777);
  await mkdir(envDir);
  await chmod(envDir, 0o1777);
  await writeFile(join(objectsDir, 'solver.obj'), '', { mode: 0o755 });
  // The stand-in popcobjrun: one file per run with its argv, one argument per line.
  await writeFile(
    join(work.path, 'bin', 'popcobjrun'),
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${recordsDir}'/run.$$\n/usr/bin/env > '${envDir}'/env.$$\necho popcobjrun-ran\n`,
    { mode: 0o755 },
  );
  echo = createServer((socket) => socket.pipe(socket));
  other = createServer((socket) => socket.end('not for you'));
  echoPort = await listen(echo);
  otherPort = await listen(other);
  const [main, admin, adminLocal, initiator, expired, listener] = await Promise.all([
    generateKeyPair('ed25519'),
    generateKeyPair('ecdsa'),
    generateKeyPair('ed25519'),
    generateKeyPair('rsa', 2048),
    generateKeyPair('ed25519'),
    generateKeyPair('ed25519'),
  ]);
  Object.assign(keys, { main, admin, adminLocal, initiator, expired, listener });
  listenPort = await freePort();

  const local = { from: ['127.0.0.1'], permitOpen: [`127.0.0.1:${echoPort}`] };
  const now = new Date();
  const mainNode = await shippedPolicy('main-node.yaml', local, 'gate-main-node');
  // admin.yaml keeps its shipped `from` (the hypervisor network), which 127.0.0.1 is not in.
  const adminShipped = await shippedPolicy('admin.yaml', { permitOpen: local.permitOpen }, 'gate-admin');
  const adminHere = await shippedPolicy('admin.yaml', local, 'gate-admin');
  const initiatorPolicy = await shippedPolicy('initiator.yaml', local, 'gate-initiator');
  const mainListen = await shippedPolicy(
    'main-node.yaml',
    { ...local, permitListen: [`localhost:${listenPort}`] },
    'gate-main-node',
  );
  rendered.push(mainNode, adminShipped, adminHere, initiatorPolicy, mainListen);
  const lines = [
    await keyLine(mainNode, main, now),
    await keyLine(adminShipped, admin, now),
    await keyLine(adminHere, adminLocal, now),
    await keyLine(initiatorPolicy, initiator, now),
    // Written under main-node.yaml (expiry 7d) eight days ago: it expired a day ago.
    await keyLine(mainNode, expired, new Date(now.getTime() - 8 * DAY_MS)),
    // main-node.yaml with one permitListen entry, to show that path against sshd too.
    await keyLine(mainListen, listener, now),
  ];
  // The server also offers sftp, so a subsystem request would reach a file server without the gate.
  // It also accepts client environment (worse than Debian's `AcceptEnv LANG LC_*`), so that only
  // the gate stands between what a client sends and popcobjrun.
  sshd = await startSshd({
    forceCommand: null,
    extraConfig: ['Subsystem sftp /usr/lib/openssh/sftp-server', 'AcceptEnv LANG LC_* PSM_*'],
  });
  await sshd.writeAuthorizedKeys(`${lines.join('\n')}\n`);
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
  echo?.close();
  other?.close();
  await work?.remove();
});

describe('keys rendered from the shipped policies, against the real sshd', () => {
  it('sshd reads every rendered line without complaint', async () => {
    const offset = await sshd.logOffset();
    expect((await tryPublicKeyLogin(sshd, keys.main.privateKey)).accepted).toBe(true);
    const log = await sshd.logSince(0);
    expect(log).not.toMatch(/bad (key )?options/i);
    expect(
      await sshd.waitForLog(offset, /key options: command.*permitopen.*permitlisten.*port-forwarding/),
    ).toContain('from');
  }, 60_000);

  it('an arbitrary command runs only the gate', async () => {
    const before = await records();
    const results = await withClient(keys.main, async (client) => [
      await exec(client, 'id'),
      await exec(client, 'cat /etc/passwd'),
      await exec(client, `sh -c 'popcobjrun ${objectsDir}/solver.obj'`),
      await exec(client, ''),
    ]);
    for (const r of results) {
      expect(r.code).toBe(GATE_REFUSED_EXIT);
      expect(r.stderr).toContain('psm-gate: refused by policy main-node');
      expect(r.stdout).not.toMatch(/uid=|root:/);
    }
    // A shell request (no command, no pty) also gets only the gate.
    const shell = await withClient(
      keys.main,
      (client) =>
        new Promise<ExecResult>((resolve, reject) =>
          client.shell(false, (error, channel) => (error ? reject(error) : resolve(collect(channel)))),
        ),
    );
    expect(shell.code).toBe(GATE_REFUSED_EXIT);
    expect(shell.stderr).toContain('no command given');
    // A subsystem request (sftp: file access) also runs only the gate, which refuses it.
    const sftp = await withClient(
      keys.main,
      (client) =>
        new Promise<ExecResult>((resolve, reject) =>
          client.subsys('sftp', (error, channel) => (error ? reject(error) : resolve(collect(channel)))),
        ),
    );
    // (sshd drops a subsystem's stderr, so only the exit code and the silence show the refusal.)
    expect(sftp).toStrictEqual({ code: GATE_REFUSED_EXIT, stdout: '', stderr: '' });
    expect(await records()).toStrictEqual(before);
    proved.add('gate-only');
  }, 60_000);

  it('the gate runs popcobjrun for an allowed object with its arguments unchanged', async () => {
    const before = await records();
    const args = ['-object=Solver', 'socket://127.0.0.1:2711', '-batch=3,x=y@z%20'];
    const result = await withClient(keys.main, (client) =>
      exec(client, `popcobjrun ${objectsDir}/solver.obj ${args.join(' ')}`),
    );
    expect(result).toMatchObject({ code: 0, stdout: 'popcobjrun-ran\n' });
    const added = (await records()).filter((name) => !before.includes(name));
    expect(added).toHaveLength(1);
    const argv = await readFile(join(recordsDir, added[0] ?? ''), 'utf8');
    expect(argv).toBe(`${[`${objectsDir}/solver.obj`, ...args].join('\n')}\n`);
    proved.add('objects');
  }, 60_000);

  it('the gate refuses other objects and unsafe arguments, and popcobjrun never runs', async () => {
    const before = await records();
    const obj = `${objectsDir}/solver.obj`;
    const refused = [
      'popcobjrun /bin/sh',
      `popcobjrun ${objectsDir}/../bin/popcobjrun`,
      `popcobjrun ${objectsDir}/`,
      `popcobjrun ${obj} $(id)`,
      `popcobjrun ${obj} ;id`,
      `popcobjrun ${obj} \`id\``,
      `popcobjrun ${obj} a|id`,
      `popcobjrun ${obj} ../../etc/passwd`,
      `popcobjrun ${obj} "quoted"`,
      `popcobjrun ${obj} a\nid`,
      `popcobjrun ${obj} *`,
      'popcobjrun',
    ];
    const results = await withClient(keys.main, async (client) => {
      const out: ExecResult[] = [];
      for (const command of refused) out.push(await exec(client, command));
      return out;
    });
    results.forEach((r, i) => {
      expect({ command: refused[i], code: r.code }).toStrictEqual({
        command: refused[i],
        code: GATE_REFUSED_EXIT,
      });
      expect(r.stderr).toContain('psm-gate: refused');
    });
    expect(await records()).toStrictEqual(before);
  }, 60_000);

  it('the initiator policy (no objects) refuses every command', async () => {
    const result = await withClient(keys.initiator, (client) =>
      exec(client, `popcobjrun ${objectsDir}/solver.obj`),
    );
    expect(result.code).toBe(GATE_REFUSED_EXIT);
    expect(result.stderr).toContain('refused by policy initiator');
    proved.add('no-program');
  }, 60_000);

  it('-L to the allowed host:port carries data; to any other it is refused', async () => {
    const offset = await sshd.logOffset();
    await withClient(keys.main, async (client) => {
      const reply = await new Promise<string>((resolve, reject) =>
        client.forwardOut('127.0.0.1', 40_000, '127.0.0.1', echoPort, (error, channel) => {
          if (error) return reject(error);
          channel.once('data', (d: Buffer) => {
            resolve(d.toString());
            channel.close();
          });
          channel.write('through the tunnel');
        }),
      );
      expect(reply).toBe('through the tunnel');
      for (const [host, port] of [
        ['127.0.0.1', otherPort],
        ['localhost', echoPort],
        ['127.0.0.1', 22],
      ] as const) {
        const error = await new Promise<Error | undefined>((resolve) =>
          client.forwardOut('127.0.0.1', 40_000, host, port, (e, channel) => {
            channel?.close();
            resolve(e);
          }),
        );
        expect(error?.message).toMatch(/open failed|prohibited/i);
      }
    });
    await sshd.waitForLog(
      offset,
      new RegExp(`connect to host 127\\.0\\.0\\.1 port ${otherPort}, but the request was denied`),
    );
    proved.add('tunnels');
  }, 60_000);

  it('remote forwarding, pty, agent forwarding and X11 are refused', async () => {
    const offset = await sshd.logOffset();
    await withClient(keys.main, async (client) => {
      for (const [host, port] of [
        ['127.0.0.1', 0],
        ['localhost', 45_123],
        ['', 45_124],
        [NO_LISTEN_SENTINEL.split(':')[0] ?? '', 1],
      ] as const) {
        const error = await new Promise<Error | undefined>((resolve) =>
          client.forwardIn(host, port, (e) => resolve(e)),
        );
        expect(error?.message).toMatch(/Unable to bind/);
      }
      await expect(exec(client, 'x', { pty: true })).rejects.toThrow(/pseudo-terminal/);
      await expect(exec(client, 'x', { x11: true })).rejects.toThrow(/X11/);
    });
    // ssh2 asks for agent forwarding on every session once an agent is configured; it is never contacted.
    await withClient(keys.main, (client) => expect(exec(client, 'x')).rejects.toThrow(/agent forwarding/), {
      agent: join(work.path, 'no-agent.sock'),
      agentForward: true,
    });
    // sshd says why: each refusal comes from the key's options, not from the server's configuration.
    const log = await sshd.waitForLog(offset, /agent forwarding disabled/);
    expect(log).toMatch(/remote forward to host NO-LISTEN\.INVALID port 1, but the request was denied/);
    expect(log).toMatch(/remote forward to host localhost port 45123, but the request was denied/);
    expect(log).toMatch(/Allocating a pty not permitted/);
    expect(log).toMatch(/X11 forwarding disabled by key options/);
    proved.add('no-listen').add('no-pty').add('no-agent-x11');
  }, 60_000);

  it('a policy with permitListen allows -R on exactly that port and no other', async () => {
    await withClient(keys.listener, async (client) => {
      const bind = (port: number) =>
        new Promise<Error | undefined>((resolve) =>
          client.forwardIn('localhost', port, (e) => resolve(e ?? undefined)),
        );
      expect(await bind(listenPort)).toBeUndefined();
      expect((await bind(listenPort + 1))?.message).toMatch(/Unable to bind/);
      expect((await bind(0))?.message).toMatch(/Unable to bind/);
    });
    proved.add('listen');
  }, 60_000);

  it('the key cannot stop remote Unix-socket forwarding; the worker sshd settings psm installs do', async () => {
    const listenOnSocket = (server: TestSshd, name: string): Promise<Error | undefined> => {
      const hostKey = Buffer.from(server.hostKeyPublic.split(' ')[1] ?? '', 'base64');
      return withClient(
        keys.main,
        (client) =>
          new Promise((resolve) =>
            client.openssh_forwardInStreamLocal(join(recordsDir, name), (e) => resolve(e ?? undefined)),
          ),
        { port: server.port, hostVerifier: (key: Buffer) => key.equals(hostKey) },
      );
    };
    // With the permissive test server, sshd lets the key listen on a Unix socket despite restrict.
    expect(await listenOnSocket(sshd, 'first.sock')).toBeUndefined();
    // With the settings psm worker prepare installs on every worker, it is refused (the same
    // refusal is proved on a prepared QEMU worker in test/e2e/worker-identity.test.ts).
    const worker = await startSshd({ forceCommand: null, workerSettings: true });
    try {
      await worker.writeAuthorizedKeys(await readFile(sshd.authorizedKeysPath, 'utf8'));
      expect((await listenOnSocket(worker, 'second.sock'))?.message).toMatch(/Unable to bind/);
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('a from list that does not match refuses the login (and the same policy from here is accepted)', async () => {
    const offset = await sshd.logOffset();
    expect((await tryPublicKeyLogin(sshd, keys.admin.privateKey)).accepted).toBe(false);
    await sshd.waitForLog(offset, /correct key but not from a permitted host .*required=10\.0\.2\.2\/32/);
    expect((await tryPublicKeyLogin(sshd, keys.adminLocal.privateKey)).accepted).toBe(true);
    proved.add('from');
  }, 60_000);

  it('an expired key is refused', async () => {
    const offset = await sshd.logOffset();
    expect((await tryPublicKeyLogin(sshd, keys.expired.privateKey)).accepted).toBe(false);
    await sshd.waitForLog(offset, /authorized_keys:5: entry expired at/);
    // ...and the same key, written now, is accepted: the refusal is the expiry.
    expect((await tryPublicKeyLogin(sshd, keys.main.privateKey)).accepted).toBe(true);
    proved.add('expiry');
  }, 60_000);

  it('environment a client sends never reaches popcobjrun, and no line lets ~/.ssh/rc run', async () => {
    const sent = { LANG: 'xx_EVIL.UTF-8', LC_ALL: 'evil', PSM_PROBE: 'sent-by-client' };
    // Control: this server configuration does pass the client's environment to a command.
    const control = await startSshd({
      forceCommand: '/usr/bin/env',
      extraConfig: ['AcceptEnv LANG LC_* PSM_*'],
    });
    try {
      await control.writeAuthorizedKeys(`${keys.main.publicLine}\n`);
      const controlHostKey = Buffer.from(control.hostKeyPublic.split(' ')[1] ?? '', 'base64');
      const seen = await withClient(keys.main, (client) => exec(client, 'x', { env: sent }), {
        port: control.port,
        hostVerifier: (key: Buffer) => key.equals(controlHostKey),
      });
      expect(seen.stdout).toContain('PSM_PROBE=sent-by-client');
    } finally {
      await control.stop();
    }
    const before = new Set(await readdir(envDir));
    const result = await withClient(keys.main, (client) =>
      exec(client, `popcobjrun ${objectsDir}/solver.obj`, { env: sent }),
    );
    expect(result).toMatchObject({ code: 0, stdout: 'popcobjrun-ran\n' });
    const added = (await readdir(envDir)).filter((name) => !before.has(name));
    expect(added).toHaveLength(1);
    const env = (await readFile(join(envDir, added[0] ?? ''), 'utf8')).trim().split('\n');
    const names = env.map((entry) => entry.slice(0, entry.indexOf('='))).sort();
    expect(names.filter((name) => name !== 'PWD')).toStrictEqual(['LC_ALL', 'PATH']);
    expect(env).toContain('LC_ALL=C');
    // ~/.ssh/rc: sshd runs it unless the line says no-user-rc; every rendered line starts with
    // `restrict`, which implies it (the sshd conformance suite holds psm's reading of restrict).
    for (const line of (await readFile(sshd.authorizedKeysPath, 'utf8')).trim().split('\n'))
      expect(line).toMatch(/^restrict,/);
    proved.add('no-env-rc');
  }, 60_000);

  it('every CAN and CANNOT statement explain makes for these policies was shown true above', () => {
    expect(rendered.length).toBeGreaterThan(0);
    for (const policy of rendered) {
      const explanation = explainPolicy(policy);
      for (const statement of [...explanation.can, ...explanation.cannot]) {
        const kinds = STATEMENT_KINDS.filter(([, pattern]) => pattern.test(statement)).map(([kind]) => kind);
        expect({ statement, kinds: kinds.length }).toStrictEqual({ statement, kinds: 1 });
        expect({ statement, proved: proved.has(kinds[0] as StatementKind) }).toStrictEqual({
          statement,
          proved: true,
        });
      }
    }
  });
});
