import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentChannel } from '../../src/guest-ops/qga/channel.js';
import { execInGuest } from '../../src/guest-ops/qga/exec.js';
import { copyFromGuest, copyToGuest } from '../../src/guest-ops/qga/files.js';
import { DEFAULT_GUEST_TOOLS } from '../../src/guest-ops/qga/guest-tools.js';
import { decodeInterfaces } from '../../src/guest-ops/qga/interfaces.js';
import { startHostAgent, type HostAgent } from '../helpers/qga-host-agent.js';

// The QGA client against the real Debian qemu-ga, listening on a Unix socket on the host.
describe('QGA client against a real qemu-ga on the host', () => {
  let agent: HostAgent;
  let channel: AgentChannel;

  beforeAll(async () => {
    agent = await startHostAgent();
    const opened = await AgentChannel.open(agent.socketPath, { timeoutMs: 10_000 });
    if (!opened.ok) throw new Error(opened.error.message);
    channel = opened.value;
  });

  afterAll(async () => {
    channel?.close();
    await agent?.stop();
  });

  it('synchronises and answers guest-ping and guest-info', async () => {
    const ping = await channel.call('guest-ping', undefined);
    expect(ping).toEqual({ ok: true, value: {} });
    const info = await channel.call('guest-info', undefined);
    expect(info.ok && (info.value as { version: string }).version).toMatch(/^\d+\.\d+/);
  });

  it('reports an agent error as AGENT_ERROR with the agent text', async () => {
    const result = await channel.call('guest-no-such-command', undefined);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('AGENT_ERROR');
  });

  it('passes argv verbatim: spaces, quotes, ; $(...) and newlines reach the program unchanged', async () => {
    const argv = [
      '-e',
      'process.stdout.write(JSON.stringify(process.argv.slice(1)))',
      '--',
      'a b',
      `"it's"`,
      'x; rm -rf /tmp/nothing',
      '$(id)',
      '`id`',
      'line1\nline2',
      '',
      '*',
    ];
    const ran = await execInGuest(channel, DEFAULT_GUEST_TOOLS, { path: process.execPath, argv });
    expect(ran.ok).toBe(true);
    if (!ran.ok) return;
    expect(ran.value.exitCode).toBe(0);
    expect(JSON.parse(Buffer.from(ran.value.stdout).toString('utf8'))).toEqual(argv.slice(3));
  });

  it('feeds stdin and returns exit code and stderr', async () => {
    const ran = await execInGuest(channel, DEFAULT_GUEST_TOOLS, {
      path: process.execPath,
      argv: [
        '-e',
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stderr.write(s.toUpperCase());process.exit(3)})',
      ],
      stdin: new TextEncoder().encode('hello agent'),
    });
    expect(ran.ok && ran.value.exitCode).toBe(3);
    expect(ran.ok && Buffer.from(ran.value.stderr).toString()).toBe('HELLO AGENT');
  });

  it('reports a program killed by a signal', async () => {
    const ran = await execInGuest(channel, DEFAULT_GUEST_TOOLS, {
      path: process.execPath,
      argv: ['-e', 'process.kill(process.pid, "SIGTERM")'],
    });
    expect(ran.ok && ran.value).toMatchObject({ exitCode: null, signal: 15 });
  });

  it('kills a program that runs over its timeout and says GUEST_PROGRAM_TIMEOUT', async () => {
    const marker = join(agent.dir, `sleep-${randomBytes(4).toString('hex')}`);
    const ran = await execInGuest(channel, DEFAULT_GUEST_TOOLS, {
      path: process.execPath,
      argv: [
        '-e',
        `require("fs").writeFileSync(${JSON.stringify(marker)}, String(process.pid)); setTimeout(() => {}, 60000)`,
      ],
      timeoutMs: 1_500,
    });
    expect(ran.ok).toBe(false);
    if (!ran.ok) expect(ran.error.code).toBe('GUEST_PROGRAM_TIMEOUT');
    const pid = Number(await readFile(marker, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  }, 20_000);

  it('refuses a relative program path and NUL in arguments before asking the agent', async () => {
    const relative = await execInGuest(channel, DEFAULT_GUEST_TOOLS, { path: 'echo', argv: [] });
    expect(!relative.ok && relative.error.code).toBe('INVALID_ARGUMENT');
    const nul = await execInGuest(channel, DEFAULT_GUEST_TOOLS, { path: '/bin/echo', argv: ['a\u0000b'] });
    expect(!nul.ok && nul.error.code).toBe('INVALID_ARGUMENT');
  });

  it('copies a multi-chunk file in with mode and owner, atomically, and reads it back', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 1234);
    const target = join(agent.dir, 'payload.bin');
    await writeFile(target, 'old content');
    const copied = await copyToGuest(channel, DEFAULT_GUEST_TOOLS, {
      data,
      guestPath: target,
      mode: 0o640,
      owner: { uid: 1, gid: 2 },
    });
    expect(copied).toEqual({ ok: true, value: undefined });
    const info = await stat(target);
    expect(info.mode & 0o7777).toBe(0o640);
    expect([info.uid, info.gid]).toEqual([1, 2]);
    expect((await readFile(target)).equals(data)).toBe(true);
    // No staging directory is left next to the target.
    expect((await readdir(agent.dir)).filter((n) => n.startsWith('.psm-copy-'))).toEqual([]);
    const back = await copyFromGuest(channel, DEFAULT_GUEST_TOOLS, { guestPath: target });
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(Buffer.from(back.value.data).equals(data)).toBe(true);
    expect(back.value.mode).toBe(0o640);
    expect(back.value.owner).toEqual({ uid: 1, gid: 2 });
  }, 30_000);

  it('fails a copy into a missing directory with a coded error and leaves nothing behind', async () => {
    const result = await copyToGuest(channel, DEFAULT_GUEST_TOOLS, {
      data: new Uint8Array([1, 2, 3]),
      guestPath: join(agent.dir, 'missing', 'file'),
    });
    expect(!result.ok && result.error.code).toBe('GUEST_COMMAND_FAILED');
    const missing = await copyFromGuest(channel, DEFAULT_GUEST_TOOLS, { guestPath: join(agent.dir, 'nope') });
    expect(!missing.ok && missing.error.code).toBe('AGENT_ERROR');
    const dir = await copyFromGuest(channel, DEFAULT_GUEST_TOOLS, { guestPath: agent.dir });
    expect(!dir.ok && dir.error.code).toBe('INVALID_ARGUMENT');
  });

  it('decodes guest-network-get-interfaces from a real agent', async () => {
    const reply = await channel.call('guest-network-get-interfaces', undefined);
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const interfaces = decodeInterfaces(reply.value);
    expect(interfaces.ok).toBe(true);
    expect(interfaces.ok && interfaces.value.some((i) => i.name === 'lo')).toBe(true);
  });

  it('times out on a hung agent with AGENT_TIMEOUT, then resynchronises and drops the late reply', async () => {
    agent.pause();
    try {
      const hung = await channel.call('guest-info', undefined, { timeoutMs: 500 });
      expect(!hung.ok && hung.error.code).toBe('AGENT_TIMEOUT');
    } finally {
      agent.resume();
    }
    // The late guest-info reply must not be taken for the answer to this guest-ping.
    const ping = await channel.call('guest-ping', undefined);
    expect(ping).toEqual({ ok: true, value: {} });
  });

  it('a second connection to the one-client agent times out instead of hanging', async () => {
    const second = await AgentChannel.open(agent.socketPath, { timeoutMs: 700 });
    expect(!second.ok && second.error.code).toBe('AGENT_TIMEOUT');
    const ping = await channel.call('guest-ping', undefined);
    expect(ping.ok).toBe(true);
  });

  it('honours the caller AbortSignal with ABORTED', async () => {
    agent.pause();
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const aborted = await channel.call('guest-info', undefined, {
        timeoutMs: 10_000,
        signal: controller.signal,
      });
      expect(!aborted.ok && aborted.error.code).toBe('ABORTED');
    } finally {
      agent.resume();
    }
    expect((await channel.call('guest-ping', undefined)).ok).toBe(true);
  });
});
