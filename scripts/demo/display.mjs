// What the demo prints: numbered steps with their time, one line per check (PASS/FAIL with what
// was seen), a live progress line only when stdout is a terminal, and the summary table.
import { setInterval, clearInterval } from 'node:timers';

const SPIN = ['|', '/', '-', '\\'];

export function createDisplay(out = process.stdout) {
  const tty = out.isTTY === true;
  let live;
  let timer;
  const clearLive = () => {
    if (tty && live !== undefined) out.write('\r\x1b[2K');
  };
  const drawLive = () => {
    if (!tty || live === undefined) return;
    const seconds = ((Date.now() - live.started) / 1000).toFixed(0);
    const frame = SPIN[Math.floor(Date.now() / 250) % SPIN.length];
    out.write(`\r\x1b[2K${frame} step ${live.n}/${live.total}: ${live.doing} (${seconds} s)`);
  };
  const line = (text) => {
    clearLive();
    out.write(`${text}\n`);
    drawLive();
  };
  return {
    tty,
    line,
    stepStart(n, title, total) {
      line(`\n[${n}/${total}] ${title}`);
      live = { n, total, doing: title, started: Date.now() };
      if (tty) timer = setInterval(drawLive, 250);
    },
    doing(text) {
      if (live !== undefined) live.doing = text;
      if (!tty) return;
      drawLive();
    },
    command(text) {
      line(`      $ ${text}`);
    },
    check(ok, what, detail) {
      line(`  ${ok ? 'PASS' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
    },
    stepEnd(n, seconds, failed) {
      if (timer !== undefined) clearInterval(timer);
      clearLive();
      live = undefined;
      timer = undefined;
      out.write(`      step ${n} ${failed ? 'FAILED' : 'done'} in ${seconds.toFixed(1)} s\n`);
    },
    summary(steps, totalSeconds) {
      const rows = steps.map((s) => [
        String(s.n),
        s.title,
        `${s.checks.filter((c) => c.ok).length}/${s.checks.length}`,
        s.checks.every((c) => c.ok) && s.error === undefined ? 'ok' : 'FAILED',
        s.seconds.toFixed(1),
      ]);
      const head = ['step', 'what was checked', 'checks', 'result', 'seconds'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const fmt = (r) =>
        r.map((cell, i) => (i === 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
      line('');
      line(fmt(head));
      line(widths.map((w) => '-'.repeat(w)).join('  '));
      for (const r of rows) line(fmt(r));
      line(`total ${totalSeconds.toFixed(1)} s`);
    },
  };
}
