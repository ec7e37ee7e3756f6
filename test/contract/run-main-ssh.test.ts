/**
 * run-main's SSH session against a real OpenSSH sshd on 127.0.0.1: the output streams and the
 * exit status are the remote command's, and every way the login or the gate can say no is its own
 * code. The pinned host key is the only one accepted, so a server with another key never gets
 * the command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSshKeyPair, wipeKeyPair } from '../../src/authorized-keys/keys/index.js';
import { parsePublicKey, type PublicKey } from '../../src/authorized-keys/keys/public-key.js';
import { sshExec, type SshExecInput } from '../../src/psm/run-main/ssh-exec.js';
import { ensureTestUser, startSshd, TEST_USER, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
const client = generateSshKeyPair('ed25519', 'run-main-test');
const stranger = generateSshKeyPair('ed25519', 'stranger');

function keyOf(line: string): PublicKey {
  const [type = '', base64 = ''] = line.trim().split(' ');
  const parsed = parsePublicKey(type, base64);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

const publicPart = (line: string): string => line.trim().split(' ').slice(0, 2).join(' ');

/** The remote commands, one per key (the key's command= applies: sshd has no ForceCommand). */
const COMMANDS: Record<string, string> = {
  output: "printf 'out\\n'; printf 'err\\n' >&2; exit 3",
  gate: "printf 'psm-gate: refused by policy test: object not allowed: x\\n' >&2; exit 126",
  notGate: "printf 'something else\\n' >&2; exit 126",
  signal: 'kill -TERM $$',
  sleep: 'sleep 60',
  big: 'head -c 3000000 /dev/zero',
};
const pairs = Object.fromEntries(
  Object.keys(COMMANDS).map((name) => [name, generateSshKeyPair('ed25519', name)]),
);

beforeAll(async () => {
  await ensureTestUser();
  sshd = await startSshd({ forceCommand: null });
  await sshd.writeAuthorizedKeys(
    Object.entries(COMMANDS)
      .map(([name, command]) => `restrict,command="${command}" ${publicPart(pairs[name]?.publicKey ?? '')}\n`)
      .join(''),
  );
}, 60_000);
afterAll(async () => {
  await sshd?.stop();
  for (const pair of [client, stranger, ...Object.values(pairs)]) wipeKeyPair(pair);
});

async function run(name: string, overrides: Partial<SshExecInput> = {}) {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const result = await sshExec({
    host: '127.0.0.1',
    port: sshd.port,
    user: TEST_USER,
    pins: [keyOf(sshd.hostKeyPublic)],
    privateKey: pairs[name]?.privateKey ?? new Uint8Array(0),
    command: 'popcobjrun /usr/local/popc/objects/hello',
    onStdout: (c) => {
      stdout.push(Buffer.from(c));
    },
    onStderr: (c) => {
      stderr.push(Buffer.from(c));
    },
    timeoutMs: 0,
    ...overrides,
  });
  return { result, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
}

describe('sshExec against a real sshd', { timeout: 60_000 }, () => {
  it("streams stdout and stderr apart and returns the command's own exit code", async () => {
    const { result, stdout, stderr } = await run('output');
    expect(result).toEqual({ ok: true, value: { exitCode: 3, signal: null } });
    expect(stdout).toBe('out\n');
    // The test user has no home directory: sshd says so on stderr before the command's line.
    expect(stderr).toMatch(/(^|\n)err\n$/);
  });

  it('a command killed by a signal ends with the signal, not a code', async () => {
    const { result } = await run('signal');
    expect(result).toEqual({ ok: true, value: { exitCode: null, signal: 'SIGTERM' } });
  });

  it("the gate's refusal (126 and its own line) is RUN_GATE_REFUSED with its reason; another 126 is the command's", async () => {
    const gate = await run('gate');
    expect(gate.result).toMatchObject({
      ok: false,
      error: {
        code: 'RUN_GATE_REFUSED',
        message: expect.stringMatching(/policy test: object not allowed: x$/) as string,
      },
    });
    expect((await run('notGate')).result).toEqual({ ok: true, value: { exitCode: 126, signal: null } });
  });

  it('a server without the pinned host key is refused before any command: RUN_HOST_KEY_MISMATCH', async () => {
    const { result, stdout, stderr } = await run('output', { pins: [keyOf(stranger.publicKey)] });
    expect(result.ok ? null : result.error.code).toBe('RUN_HOST_KEY_MISMATCH');
    expect([stdout, stderr]).toEqual(['', '']);
  });

  it('a key sshd does not accept is RUN_LOGIN_REFUSED; nothing listening is RUN_SSH_FAILED', async () => {
    const refused = await run('output', { privateKey: client.privateKey });
    expect(refused.result.ok ? null : refused.result.error.code).toBe('RUN_LOGIN_REFUSED');
    const { freePort } = await import('../helpers/free-port.js');
    const nobody = await run('output', { port: await freePort() });
    expect(nobody.result.ok ? null : nobody.result.error.code).toBe('RUN_SSH_FAILED');
  });

  it('--timeout and an interrupt close the session: RUN_TIMEOUT, RUN_ABORTED', async () => {
    const timedOut = await run('sleep', { timeoutMs: 1_000 });
    expect(timedOut.result.ok ? null : timedOut.result.error.code).toBe('RUN_TIMEOUT');
    const controller = new AbortController();
    const aborted = run('sleep', { signal: controller.signal });
    setTimeout(() => controller.abort(), 1_000);
    const outcome = await aborted;
    expect(outcome.result.ok ? null : outcome.result.error.code).toBe('RUN_ABORTED');
  });

  it('a slow sink holds the stream (backpressure) and loses nothing', async () => {
    let bytes = 0;
    let held = 0;
    const { result } = await run('big', {
      onStdout: (chunk) => {
        bytes += chunk.length;
        held += 1;
        return new Promise((resolve) => setTimeout(resolve, 1));
      },
    });
    expect(result).toEqual({ ok: true, value: { exitCode: 0, signal: null } });
    expect(bytes).toBe(3_000_000);
    expect(held).toBeGreaterThan(1);
  });
});
