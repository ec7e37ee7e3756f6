import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import { err, ok, type Result } from '../../common/result.js';
import { fail, type GuestOpsError } from '../errors.js';
import { Deadline } from '../wire/deadline.js';
import { JsonLineSplitter, SYNC_DELIMITER, type FrameEvent } from '../wire/json-lines.js';
import { connectUnixSocket, type UnixPeer } from '../wire/unix-socket.js';
import { decodeSyncId, MAX_AGENT_REPLY_BYTES, parseAgentReply } from './replies.js';

const AGENT_PEER: UnixPeer = {
  name: 'the guest agent socket',
  unavailable: 'AGENT_UNAVAILABLE',
  timeout: 'AGENT_TIMEOUT',
};

/**
 * One connection to a guest agent (qemu-ga) over the VM's virtio-serial chardev socket.
 *
 * The agent serves one client at a time and answers requests in order, so this class owns the
 * only connection psm keeps per VM and pushes every request through a queue. Before the first
 * request, after any timeout or garbled reply, and whenever the caller says so (after a snapshot
 * revert) it resynchronises: it sends 0xFF and `guest-sync-delimited` with a random id and drops
 * everything until the reply with that id, preceded by 0xFF, comes back.
 */

export const DEFAULT_AGENT_CALL_TIMEOUT_MS = 10_000;
/** Events buffered while a request waits; a guest that floods more is out of sync by definition. */
const MAX_INBOX_EVENTS = 256;
/** And bytes: one full-size reply plus change; a guest cannot make psm hold more. */
const MAX_INBOX_BYTES = 2 * MAX_AGENT_REPLY_BYTES;
/** Ids the agent echoes back; below 2^47 so they stay exact in every JSON implementation. */
const MAX_SYNC_ID = 2 ** 47;

export interface CallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

type InboxEvent = FrameEvent | { readonly kind: 'closed' };

