import type { CliIo } from './output.js';

export interface Progress {
  /** Moves the bar to `done` of `total` (or by one step when called without an argument). */
  update(done?: number, note?: string): void;
  finish(): void;
}

const WIDTH = 30;

/**
 * A one-line progress bar on stderr, only when stderr is a terminal (never in pipes, logs or
 * --json output, which must stay machine-readable).
 */
export function startProgress(io: CliIo, label: string, total: number): Progress {
  if (!io.stderr.isTTY || total <= 0) return { update: () => undefined, finish: () => undefined };
  let current = 0;
  const draw = (note = ''): void => {
    const filled = Math.round((current / total) * WIDTH);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
    io.stderr.write(`\r${label} [${bar}] ${current}/${total} ${note}`.padEnd(80).slice(0, 120));
  };
  draw();
  return {
    update(done, note) {
      current = Math.min(total, done ?? current + 1);
      draw(note);
    },
    finish() {
      current = total;
      draw();
      io.stderr.write('\n');
    },
  };
}
