// Steps 3 and 4: the real OpenSSH client with psm's known_hosts and strict host key checking,
// using an application's main-node key (an allowed object runs, the job manager tunnel carries
// data, a shell and other commands are refused, a worker answering for another is refused);
// then `psm run-main`, the application's main run inside its worker through the gate.
import { join } from 'node:path';
import { run } from './processes.mjs';

export const HELLO = '/usr/local/popc/objects/hello';
export const JOBMGR_PORT = 2711;
const HELLO_LINE = (args) => new RegExp(`^hello from \\S+ \\(uid \\d+\\): ${args}\\n$`);

export async function stepSsh(s, ctx) {
  const { ssh, psm, withTunnel, roundTrip, keyAccepted } = ctx.tools;
  const a = ctx.apps['app-a'];
  const b = ctx.apps['app-b'];
  s.display.line(
    `      (every ssh here: -o StrictHostKeyChecking=yes -o UserKnownHostsFile=<psm's known_hosts>, BatchMode)`,
  );

  const hello = await ssh(a.key, a.ssh.port, ['-T', 'popcobjrun', HELLO, 'demo']);
  s.fact('hello', { code: hello.code, stdout: hello.stdout, stderr: hello.stderr });
  s.check(
    hello.code === 0 && HELLO_LINE('demo').test(hello.stdout),
    "app-a's key runs the allowed object",
    hello.stdout.trim() || hello.stderr.trim(),
  );

  s.doing('a tunnel to the job manager port');
  const echo = await psm([
    ...['vm', 'exec', a.worker, '--vm-dir', ctx.vmDir, '--', '/sbin/start-stop-daemon'],
    ...['-S', '-b', '-m', '-p', '/run/psm-echo.pid', '-x', '/bin/busybox'],
    ...['--', 'nc', '-ll', '-p', String(JOBMGR_PORT), '-e', '/bin/cat'],
  ]);
  s.check(
    echo.code === 0,
    `an echo server stands in for the job manager on the worker's port ${JOBMGR_PORT}`,
    echo.code === 0 ? 'started through the guest agent' : echo.stderr.trim(),
  );
  const text = `data through the tunnel ${Date.now()}\n`;
  const tunnel = await withTunnel(a.key, a.ssh.port, JOBMGR_PORT, (local) => roundTrip(local, text));
  s.fact('tunnel', { sent: text, received: tunnel.value ?? null });
  s.check(
    tunnel.value === text,
    `-L to 127.0.0.1:${JOBMGR_PORT} carries data both ways`,
    JSON.stringify(tunnel.value ?? tunnel.stderr.trim()),
  );

  // A login with no command is a shell request; `id` on its stdin shows whether one ran.
  const shell = await ssh(a.key, a.ssh.port, ['-T'], { input: 'id\n' });
  s.fact('shell', { code: shell.code, stdout: shell.stdout, stderr: shell.stderr });
  s.check(
    shell.code === 126 && shell.stdout === '' && /psm-gate: refused/.test(shell.stderr),
    'a shell is refused (`id` sent on its stdin never runs)',
    `exit ${shell.code}, ${(shell.stdout + shell.stderr).trim()}`,
  );
  const refused = {};
  for (const command of [['/bin/sh', '-c', 'id'], ['id'], ['popcobjrun', '/bin/sh']]) {
    const ran = await ssh(a.key, a.ssh.port, ['-T', ...command]);
    refused[command.join(' ')] = { code: ran.code, stdout: ran.stdout, stderr: ran.stderr };
    s.check(
      ran.code === 126 && ran.stdout === '',
      `\`${command.join(' ')}\` is refused`,
      `exit ${ran.code}, ${ran.stderr.trim()}`,
    );
  }
  s.fact('refused', refused);

  const helloB = await ssh(b.key, b.ssh.port, ['-T', 'popcobjrun', HELLO, 'demo-b']);
  s.check(
    helloB.code === 0 && HELLO_LINE('demo-b').test(helloB.stdout),
    "app-b's key runs the object on app-b's worker",
    helloB.stdout.trim() || helloB.stderr.trim(),
  );
  const crossed = await keyAccepted(a.key, b.ssh.port);
  s.fact('crossKey', { accepted: crossed.accepted ?? null, stderr: crossed.stderr });
  s.check(crossed.accepted === false, "app-a's key is refused on app-b's worker", crossed.stderr.trim());

  const impersonations = {};
  for (const [claimed, real] of [
    [a, b],
    [b, a],
  ]) {
    const ran = await ssh(a.key, real.ssh.port, ['-T', 'popcobjrun', HELLO], {
      extra: ['-o', `HostKeyAlias=${claimed.worker}`],
    });
    impersonations[`${real.worker} as ${claimed.worker}`] = { code: ran.code, stderr: ran.stderr };
    s.check(
      ran.code === 255 && /Host key verification failed/.test(ran.stderr),
      `${real.worker} answering for ${claimed.worker} is refused`,
      ran.stderr.trim().split('\n').pop(),
    );
  }
  s.fact('impersonation', impersonations);
}

export async function stepRunMain(s, ctx) {
  const { psm, psmJson } = ctx.tools;
  const a = ctx.apps['app-a'];
  const known = await run(process.execPath, [join(ctx.root, 'bin', 'psm.js'), 'run-main', '--help'], {
    stop: ctx.stop,
  });
  // An unknown command with --help prints psm's own help (exit 0): the usage line tells.
  const isCommand = known.code === 0 && /^Usage: psm run-main /m.test(known.stdout);
  s.fact('runMainKnown', isCommand);
  s.check(
    isCommand,
    '`psm run-main` is a psm command',
    isCommand ? 'yes' : 'NOT BUILT on this checkout: `psm run-main --help` shows no run-main usage',
  );
  if (!isCommand) return;
  const main = await psmJson(['run-main', 'app-a', '--timeout', '300', '--', 'hello', 'main', 'of', 'app-a']);
  s.fact('runMain', { code: main.code, json: main.json ?? null, stderr: main.stderr });
  s.check(
    main.code === 0 &&
      main.json?.exitCode === 0 &&
      main.json?.worker === a.worker &&
      HELLO_LINE('main of app-a').test(main.json?.stdout ?? ''),
    "app-a's main runs in app-a's worker and its output comes back",
    main.json?.stdout?.trim() ?? (main.stdout + main.stderr).trim(),
  );
  const streamed = await psm(['run-main', 'app-b', '--', 'hello', 'streamed']);
  s.check(
    streamed.code === 0 && HELLO_LINE('streamed').test(streamed.stdout),
    "app-b's main streams its stdout",
    streamed.stdout.trim() || streamed.stderr.trim(),
  );
  const unknown = await psmJson(['run-main', 'no-such-app', '--', 'hello']);
  s.fact('runMainUnknown', { code: unknown.code });
  s.check(unknown.code === 3, 'an application psm does not know is refused (exit 3)', `exit ${unknown.code}`);
}