export class AgentChannel {
  private readonly splitter = new JsonLineSplitter(MAX_AGENT_REPLY_BYTES, true);
  private inbox: InboxEvent[] = [];
  private inboxBytes = 0;
  private wake: (() => void) | undefined;
  private busy = false;
  private synced = false;
  private closed = false;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.onClosed());
    socket.on('error', () => this.onClosed());
  }

  /** Connects without synchronising (the first request will); for waiting on an agent that boots. */
  static async connect(
    socketPath: string,
    options: CallOptions = {},
  ): Promise<Result<AgentChannel, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_AGENT_CALL_TIMEOUT_MS, options.signal);
    const socket = await connectUnixSocket(socketPath, deadline, AGENT_PEER);
    return socket.ok ? ok(new AgentChannel(socket.value, socketPath)) : socket;
  }

  /** Connects and synchronises; fails with AGENT_TIMEOUT when nothing answers in time. */
  static async open(
    socketPath: string,
    options: CallOptions = {},
  ): Promise<Result<AgentChannel, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_AGENT_CALL_TIMEOUT_MS, options.signal);
    const socket = await connectUnixSocket(socketPath, deadline, AGENT_PEER);
    if (!socket.ok) return socket;
    const channel = new AgentChannel(socket.value, socketPath);
    const synced = await channel.enqueue(() => channel.syncNow(deadline));
    if (!synced.ok) {
      channel.close();
      if (synced.error.code !== 'AGENT_TIMEOUT') return synced;
      // The agent serves one client: a connection that is accepted but never answered is the sign.
      return err({
        ...synced.error,
        message: `${synced.error.message} (the agent may be busy with another client)`,
      });
    }
    return ok(channel);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Makes the next request resynchronise first (after a snapshot revert, for instance). */
  invalidate(): void {
    this.synced = false;
  }

  /** Runs one agent command and returns its `return` value (untrusted: decode it). */
  call(
    command: string,
    args: Record<string, unknown> | undefined,
    options: CallOptions = {},
  ): Promise<Result<unknown, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_AGENT_CALL_TIMEOUT_MS, options.signal);
    return this.enqueue(() => this.callNow(command, args, deadline));
  }

  /** Resynchronises now (queued behind running requests). */
  sync(options: CallOptions = {}): Promise<Result<void, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_AGENT_CALL_TIMEOUT_MS, options.signal);
    return this.enqueue(() => this.syncNow(deadline));
  }

  close(): void {
    if (!this.closed) this.socket.destroy();
    this.onClosed();
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async callNow(
    command: string,
    args: Record<string, unknown> | undefined,
    deadline: Deadline,
  ): Promise<Result<unknown, GuestOpsError>> {
    if (!this.synced) {
      const synced = await this.syncNow(deadline);
      if (!synced.ok) return synced;
    }
    const request = args === undefined ? { execute: command } : { execute: command, arguments: args };
    return this.exchange(deadline, Buffer.from(`${JSON.stringify(request)}\n`), async (next) => {
      const event = await next();
      if (event === undefined)
        return this.lost(deadline.error('AGENT_TIMEOUT', `guest agent command ${command}`));
      switch (event.kind) {
        case 'closed':
          return fail('AGENT_UNAVAILABLE', `the guest agent channel closed during ${command}`);
        case 'oversize':
          return this.lost({
            code: 'AGENT_PROTOCOL',
            message: `the reply to ${command} is over ${MAX_AGENT_REPLY_BYTES} bytes`,
          });
        case 'delimiter':
          return this.lost({
            code: 'AGENT_PROTOCOL',
            message: `unexpected sync delimiter in the reply to ${command}`,
          });
        case 'line': {
          const reply = parseAgentReply(event.bytes);
          if (!reply.ok)
            return this.lost({ code: 'AGENT_PROTOCOL', message: `bad reply to ${command}: ${reply.error}` });
          if (reply.value.kind === 'error')
            return fail('AGENT_ERROR', `${command}: ${reply.value.desc} (${reply.value.errorClass})`);
          return ok(reply.value.value);
        }
      }
    });
  }

  private async syncNow(deadline: Deadline): Promise<Result<void, GuestOpsError>> {
    const id = randomInt(1, MAX_SYNC_ID);
    const request = JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } });
    // The leading 0xFF makes the agent's parser drop any half-received request of a previous client.
    const bytes = Buffer.concat([Buffer.from([SYNC_DELIMITER]), Buffer.from(`${request}\n`)]);
    const result = await this.exchange(deadline, bytes, async (next) => {
      let afterDelimiter = false;
      for (;;) {
        const event = await next();
        if (event === undefined) return err(deadline.error('AGENT_TIMEOUT', 'guest agent sync'));
        if (event.kind === 'closed')
          return fail('AGENT_UNAVAILABLE', 'the guest agent channel closed during sync');
        if (event.kind === 'delimiter') {
          afterDelimiter = true;
          continue;
        }
        if (event.kind === 'line' && afterDelimiter) {
          const reply = parseAgentReply(event.bytes);
          if (reply.ok && reply.value.kind === 'return') {
            const echoed = decodeSyncId(reply.value.value);
            if (echoed.ok && echoed.value === id) return ok(undefined);
          }
        }
        // Anything else is a stale reply from before the sync: drop it.
        afterDelimiter = false;
      }
    });
    this.synced = result.ok;
    return result;
  }

  /** Sends `bytes` and lets `read` consume the replies; nothing else runs meanwhile (queue). */
  private async exchange<T>(
    deadline: Deadline,
    bytes: Buffer,
    read: (next: () => Promise<InboxEvent | undefined>) => Promise<Result<T, GuestOpsError>>,
  ): Promise<Result<T, GuestOpsError>> {
    if (this.closed) return fail('AGENT_UNAVAILABLE', `the guest agent channel ${this.socketPath} is closed`);
    if (deadline.aborted) return this.lost(deadline.error('AGENT_TIMEOUT', 'guest agent request'));
    this.clearInbox();
    this.busy = true;
    try {
      this.socket.write(bytes);
      return await read(() => this.next(deadline));
    } finally {
      this.busy = false;
    }
  }

  private lost<T>(error: GuestOpsError): Result<T, GuestOpsError> {
    // A late or garbled reply may still be on its way: the next request must resynchronise.
    this.synced = false;
    return { ok: false, error };
  }

  private receive(chunk: Buffer): void {
    const events = this.splitter.push(chunk);
    const bytes = events.reduce((sum, e) => sum + (e.kind === 'line' ? e.bytes.length : 0), 0);
    const overflow =
      this.inbox.length + events.length > MAX_INBOX_EVENTS || this.inboxBytes + bytes > MAX_INBOX_BYTES;
    if (!this.busy || overflow) {
      // Nobody asked (a late reply to a request that timed out, or noise), or the guest floods:
      // drop it and resynchronise before the next request.
      if (events.length > 0) this.synced = false;
      if (this.busy) this.clearInbox();
      return;
    }
    this.inbox.push(...events);
    this.inboxBytes += bytes;
    this.wake?.();
  }

  private clearInbox(): void {
    this.inbox = [];
    this.inboxBytes = 0;
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.synced = false;
    this.inbox.push({ kind: 'closed' });
    this.wake?.();
  }

  private async next(deadline: Deadline): Promise<InboxEvent | undefined> {
    for (;;) {
      const event = this.inbox.shift();
      if (event !== undefined) {
        if (event.kind === 'line') this.inboxBytes -= event.bytes.length;
        return event;
      }
      if (this.closed) return { kind: 'closed' };
      if (deadline.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          deadline.signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        deadline.signal.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
    }
  }
}
