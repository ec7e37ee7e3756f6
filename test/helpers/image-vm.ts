/**
 * Boots the worker image the way the QEMU driver does (same command line) and talks to its agent
 * over a minimal inline QGA exchange: enough for the image's own smoke test. The real clients live
 * in src/guest-ops/qga and src/guest-ops/qmp.
 */
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProgram } from '../../src/common/run-program.js';
import { freePort } from './free-port.js';
import { qemuArgs } from '../../src/guest-ops/qemu/command-line.js';
import { buildWorkerImage } from '../../src/guest-ops/image/build.js';
import {
  DEFAULT_WORKER_IMAGE_DIR,
  readWorkerImageManifest,
  WORKER_IMAGE_ENV,
  type WorkerImageManifest,
} from '../../src/guest-ops/image/manifest.js';

export function workerImageDir(): string {
  return resolve(process.env[WORKER_IMAGE_ENV] ?? DEFAULT_WORKER_IMAGE_DIR);
}

/** The image tests use; built here (a no-op when `npm test`'s set-up already built it). */
export async function ensureWorkerImage(): Promise<WorkerImageManifest> {
  const dir = workerImageDir();
  const present = await readWorkerImageManifest(dir);
  if (present.ok) return present.value;
  const built = await buildWorkerImage({ out: dir, cache: resolve('.cache/worker-image-cache') });
  if (!built.ok)
    throw new Error(`cannot build the worker image: ${built.error.code}: ${built.error.message}`);
  return built.value.manifest;
}

export interface ImageVm {
  readonly pid: number;
  readonly sshPort: number;
  readonly qgaSocket: string;
  readonly qmpSocket: string;
  readonly consoleLog: string;
  /** Resolves true once the QEMU process is gone, false if it is still there after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<boolean>;
  /** SIGKILL if still running (for cleanup). */
  kill(): Promise<void>;
}

/** Starts QEMU (daemonized) on `overlay`, a qcow2 clone of the image's base disk, in `vmDir`. */
export async function bootImageVm(
  imageDir: string,
  m: WorkerImageManifest,
  overlay: string,
  vmDir: string,
): Promise<ImageVm> {
  const sshPort = await freePort();
  const qgaSocket = join(vmDir, 'qga.sock');
  const qmpSocket = join(vmDir, 'qmp.sock');
  const consoleLog = join(vmDir, 'console.log');
  const pidFile = join(vmDir, 'qemu.pid');
  // Exactly the driver's command line, so the image is tested the way psm boots it.
  const argv = qemuArgs({
    layout: {
      name: 'image-smoke',
      dir: vmDir,
      record: join(vmDir, 'vm.json'),
      overlay,
      qmpSocket,
      qgaSocket,
      pidfile: pidFile,
      consoleLog,
    },
    template: {
      kind: 'kernel',
      kernel: join(imageDir, m.kernel),
      initrd: join(imageDir, m.initrd),
      append: m.append,
      baseDisk: join(imageDir, m.baseDisk),
    },
    accel: 'tcg',
    memoryMiB: 256,
    cpus: 1,
    sshPort,
    qgaPortName: m.qgaPortName,
  });
  const run = await runProgram('qemu-system-x86_64', argv, { timeoutMs: 60_000 });
  if (run.exitCode !== 0) throw new Error(`qemu failed: ${run.stderr.toString()}`);
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    pid,
    sshPort,
    qgaSocket,
    qmpSocket,
    consoleLog,
    async waitExit(timeoutMs) {
      for (let waited = 0; waited < timeoutMs; waited += 100) {
        if (!alive()) return true;
        await sleep(100);
      }
      return !alive();
    },
    async kill() {
      if (alive()) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && alive(); i += 1) await sleep(100);
    },
  };
}

type Reply = { return?: unknown; error?: { class: string; desc: string } };

