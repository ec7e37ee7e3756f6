// Worker image: the cached `psm image build` check, and boots under the QEMU driver's command line
// (q35, TCG, 256 MB): time to a working agent (guest-sync-delimited answered), to sshd's banner,
// QEMU's RSS, and ACPI powerdown to exit. Compared against booting the compressed vmlinuz from the
// same kernel package (what -kernel would otherwise be given). Prints; never fails on time.
// Needs `npm run build` and the image (`psm image build --out .cache/worker-image`) first.
import { randomInt } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { runProgram } = await import(pathToFileURL(join(root, 'dist/common/run-program.js')).href);
const { readWorkerImageManifest } = await import(
  pathToFileURL(join(root, 'dist/guest-ops/image/manifest.js')).href
);
const BOOTS = 3;

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

async function agentReady(socketPath, deadline) {
  const socket = createConnection(socketPath);
  await new Promise((done, fail) => socket.once('connect', done).once('error', fail));
  let text = '';
  socket.on('data', (chunk) => (text += chunk.toString('latin1')));
  try {
    while (Date.now() < deadline) {
      const id = randomInt(1, 2 ** 31);
      socket.write(Buffer.from([0xff]));
      socket.write(`${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } })}\n`);
      for (let i = 0; i < 20; i += 1) {
        if (text.includes(`"return": ${id}`)) return true;
        await sleep(50);
      }
    }
    return false;
  } finally {
    socket.destroy();
  }
}

async function sshBanner(port, deadline) {
  while (Date.now() < deadline) {
    const banner = await new Promise((done) => {
      const s = createConnection(port, '127.0.0.1');
      let got = '';
      s.on('data', (c) => {
        got += c.toString();
        if (got.includes('\n')) {
          s.destroy();
          done(got);
        }
      });
      s.on('error', () => done(''));
      s.on('close', () => done(got));
      setTimeout(() => {
        s.destroy();
        done(got);
      }, 1000);
    });
    if (banner.startsWith('SSH-2.0')) return true;
    await sleep(50);
  }
  return false;
}

async function qmpPowerdown(socketPath) {
  const socket = createConnection(socketPath);
  await new Promise((done, fail) => socket.once('connect', done).once('error', fail));
  socket.write('{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n');
  // Read (and drop) the replies: a paused socket never sees the close when QEMU exits.
  socket.resume();
  await new Promise((done) => socket.once('close', done).once('error', done));
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function boot(imageDir, manifest, kernelPath) {
  const dir = await mkdtemp(join(tmpdir(), 'psm-bench-img-'));
  try {
    const overlay = join(dir, 'clone.qcow2');
    const base = join(imageDir, manifest.baseDisk);
    await runProgram('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, overlay], {
      timeoutMs: 30_000,
    });
    const port = await freePort();
    const qga = join(dir, 'qga.sock');
    const qmp = join(dir, 'qmp.sock');
    const started = Date.now();
    const run = await runProgram(
      'qemu-system-x86_64',
      [
        ...['-M', 'q35', '-accel', 'tcg', '-m', '256', '-smp', '1', '-kernel', kernelPath],
        ...['-initrd', join(imageDir, manifest.initrd), '-append', manifest.append],
        ...[
          '-drive',
          `if=none,id=persist,file=${overlay},format=qcow2`,
          '-device',
          'virtio-blk-pci,drive=persist',
        ],
        ...['-device', 'virtio-serial-pci', '-chardev', `socket,path=${qga},server=on,wait=off,id=qga0`],
        ...['-device', `virtserialport,chardev=qga0,name=${manifest.qgaPortName}`],
        ...[
          '-netdev',
          `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`,
          '-device',
          'virtio-net-pci,netdev=n0',
        ],
        ...[
          '-qmp',
          `unix:${qmp},server=on,wait=off`,
          '-display',
          'none',
          '-serial',
          `file:${join(dir, 'console.log')}`,
        ],
        ...['-daemonize', '-pidfile', join(dir, 'qemu.pid')],
      ],
      { timeoutMs: 60_000 },
    );
    if (run.exitCode !== 0) throw new Error(run.stderr.toString());
    const pid = Number((await readFile(join(dir, 'qemu.pid'), 'utf8')).trim());
    try {
      const ok = await agentReady(qga, started + 120_000);
      const agentMs = Date.now() - started;
      const sshOk = await sshBanner(port, started + 120_000);
      const sshMs = Date.now() - started;
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      const downStart = Date.now();
      await qmpPowerdown(qmp);
      while (alive(pid) && Date.now() - downStart < 60_000) await sleep(50);
      return {
        ok: ok && sshOk,
        agentMs,
        sshMs,
        rssMb,
        powerdownMs: alive(pid) ? NaN : Date.now() - downStart,
      };
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function series(label, imageDir, manifest, kernelPath) {
  const runs = [];
  for (let i = 0; i < BOOTS; i += 1) runs.push(await boot(imageDir, manifest, kernelPath));
  const failed = runs.filter((r) => !r.ok).length;
  const m = (k) => median(runs.map((r) => r[k]));
  console.log(
    `${label}: agent ${(m('agentMs') / 1000).toFixed(2)} s, sshd ${(m('sshMs') / 1000).toFixed(2)} s, ` +
      `RSS ${m('rssMb').toFixed(0)} MB, powerdown ${(m('powerdownMs') / 1000).toFixed(2)} s ` +
      `(median of ${BOOTS}${failed ? `, ${failed} FAILED` : ''})`,
  );
  return m('agentMs');
}

export async function run() {
  const imageDir = process.env.PSM_WORKER_IMAGE ?? join(root, '.cache/worker-image');
  const read = await readWorkerImageManifest(imageDir);
  if (!read.ok) {
    console.log(`no worker image in ${imageDir} (${read.error.code}); run psm image build first`);
    return;
  }
  const manifest = read.value;
  const t0 = Date.now();
  await runProgram(
    process.execPath,
    [
      join(root, 'bin/psm.js'),
      'image',
      'build',
      '--out',
      imageDir,
      '--cache',
      join(root, '.cache/worker-image-cache'),
    ],
    {
      timeoutMs: 600_000,
    },
  );
  console.log(`psm image build, up to date: ${((Date.now() - t0) / 1000).toFixed(2)} s`);
  const sizes = [manifest.kernel, manifest.initrd, manifest.baseDisk].map(async (f) => {
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(join(imageDir, f)));
    return `${f} ${(size / 1024 / 1024).toFixed(1)} MB`;
  });
  console.log(`sizes: ${(await Promise.all(sizes)).join(', ')}`);

  console.log(
    `load average before the boots: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (2 cores)`,
  );
  const vmlinuxMs = await series('vmlinux (psm)', imageDir, manifest, join(imageDir, manifest.kernel));

  // The same kernel as the package ships it (compressed bzImage), from the cached .deb.
  const debs = join(root, '.cache/worker-image-cache/debs');
  const deb = (await readdir(debs).catch(() => [])).find((f) => f.includes(manifest.kernelVersion));
  if (deb === undefined) return;
  const scratch = await mkdtemp(join(tmpdir(), 'psm-bench-kernel-'));
  try {
    await runProgram('dpkg-deb', ['-x', join(debs, deb), scratch], { timeoutMs: 300_000 });
    const vmlinuzMs = await series(
      'vmlinuz (package as shipped)',
      imageDir,
      manifest,
      join(scratch, 'boot', `vmlinuz-${manifest.kernelVersion}`),
    );
    console.log(`boot to agent, vmlinuz / vmlinux: ${(vmlinuzMs / vmlinuxMs).toFixed(2)}x`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
