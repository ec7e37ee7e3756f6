import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { err, ok, type CodedError, type Result } from '../../common/result.js';
import { LONG_EXPIRY_SECONDS, MAX_POLICY_BYTES, MAX_POLICY_FILES } from './limits.js';
import { fromCoverage } from './from-match-all.js';
import { parsePolicy, type ParseOptions } from './parse.js';
import type { KeyPolicy, PolicyErrorCode } from './types.js';
import { fromPatternNamesHost, isWildcard } from './values.js';

/** Findings lint adds on top of the schema errors. Warnings do not stop a policy from being used. */
export type LintWarningCode =
  | 'POLICY_WILDCARD_PERMIT'
  | 'POLICY_NO_FROM'
  | 'POLICY_FROM_ANYWHERE'
  | 'POLICY_FROM_NEEDS_DNS'
  | 'POLICY_NO_EXPIRY'
  | 'POLICY_LONG_EXPIRY'
  | 'POLICY_PATH_WRITABLE'
  | 'POLICY_DUPLICATE_ROLE';
export type LintErrorCode =
  PolicyErrorCode | 'POLICY_DUPLICATE_NAME' | 'POLICY_GATE_CONFLICT' | 'POLICY_UNREADABLE';

export type LintFinding =
  | (CodedError<LintErrorCode> & { readonly severity: 'error' })
  | (CodedError<LintWarningCode> & { readonly severity: 'warning' });

export interface LintReport {
  readonly files: readonly string[];
  readonly findings: readonly LintFinding[];
  readonly errors: number;
  readonly warnings: number;
}

export type LintIoError = CodedError<
  'LINT_NOT_FOUND' | 'LINT_UNREADABLE' | 'LINT_NO_POLICIES' | 'LINT_TOO_MANY_FILES'
>;

/** Reads who may write a path on this host; injectable so the check is testable without root. */
export type StatPath = (path: string) => Promise<{ mode: number } | undefined>;

const realStat: StatPath = (path) =>
  stat(path).then(
    (s) => ({ mode: s.mode }),
    () => undefined,
  );

/** Semantic warnings for one valid policy, with the line of the field they are about. */
export async function policyWarnings(
  policy: KeyPolicy,
  statPath: StatPath = realStat,
): Promise<LintFinding[]> {
  const out: LintFinding[] = [];
  const warn = (code: LintWarningCode, message: string, field: string): void => {
    out.push({ severity: 'warning', code, message, file: policy.file, ...policy.positions.get(field) });
  };
  policy.permitOpen.forEach((p, i) => {
    if (isWildcard(p))
      warn('POLICY_WILDCARD_PERMIT', `permitOpen allows a wildcard (${p.host}:${p.port})`, `permitOpen.${i}`);
  });
  policy.permitListen.forEach((p, i) => {
    if (isWildcard(p))
      warn(
        'POLICY_WILDCARD_PERMIT',
        `permitListen allows a wildcard (${p.host}:${p.port})`,
        `permitListen.${i}`,
      );
  });
  if (policy.from.length === 0)
    warn(
      'POLICY_NO_FROM',
      'no "from": keys under this policy may log in from any address',
      policy.positions.has('from') ? 'from' : 'name',
    );
  policy.from.forEach((p, i) => {
    const cover = fromCoverage(p);
    if (cover.allIPv4 || cover.allIPv6)
      warn(
        'POLICY_FROM_ANYWHERE',
        `from pattern "${p}" matches every ${cover.allIPv4 && cover.allIPv6 ? '' : cover.allIPv4 ? 'IPv4 ' : 'IPv6 '}address: it does not restrict where keys log in from`,
        `from.${i}`,
      );
    if (fromPatternNamesHost(p))
      warn(
        'POLICY_FROM_NEEDS_DNS',
        `from pattern "${p}" names a host; sshd only matches names with UseDNS yes`,
        `from.${i}`,
      );
  });
  if (policy.expiry === null)
    warn('POLICY_NO_EXPIRY', 'no "expiry": keys under this policy never expire', 'name');
  else if (policy.expiry.seconds > LONG_EXPIRY_SECONDS)
    warn('POLICY_LONG_EXPIRY', `expiry ${policy.expiry.text} is longer than 90 days`, 'expiry');
  const checks: [string, string][] = [
    [policy.gatePath, 'command.gate'],
    [policy.popcobjrunPath, 'command.popcobjrun'],
    ...policy.objects.map((o, i): [string, string] => [o.path, `objects.${i}`]),
  ];
  for (const [path, field] of checks) {
    if (!path.startsWith('/')) continue;
    const writable = await writableByOthers(path, statPath);
    if (writable !== undefined)
      warn(
        'POLICY_PATH_WRITABLE',
        `${writable} is writable by every user on this host, so ${path} is not protected`,
        field,
      );
  }
  return out;
}

