import type { Socket } from 'node:net';
import { err, ok, type Result } from '../../common/result.js';
import { fail, type GuestOpsError } from '../errors.js';
import { Deadline } from '../wire/deadline.js';
import { JsonLineSplitter } from '../wire/json-lines.js';
import { connectUnixSocket, type UnixPeer } from '../wire/unix-socket.js';
import { MAX_QMP_LINE_BYTES, parseQmpMessage, type QmpMessage } from './messages.js';

const QMP_PEER: UnixPeer = { name: 'the QMP socket', unavailable: 'HYPERVISOR_FAILED', timeout: 'TIMEOUT' };

/**
 * A QMP (QEMU Machine Protocol) client over the VM's monitor socket: greeting, capabilities
 * handshake, commands matched to replies by id, and events kept (bounded) for `waitForEvent`.
 * Commands are serialised; QMP would allow more, psm never needs it.
 */

export const DEFAULT_QMP_TIMEOUT_MS = 10_000;
/** Events nobody waited for yet; the oldest are dropped beyond this. */
const MAX_KEPT_EVENTS = 64;

export interface QmpCallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface QmpEvent {
  readonly event: string;
  readonly data: unknown;
}

type Pending = { readonly id: number; readonly settle: (result: Result<unknown, GuestOpsError>) => void };

export class QmpClient {
  private readonly splitter = new JsonLineSplitter(MAX_QMP_LINE_BYTES, false);
  private readonly events: QmpEvent[] = [];
  private eventWaiters: Array<(event: QmpEvent | undefined) => void> = [];
  private pending: Pending | undefined;
  private greeting: ((message: QmpMessage | undefined) => void) | undefined;
  private nextId = 1;
  private closed = false;
  private tail: Promise<unknown> = Promise.resolve();
  version = '';

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.onClosed());
    socket.on('error', () => this.onClosed());
  }

  static async open(path: string, options: QmpCallOptions = {}): Promise<Result<QmpClient, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_QMP_TIMEOUT_MS, options.signal);
    const socket = await connectUnixSocket(path, deadline, QMP_PEER);
    if (!socket.ok) return socket;
    const client = new QmpClient(socket.value);
    const greeting = await client.awaitGreeting(deadline);
    if (greeting.ok) {
      client.version = greeting.value;
      const caps = await client.execute('qmp_capabilities', undefined, deadline.step(DEFAULT_QMP_TIMEOUT_MS));
      if (caps.ok) return ok(client);
      client.close();
      return caps;
    }
    client.close();
    return greeting;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  execute(
    command: string,
    args: Record<string, unknown> | undefined,
    options: QmpCallOptions = {},
  ): Promise<Result<unknown, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_QMP_TIMEOUT_MS, options.signal);
    const work = (): Promise<Result<unknown, GuestOpsError>> => this.executeNow(command, args, deadline);
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Asks QEMU to exit. QEMU may close the socket before its reply arrives: that counts as done. */
  async quit(options: QmpCallOptions = {}): Promise<Result<void, GuestOpsError>> {
    const result = await this.execute('quit', undefined, options);
    return result.ok || this.closed ? ok(undefined) : result;
  }

  /** Resolves with the first event named `name` (already received or still to come), or a timeout. */
  async waitForEvent(name: string, options: QmpCallOptions = {}): Promise<Result<QmpEvent, GuestOpsError>> {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_QMP_TIMEOUT_MS, options.signal);
    for (;;) {
      const index = this.events.findIndex((e) => e.event === name);
      if (index >= 0) return ok(this.events.splice(index, 1)[0] as QmpEvent);
      if (this.closed) return fail('HYPERVISOR_FAILED', `the QMP connection closed before ${name}`);
      const got = await new Promise<QmpEvent | undefined>((resolve) => {
        const onAbort = (): void => resolve(undefined);
        deadline.signal.addEventListener('abort', onAbort, { once: true });
        this.eventWaiters.push((event) => {
          deadline.signal.removeEventListener('abort', onAbort);
          resolve(event);
        });
      });
      if (got === undefined && deadline.aborted) return err(deadline.error('TIMEOUT', `waiting for ${name}`));
    }
  }

  /** Drops events received so far (before an action whose event the caller will wait for). */
  clearEvents(): void {
    this.events.length = 0;
  }

  close(): void {
    if (!this.closed) this.socket.destroy();
    this.onClosed();
  }

  private async executeNow(
    command: string,
    args: Record<string, unknown> | undefined,
    deadline: Deadline,
  ): Promise<Result<unknown, GuestOpsError>> {
    if (this.closed) return fail('HYPERVISOR_FAILED', `the QMP connection is closed (${command})`);
    const id = this.nextId;
    this.nextId += 1;
    const request = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    return new Promise((resolve) => {
      const onAbort = (): void => settle(err(deadline.error('TIMEOUT', `QMP ${command}`)));
      const settle = (result: Result<unknown, GuestOpsError>): void => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        deadline.signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      this.pending = { id, settle };
      if (deadline.aborted) return onAbort();
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      this.socket.write(`${JSON.stringify(request)}\n`);
    });
  }

  private awaitGreeting(deadline: Deadline): Promise<Result<string, GuestOpsError>> {
    return new Promise((resolve) => {
      const onAbort = (): void => finish(undefined);
      const finish = (message: QmpMessage | undefined): void => {
        this.greeting = undefined;
        deadline.signal.removeEventListener('abort', onAbort);
        if (message?.kind === 'greeting') resolve(ok(message.version));
        else if (message === undefined && deadline.aborted) {
          const e = deadline.error('TIMEOUT', 'the QMP greeting');
          // QEMU greets one client at a time; a second one waits silently.
          resolve(err({ ...e, message: `${e.message} (QMP may be busy with another client)` }));
        } else resolve(fail('HYPERVISOR_PROTOCOL', 'the QMP socket did not greet with {"QMP": ...}'));
      };
      this.greeting = finish;
      deadline.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.splitter.push(chunk)) {
      if (frame.kind !== 'line') {
        this.protocolFailure('a QMP message is too long');
        continue;
      }
      const message = parseQmpMessage(frame.bytes);
      if (!message.ok) {
        this.protocolFailure(`bad QMP message: ${message.error}`);
        continue;
      }
      this.dispatch(message.value);
    }
  }

  private dispatch(message: QmpMessage): void {
    switch (message.kind) {
      case 'greeting':
        this.greeting?.(message);
        return;
      case 'event': {
        const event = { event: message.event, data: message.data };
        const waiters = this.eventWaiters;
        this.eventWaiters = [];
        this.events.push(event);
        if (this.events.length > MAX_KEPT_EVENTS) this.events.shift();
        for (const wake of waiters) wake(event);
        return;
      }
      case 'return': {
        // A reply without our id belongs to a command that timed out earlier: ignored.
        const pending = this.pending;
        if (pending !== undefined && pending.id === message.id) pending.settle(ok(message.value));
        return;
      }
      case 'error': {
        const pending = this.pending;
        if (pending !== undefined && pending.id === message.id)
          pending.settle(fail('HYPERVISOR_FAILED', `QMP: ${message.desc} (${message.errorClass})`));
        return;
      }
    }
  }

  private protocolFailure(message: string): void {
    this.greeting?.(undefined);
    this.pending?.settle(fail('HYPERVISOR_PROTOCOL', message));
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.greeting?.(undefined);
    this.pending?.settle(fail('HYPERVISOR_FAILED', 'the QMP connection closed'));
    const waiters = this.eventWaiters;
    this.eventWaiters = [];
    for (const wake of waiters) wake(undefined);
  }
}
