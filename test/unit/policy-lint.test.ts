/** `lintPath` and `policyWarnings`: the shipped policies are clean; each warning and cross-file error fires. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lintPath, parsePolicy, policyWarnings, type StatPath } from '../../src/psm/policy/index.js';
import {
  basePolicyDocument,
  policyYaml,
  SHIPPED_POLICIES,
  type PolicyDocument,
} from '../helpers/policy-fixtures.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const nothingExists: StatPath = async () => undefined;

async function warningsFor(doc: PolicyDocument, statPath: StatPath = nothingExists): Promise<string[]> {
  const parsed = parsePolicy(policyYaml(doc), 'w.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return (await policyWarnings(parsed.value, statPath)).map((f) => `${f.code}@${f.line}`);
}

describe('policy lint', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    dir = await makeTempDir('policy-lint');
  });
  afterEach(async () => dir.remove());

  it('finds the shipped policies clean (no errors, no warnings) on this host', async () => {
    const report = await lintPath(SHIPPED_POLICIES);
    expect(report.ok ? report.value : report.error).toMatchObject({ errors: 0, warnings: 0, findings: [] });
    expect(report.ok ? report.value.files.map((f) => f.split('/').pop()) : []).toStrictEqual([
      'admin.yaml',
      'initiator.yaml',
      'main-node.yaml',
    ]);
  });

  it('has no warning for the base test policy', async () => {
    expect(await warningsFor(basePolicyDocument())).toStrictEqual([]);
  });

  it('warns about wildcards, a missing from, host names in from, and expiry, at their lines', async () => {
    const doc = {
      ...basePolicyDocument(),
      permitOpen: ['*:2711', '127.0.0.1:22'],
      allowWildcard: true,
      expiry: '91d',
    };
    expect(await warningsFor(doc)).toStrictEqual(['POLICY_WILDCARD_PERMIT@13', 'POLICY_LONG_EXPIRY@18']);
    const noFrom = { ...basePolicyDocument(), from: ['grid-*.example.org'] };
    expect(await warningsFor(noFrom)).toStrictEqual(['POLICY_FROM_NEEDS_DNS@16']);
    const open = basePolicyDocument();
    delete open.from;
    delete open.expiry;
    expect((await warningsFor(open)).map((w) => w.split('@')[0])).toStrictEqual([
      'POLICY_NO_FROM',
      'POLICY_NO_EXPIRY',
    ]);
    expect(await warningsFor({ ...basePolicyDocument(), expiry: '90d' })).toStrictEqual([]);
  });

  it('warns when a gate, popcobjrun or object path (or a parent) is writable by everyone on this host', async () => {
    const modes: Record<string, number> = {
      '/usr/local/popc': 0o40777,
      '/usr/local/libexec/psm/gate-test-policy': 0o100755,
    };
    const statPath: StatPath = async (p) => (modes[p] === undefined ? undefined : { mode: modes[p] });
    expect(await warningsFor(basePolicyDocument(), statPath)).toStrictEqual([
      'POLICY_PATH_WRITABLE@9',
      'POLICY_PATH_WRITABLE@11',
    ]);
  });

  it('checks real directories too', async () => {
    const objects = join(dir.path, 'objects');
    await mkdir(objects, { mode: 0o777 });
    const { chmod } = await import('node:fs/promises');
    await chmod(objects, 0o777);
    const doc = { ...basePolicyDocument(), objects: [`${objects}/`] };
    await writeFile(join(dir.path, 'p.yaml'), policyYaml(doc));
    const report = await lintPath(dir.path);
    expect(
      report.ok ? report.value.findings.map((f) => `${f.severity} ${f.code}`) : report.error,
    ).toStrictEqual(['warning POLICY_PATH_WRITABLE']);
    await chmod(objects, 0o755);
    const again = await lintPath(dir.path);
    expect(again.ok ? again.value.warnings : -1).toBe(0);
  });

  it('reports schema errors per file and conflicts between files', async () => {
    await writeFile(join(dir.path, 'a.yaml'), policyYaml(basePolicyDocument()));
    await writeFile(join(dir.path, 'b.yaml'), policyYaml(basePolicyDocument()));
    await writeFile(join(dir.path, 'c.yml'), 'apiVersion: psm/v1\nkind: KeyPolicy\nbogus: 1\n');
    await writeFile(join(dir.path, 'notes.txt'), 'not a policy');
    const report = await lintPath(dir.path);
    if (!report.ok) throw new Error(report.error.message);
    const findings = report.value.findings.map(
      (f) => `${f.severity} ${f.code} ${f.file?.split('/').pop()}:${f.line}`,
    );
    expect(findings).toContain('error POLICY_UNKNOWN_FIELD c.yml:3');
    expect(findings).toContain('error POLICY_DUPLICATE_NAME b.yaml:3');
    expect(findings).toContain('error POLICY_GATE_CONFLICT b.yaml:8');
    expect(findings).toContain('warning POLICY_DUPLICATE_ROLE b.yaml:6');
    expect(report.value.files).toHaveLength(3);
  });

  it('refuses a missing path or a directory without policies', async () => {
    const missing = await lintPath(join(dir.path, 'nope'));
    expect(missing.ok ? 'ok' : missing.error.code).toBe('LINT_NOT_FOUND');
    const empty = await lintPath(dir.path);
    expect(empty.ok ? 'ok' : empty.error.code).toBe('LINT_NO_POLICIES');
  });
});

describe('issue 9 defect 6: from lists that match every address', () => {
  it('warns POLICY_FROM_ANYWHERE for *, ?*, *.*, 0.0.0.0/0 and ::/0, and not for real ranges', async () => {
    for (const pattern of ['*', '?*', '*?', '**', '*.*', '0.0.0.0/0', '::/0', '*:*'])
      expect(
        (await warningsFor({ ...basePolicyDocument(), from: [pattern] })).map((w) => w.split('@')[0]),
      ).toContain('POLICY_FROM_ANYWHERE');
    for (const pattern of ['10.0.0.0/8', '10.*', '192.168.122.?', '::1', '127.0.0.1'])
      expect(await warningsFor({ ...basePolicyDocument(), from: [pattern] })).toStrictEqual([]);
  });
});
