// Scans every /proc/PID/cmdline and /proc/PID/environ in a tight loop for needles given on stdin
// (one hex-encoded needle per line, never argv), until stdin closes; then prints a JSON report.
// Runs as its own process so the scan is fast and does not share an event loop with the test.
import { readdirSync, readFileSync } from 'node:fs';
import { setImmediate } from 'node:timers';

const needles = [];
const hits = new Set();
const psmPids = new Set();
let rounds = 0;
let done = false;
let pending = '';

process.stdin.on('data', (chunk) => {
  pending += chunk.toString('latin1');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) if (line !== '') needles.push(Buffer.from(line, 'hex'));
});
process.stdin.on('end', () => {
  done = true;
});

function scanOnce() {
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid) || pid === String(process.pid)) continue;
    for (const file of ['cmdline', 'environ']) {
      let content;
      try {
        content = readFileSync(`/proc/${pid}/${file}`);
      } catch {
        continue;
      }
      if (file === 'cmdline' && content.includes('bin/psm.js')) psmPids.add(pid);
      needles.forEach((needle, i) => {
        if (content.includes(needle)) hits.add(`${pid}/${file}: needle ${i}`);
      });
    }
  }
  rounds += 1;
}

while (!done) {
  scanOnce();
  await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write(`${JSON.stringify({ hits: [...hits], psmPids: psmPids.size, rounds })}\n`);
