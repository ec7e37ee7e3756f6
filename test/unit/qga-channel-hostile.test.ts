import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentChannel } from '../../src/guest-ops/qga/channel.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * The agent channel against a scripted, misbehaving "agent" on a Unix socket: what a hostile or
 * broken guest can send, which the real qemu-ga (test/conformance/qga-host-agent.test.ts) never
 * does. Sync is answered like qemu-ga (0xFF + {"return": id}); other commands get `reply(command)`.
 */
type Reply = (command: string) => Buffer | string | undefined;

describe('agent channel with a hostile agent', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let server: Server;
  let reply: Reply;
  let syncReply: (id: number) => Buffer | string;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    temp = await makeTempDir('qga-hostile');
    reply = () => '{"return": {}}\n';
    syncReply = (id) => Buffer.concat([Buffer.from([0xff]), Buffer.from(`{"return": ${id}}\n`)]);
    server = createServer((socket) => {
      sockets.push(socket);
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1').replace(/\xff/g, '');
        let newline = text.indexOf('\n');
        while (newline >= 0) {
          const request = JSON.parse(text.slice(0, newline)) as {
            execute: string;
            arguments?: { id?: number };
          };
          text = text.slice(newline + 1);
          const answer =
            request.execute === 'guest-sync-delimited'
              ? syncReply(request.arguments?.id ?? 0)
              : reply(request.execute);
          if (answer !== undefined) socket.write(answer);
          newline = text.indexOf('\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(join(temp.path, 'qga.sock'), resolve));
  });

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await temp.remove();
  });

  async function open(): Promise<AgentChannel> {
    const opened = await AgentChannel.open(join(temp.path, 'qga.sock'), { timeoutMs: 2_000 });
    if (!opened.ok) throw new Error(opened.error.message);
    return opened.value;
  }

  it('rejects garbage, unknown keys and non-UTF-8 as AGENT_PROTOCOL, then recovers by resyncing', async () => {
    const channel = await open();
    for (const bad of [
      'not json\n',
      '{"return": {}, "shell": "rm -rf /"}\n',
      Buffer.from([0x7b, 0xc3, 0x28, 0x7d, 0x0a]),
    ]) {
      reply = () => bad;
      const result = await channel.call('guest-ping', undefined, { timeoutMs: 1_000 });
      expect(!result.ok && result.error.code).toBe('AGENT_PROTOCOL');
    }
    reply = () => '{"return": {"fine": true}}\n';
    expect(await channel.call('guest-ping', undefined)).toEqual({ ok: true, value: { fine: true } });
    channel.close();
  });

  it('ignores sync replies with the wrong id or without the 0xFF delimiter', async () => {
    // The right id without the delimiter, then the delimiter with a wrong id: neither completes a sync.
    syncReply = (id) =>
      Buffer.concat([
        Buffer.from(`{"return": ${id}}\n`),
        Buffer.from([0xff]),
        Buffer.from(`{"return": ${id + 1}}\n`),
      ]);
    const opened = await AgentChannel.open(join(temp.path, 'qga.sock'), { timeoutMs: 700 });
    expect(!opened.ok && opened.error.code).toBe('AGENT_TIMEOUT');
  });

  it('drops stale replies that arrive before the sync delimiter', async () => {
    syncReply = (id) =>
      Buffer.concat([
        Buffer.from('{"return": "stale"}\n{"return": 1'),
        Buffer.from([0xff]),
        Buffer.from(`{"return": ${id}}\n`),
      ]);
    const channel = await open();
    reply = () => '{"return": "mine"}\n';
    expect(await channel.call('guest-info', undefined)).toEqual({ ok: true, value: 'mine' });
    channel.close();
  });

  it('treats an unanswered request as AGENT_TIMEOUT and an agent error as AGENT_ERROR', async () => {
    const channel = await open();
    reply = () => undefined;
    const silent = await channel.call('guest-info', undefined, { timeoutMs: 300 });
    expect(!silent.ok && silent.error.code).toBe('AGENT_TIMEOUT');
    reply = () => '{"error": {"class": "GenericError", "desc": "denied\\u001b[2J"}}\n';
    const denied = await channel.call('guest-exec', undefined);
    expect(!denied.ok && denied.error).toEqual({
      code: 'AGENT_ERROR',
      message: 'guest-exec: denied [2J (GenericError)',
    });
    channel.close();
  });

  it('reports a closed channel as AGENT_UNAVAILABLE', async () => {
    const channel = await open();
    reply = () => {
      for (const socket of sockets) socket.destroy();
      return undefined;
    };
    const closed = await channel.call('guest-ping', undefined, { timeoutMs: 2_000 });
    expect(!closed.ok && closed.error.code).toBe('AGENT_UNAVAILABLE');
    expect(channel.isOpen).toBe(false);
  });
});
