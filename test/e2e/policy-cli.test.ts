/**
 * `psm policy lint|explain|render|gate` through the real CLI entry point (in-process main()), on
 * the shipped policies, the vectors and files in a temp dir: output, --json and exit codes.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthorizedKeysLine } from '../../src/authorized-keys/index.js';
import {
  basePolicyDocument,
  POLICY_VECTORS,
  policyYaml,
  SHIPPED_POLICIES,
} from '../helpers/policy-fixtures.js';
import { runPsmInProcess, type PsmRun } from '../helpers/run-psm.js';
import { makeTempDir } from '../helpers/temp-dir.js';

function psm(...args: string[]): Promise<PsmRun> {
  return runPsmInProcess(args);
}

const MAIN_NODE = join(SHIPPED_POLICIES, 'main-node.yaml');

describe('psm policy', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  const file = (name: string): string => join(dir.path, name);
  beforeAll(async () => {
    dir = await makeTempDir('policy-cli');
    const keys = (await readFile(join(POLICY_VECTORS, 'public-keys.txt'), 'utf8')).split('\n');
    await writeFile(file('id.pub'), `${keys[1]}\n`);
    await writeFile(file('two.pub'), `${keys[1]}\n${keys[2]}\n`);
    await writeFile(file('bad.pub'), 'ssh-ed25519 AAAA!!!!\n');
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(async () => dir.remove());

  it('lint: the shipped policies are clean (exit 0), also with --strict', async () => {
    const text = await psm('policy', 'lint', SHIPPED_POLICIES);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe('3 policy file(s): 0 error(s), 0 warning(s)\n');
    const json = await psm('policy', 'lint', SHIPPED_POLICIES, '--strict', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ errors: 0, warnings: 0, findings: [], ok: true });
  });

  it('lint: errors give exit 1 with code and file:line:column; warnings only fail with --strict', async () => {
    const bad = await psm('policy', 'lint', join(POLICY_VECTORS, 'invalid', 'pty.yaml'));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('pty.yaml:18:1: error POLICY_NEVER_GRANTED:');
    const doc = basePolicyDocument();
    delete doc.from;
    await writeFile(file('open.yaml'), policyYaml(doc));
    const warned = await psm('policy', 'lint', file('open.yaml'));
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/open\.yaml:\d+:\d+: warning POLICY_NO_FROM: /);
    const strict = await psm('policy', 'lint', file('open.yaml'), '--strict', '--json');
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout).findings[0]).toMatchObject({
      severity: 'warning',
      code: 'POLICY_NO_FROM',
    });
  });

  it('lint: a missing directory is exit 3', async () => {
    const missing = await psm('policy', 'lint', file('nowhere'), '--json');
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'LINT_NOT_FOUND' } });
  });

  it('--gate-dir that is not a canonical absolute path is exit 2 before any policy is read', async () => {
    for (const gateDir of [
      'libexec/psm',
      '/usr/local/../libexec',
      '/usr//libexec',
      '/usr/libexec/',
      "/usr/lib'exec",
    ]) {
      for (const args of [
        ['policy', 'lint', SHIPPED_POLICIES],
        ['policy', 'explain', MAIN_NODE],
      ]) {
        const run = await psm(...args, '--gate-dir', gateDir, '--json');
        expect({ gateDir, code: run.code }).toStrictEqual({ gateDir, code: 2 });
        expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'POLICY_BAD_GATE_DIR' } });
      }
    }
    // The shipped policies name gates in the default directory, so another one is a lint error.
    const elsewhere = await psm('policy', 'lint', SHIPPED_POLICIES, '--gate-dir', '/opt/psm/gates');
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stdout + elsewhere.stderr).toContain('POLICY_GATE_OUTSIDE_DIR');
  });

  it('explain: plain words, and --json', async () => {
    const text = await psm('policy', 'explain', MAIN_NODE);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('A key written under this policy CAN:');
    expect(text.stdout).toContain('127.0.0.1 on port 2711');
    expect(text.stdout).toContain('Get a terminal (no pty)');
    expect(text.stdout).toContain('AllowStreamLocalForwarding no');
    expect(text.stdout.split('\n').every((line) => line.length <= 100)).toBe(true);
    const json = await psm('policy', 'explain', MAIN_NODE, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'main-node', role: 'main-node' });
  });

  it('explain: an invalid policy is exit 3 with every error, never an explanation', async () => {
    const bad = await psm('policy', 'explain', join(POLICY_VECTORS, 'invalid', 'gate-shell-chars.yaml'));
    expect(bad).toMatchObject({ code: 3, stdout: '' });
    expect(bad.stderr).toMatch(/^psm: POLICY_BAD_VALUE: .*gate-shell-chars\.yaml:9:9: command\.gate/);
  });

  it('render: one line that the engine reads back; --json; reproducible with --now', async () => {
    const args = [
      'policy',
      'render',
      MAIN_NODE,
      '--key',
      file('id.pub'),
      '--app',
      'app-1',
      '--now',
      '2026-03-01T10:00:00Z',
    ];
    const first = await psm(...args);
    const second = await psm(...args);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(first.stdout.endsWith('\n')).toBe(true);
    expect(first.stdout.slice(0, -1)).not.toContain('\n');
    const entry = parseAuthorizedKeysLine(first.stdout.slice(0, -1));
    expect(entry.ok && entry.value.kind === 'key' ? entry.value.options.expiryTime : null).toStrictEqual([
      '20260308100000Z',
    ]);
    const json = JSON.parse((await psm(...args, '--json')).stdout);
    expect(json).toMatchObject({
      policy: 'main-node',
      role: 'main-node',
      expiresAt: '2026-03-08T10:00:00.000Z',
    });
    expect(`${json.line}\n`).toBe(first.stdout);
  });

  it('render: bad arguments are exit 2, bad key files exit 3', async () => {
    const render = (...extra: string[]) => psm('policy', 'render', MAIN_NODE, ...extra);
    expect((await render('--key', file('id.pub'), '--app', 'a b')).code).toBe(2);
    expect((await render('--key', file('id.pub'), '--now', 'yesterday')).code).toBe(2);
    expect((await render('--key', file('id.pub'), '--now', '2026-03-01T10:00:00+01:00')).code).toBe(2);
    expect((await render()).code).toBe(2);
    expect((await render('--key', file('two.pub'))).code).toBe(3);
    expect((await render('--key', file('bad.pub'))).code).toBe(3);
    expect((await render('--key', file('none.pub'))).code).toBe(3);
  });

  it('gate: prints the script, writes it atomically with mode 0755, and reports its sha256', async () => {
    const printed = await psm('policy', 'gate', MAIN_NODE);
    expect(printed.code).toBe(0);
    expect(printed.stdout.startsWith('#!/bin/sh\n')).toBe(true);
    const written = await psm('policy', 'gate', MAIN_NODE, '--out', file('gate'), '--json');
    expect(written.code).toBe(0);
    const report = JSON.parse(written.stdout);
    expect(report).toMatchObject({ policy: 'main-node', gatePath: '/usr/local/libexec/psm/gate-main-node' });
    expect(await readFile(file('gate'), 'utf8')).toBe(printed.stdout);
    expect((await stat(file('gate'))).mode & 0o777).toBe(0o755);
    const json = JSON.parse((await psm('policy', 'gate', MAIN_NODE, '--json')).stdout);
    expect(json.sha256).toBe(report.sha256);
    expect(json.script).toBe(printed.stdout);
    expect((await psm('policy', 'gate', MAIN_NODE, '--out', dir.path)).code).toBe(4);
    const missingDir = await psm('policy', 'gate', MAIN_NODE, '--out', file('no/such/dir/gate'));
    expect(missingDir.code).toBe(3);
    expect(missingDir.stderr).toContain('GATE_WRITE_FAILED');
  });

  it('every command has --help with examples', async () => {
    for (const command of ['lint', 'explain', 'render', 'gate']) {
      const help = await psm('policy', command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain('--json');
    }
  });
});