/**
 * The first of `path` and its parent directories that exists here and that every user may change:
 * the path itself when world-writable (anyone could add an object to an allowed directory), a
 * parent when world-writable without the sticky bit (anyone could replace what is below it).
 */
async function writableByOthers(path: string, statPath: StatPath): Promise<string | undefined> {
  let current = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  for (let self = true; ; self = false) {
    const info = await statPath(current);
    const worldWritable = info !== undefined && (info.mode & 0o002) !== 0;
    if (worldWritable && (self || (info.mode & 0o1000) === 0)) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** Lints one policy file or every *.yaml / *.yml file of a directory, including cross-file checks. */
export async function lintPath(
  target: string,
  statPath: StatPath = realStat,
  options: ParseOptions = {},
): Promise<Result<LintReport, LintIoError>> {
  const files = await policyFiles(target);
  if (!files.ok) return files;
  const findings: LintFinding[] = [];
  const policies: KeyPolicy[] = [];
  for (const file of files.value) {
    const loaded = await loadPolicyFile(file, options);
    if (!loaded.ok) {
      findings.push(...loaded.error.map((e) => ({ ...e, severity: 'error' as const })));
      continue;
    }
    policies.push(loaded.value);
    findings.push(...(await policyWarnings(loaded.value, statPath)));
  }
  findings.push(...crossFileFindings(policies));
  const errors = findings.filter((f) => f.severity === 'error').length;
  return ok({ files: files.value, findings, errors, warnings: findings.length - errors });
}

/** Reads and parses one policy file, refusing oversized or non-regular files before reading them. */
export async function loadPolicyFile(
  file: string,
  options: ParseOptions = {},
): Promise<Result<KeyPolicy, CodedError<LintErrorCode>[]>> {
  const info = await lstat(file).catch(() => undefined);
  if (!info || !info.isFile())
    return err([{ code: 'POLICY_UNREADABLE', message: 'is not a readable regular file', file }]);
  if (info.size > MAX_POLICY_BYTES)
    return err([
      { code: 'POLICY_TOO_LARGE', message: `is larger than ${MAX_POLICY_BYTES} bytes`, file, line: 1 },
    ]);
  const bytes = await readFile(file).catch(() => undefined);
  if (!bytes) return err([{ code: 'POLICY_UNREADABLE', message: 'cannot be read', file }]);
  const parsed = parsePolicy(bytes, file, options);
  return parsed.ok ? parsed : err([...parsed.error]);
}

async function policyFiles(target: string): Promise<Result<string[], LintIoError>> {
  const info = await stat(target).catch(() => undefined);
  if (!info) return err({ code: 'LINT_NOT_FOUND', message: `${target} does not exist`, file: target });
  if (!info.isDirectory()) return ok([target]);
  const entries = await readdir(target).catch(() => undefined);
  if (!entries) return err({ code: 'LINT_UNREADABLE', message: `${target} cannot be read`, file: target });
  const names = entries.filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort();
  if (names.length === 0)
    return err({ code: 'LINT_NO_POLICIES', message: `${target} has no *.yaml policy files`, file: target });
  if (names.length > MAX_POLICY_FILES)
    return err({
      code: 'LINT_TOO_MANY_FILES',
      message: `${target} has more than ${MAX_POLICY_FILES} policy files`,
      file: target,
    });
  return ok(names.map((n) => join(target, n)));
}

/** Two policies with one name, one gate path, or one role are ambiguous on a worker. */
function crossFileFindings(policies: readonly KeyPolicy[]): LintFinding[] {
  const out: LintFinding[] = [];
  const seen = {
    name: new Map<string, KeyPolicy>(),
    gate: new Map<string, KeyPolicy>(),
    role: new Map<string, KeyPolicy>(),
  };
  for (const p of policies) {
    const first = {
      name: seen.name.get(p.name),
      gate: seen.gate.get(p.gatePath),
      role: seen.role.get(p.role),
    };
    if (first.name)
      out.push({
        severity: 'error',
        code: 'POLICY_DUPLICATE_NAME',
        message: `name "${p.name}" is also used by ${first.name.file}`,
        file: p.file,
        ...p.positions.get('name'),
      });
    if (first.gate)
      out.push({
        severity: 'error',
        code: 'POLICY_GATE_CONFLICT',
        message: `command.gate ${p.gatePath} is also the gate of ${first.gate.file}`,
        file: p.file,
        ...p.positions.get('command.gate'),
      });
    if (first.role)
      out.push({
        severity: 'warning',
        code: 'POLICY_DUPLICATE_ROLE',
        message: `role "${p.role}" is also covered by ${first.role.file}`,
        file: p.file,
        ...p.positions.get('role'),
      });
    seen.name.set(p.name, first.name ?? p);
    seen.gate.set(p.gatePath, first.gate ?? p);
    seen.role.set(p.role, first.role ?? p);
  }
  return out;
}