/** One JSON-lines connection to qemu-ga: 0xFF + guest-sync-delimited first, then request/reply. */
export class QgaLink {
  private buffer = Buffer.alloc(0);
  private readonly replies: Reply[] = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (let nl = this.buffer.indexOf(0x0a); nl >= 0; nl = this.buffer.indexOf(0x0a)) {
        const line = Buffer.from(this.buffer.subarray(0, nl).filter((b) => b !== 0xff));
        this.buffer = this.buffer.subarray(nl + 1);
        if (line.length > 0) this.replies.push(JSON.parse(line.toString('utf8')) as Reply);
      }
      this.wake?.();
    });
  }

  /** Connects and syncs, retrying until the guest's agent answers or `deadlineMs` passes. */
  static async connect(path: string, deadlineMs: number): Promise<QgaLink> {
    const socket = createConnection(path);
    await new Promise<void>((done, fail) => socket.once('connect', done).once('error', fail));
    const link = new QgaLink(socket);
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      const id = randomInt(1, 2 ** 31);
      socket.write(Buffer.from([0xff]));
      socket.write(`${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } })}\n`);
      // Stale replies and the parse error the 0xFF causes are dropped until our id comes back.
      const found = await link.waitFor((r) => r.return === id, 2_000);
      if (found) return link;
    }
    link.close();
    throw new Error('the guest agent did not answer guest-sync-delimited');
  }

  private async waitFor(match: (r: Reply) => boolean, timeoutMs: number): Promise<Reply | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      while (this.replies.length > 0) {
        const reply = this.replies.shift() as Reply;
        if (match(reply)) return reply;
      }
      const left = end - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        this.wake = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
  }

  async call(execute: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<Reply> {
    this.socket.write(`${JSON.stringify(args === undefined ? { execute } : { execute, arguments: args })}\n`);
    const reply = await this.waitFor(() => true, timeoutMs);
    if (reply === undefined) throw new Error(`${execute}: no reply`);
    return reply;
  }

  /** guest-exec + guest-exec-status polling; path + argv, never a shell. */
  async exec(
    path: string,
    arg: readonly string[],
  ): Promise<{ exitcode: number; stdout: string; stderr: string }> {
    const started = await this.call('guest-exec', { path, arg, 'capture-output': true });
    const pid = (started.return as { pid?: number } | undefined)?.pid;
    if (pid === undefined) throw new Error(`guest-exec failed: ${JSON.stringify(started.error)}`);
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      const status = (await this.call('guest-exec-status', { pid })).return as Record<string, unknown>;
      if (status.exited === true) {
        const text = (key: string): string =>
          Buffer.from(String(status[key] ?? ''), 'base64').toString('utf8');
        return { exitcode: Number(status.exitcode), stdout: text('out-data'), stderr: text('err-data') };
      }
      await sleep(delay);
    }
  }

  /** Writes `data` to a new file in the guest (qemu-ga creates it 0666: callers chmod after). */
  async writeFile(path: string, data: string): Promise<void> {
    const open = await this.call('guest-file-open', { path, mode: 'w' });
    const handle = open.return as number;
    await this.call('guest-file-write', { handle, 'buf-b64': Buffer.from(data).toString('base64') });
    await this.call('guest-file-close', { handle });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One QMP command on a fresh connection (capabilities handshake first); returns the reply line. */
export async function qmpCommand(path: string, execute: string): Promise<Record<string, unknown>> {
  const socket = createConnection(path);
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
      buffer = buffer.slice(nl + 1);
    }
    wake?.();
  });
  const next = async (match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    for (;;) {
      const index = lines.findIndex(match);
      if (index >= 0) return lines.splice(index, 1)[0] as Record<string, unknown>;
      await new Promise<void>((done) => (wake = done));
    }
  };
  try {
    await next((l) => 'QMP' in l);
    socket.write('{"execute":"qmp_capabilities"}\n');
    await next((l) => 'return' in l);
    socket.write(`${JSON.stringify({ execute })}\n`);
    return await next((l) => 'return' in l || 'error' in l);
  } finally {
    socket.destroy();
  }
}
