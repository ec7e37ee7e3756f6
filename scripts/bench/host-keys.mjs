// host-keys: one clone's host key made in process (generate + openssh-key-v1 file + .pub line +
// SHA256 fingerprint) against what an admin would otherwise run per clone,
// `ssh-keygen -t ed25519 -N '' -f FILE` as a process (which does the same three things), measured
// in the same run. Prints figures; never fails on time. Needs `npm run build`.
// Not yet here: prepare's guest operations beside `ssh-keygen -A` through the agent (needs a VM).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, samples } from '../bench-support/timing.mjs';

export async function run() {
  const { runProgram } = await load('common/run-program.js');
  const { generateSshKeyPair, wipeKeyPair } = await load('authorized-keys/keys/index.js');
  const dir = await mkdtemp(join(tmpdir(), 'psm-bench-host-keys-'));
  try {
    for (const algorithm of ['ed25519', 'ecdsa', 'rsa']) {
      const count = algorithm === 'rsa' ? 5 : 200;
      const inProcess = await samples(count, () => {
        const pair = generateSshKeyPair(algorithm, 'root@worker');
        wipeKeyPair(pair);
      });
      let n = 0;
      const keygen = await samples(algorithm === 'rsa' ? 5 : 20, async () => {
        n += 1;
        const bits = { ed25519: [], ecdsa: ['-b', '256'], rsa: ['-b', '3072'] }[algorithm];
        const made = await runProgram(
          'ssh-keygen',
          [
            '-q',
            '-t',
            algorithm,
            ...bits,
            '-N',
            '',
            '-C',
            'root@worker',
            '-f',
            join(dir, `k${algorithm}${n}`),
          ],
          { timeoutMs: 60_000 },
        );
        if (made.exitCode !== 0) throw new Error(made.stderr.toString());
      });
      const ratio = keygen / inProcess;
      console.log(
        `${algorithm.padEnd(8)} in process ${inProcess.toFixed(3)} ms/key   ssh-keygen -t ${algorithm} -N '' -f: ${keygen.toFixed(2)} ms/key   ${ratio.toFixed(1)}x faster${algorithm === 'ed25519' ? ' (target >= 50x)' : ''}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
