/**
 * `psm policy lint|explain|render|gate`: thin adapter over src/psm/policy, src/psm/gate and
 * src/psm/render-key-line.ts. The library (and the YAML parser) is imported inside the actions so
 * `psm` starts without loading it.
 */
import type { Command } from 'commander';
import { lstat } from 'node:fs/promises';
import { parseUtcTimestamp } from '../common/utc-time.js';
import { policyErrorCategory, renderErrorCategory } from '../psm/error-category.js';
import { EXIT } from './exit-codes.js';
import { CliFailure } from './failure.js';
import { readPublicKeyOption } from './public-key-option.js';
import { printError, printJson, printLine, printText, type CliIo } from './output.js';

type Json = { json?: boolean; gateDir?: string };

export function register(program: Command, io: CliIo): void {
  const group = program
    .command('policy')
    .description('Check, explain and apply key policies (policies/*.yaml): restricted keys and their gate');

  group
    .command('lint')
    .description('Check policy files: schema errors and security warnings, with codes and file:line')
    .argument('[dir]', 'a directory of *.yaml policies, or one policy file', 'policies')
    .option('--gate-dir <dir>', "psm's gate directory on the workers (default /usr/local/libexec/psm)")
    .option('--strict', 'exit 1 on warnings too')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Errors (the policy cannot be used): YAML errors, unknown or missing fields, wrong types, values
psm refuses to write, two policies with one name or one gate path. Warnings: a wildcard
permitOpen/permitListen, no "from", "from" host names (need UseDNS), no expiry or one longer
than 90 days, a relative gate path, and a gate, popcobjrun or object path that is writable by
every user on this host (checked only for paths that exist here).

Exit codes: 0 no errors (warnings are printed but do not fail, unless --strict), 1 errors (or
warnings with --strict), 2 usage, 3 DIR does not exist or holds no *.yaml files.

Examples:
  psm policy lint
  psm policy lint /etc/psm/policies --strict
  psm policy lint policies/main-node.yaml --json`,
    )
    .action(async (dir: string, options: Json & { strict?: boolean }) => runLint(io, dir, options));

  group
    .command('explain')
    .description('Say in plain words what a key under this policy can and cannot do')
    .option('--gate-dir <dir>', "psm's gate directory on the workers (default /usr/local/libexec/psm)")
    .argument('<file>', 'a policy file')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Exit codes: 0 explained, 2 usage, 3 the file is unreadable or not a valid policy.

Examples:
  psm policy explain policies/main-node.yaml
  psm policy explain policies/initiator.yaml --json`,
    )
    .action(async (file: string, options: Json) => runExplain(io, file, options));

  group
    .command('render')
    .description('Print the one authorized_keys line psm writes for a public key under this policy')
    .argument('<file>', 'a policy file')
    .option('--gate-dir <dir>', "psm's gate directory on the workers (default /usr/local/libexec/psm)")
    .requiredOption('--key <pubfile>', 'the public key, as a .pub file (type base64 [comment])')
    .option('--app <id>', "the POP application id, recorded in the line's comment tag")
    .option('--worker <name>', 'the worker the line is for, recorded in the comment tag')
    .option('--now <iso-time>', 'count the expiry from this UTC time instead of now (reproducible output)')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
The line starts with "restrict" (everything off), re-enables only port forwarding and only when
permitOpen is not empty, and forces the policy's gate as the command. It is parsed back before
it is printed and refused if it would mean anything else than the policy.

Exit codes: 0 printed, 2 usage or a bad --app/--worker/--now, 3 unreadable or invalid policy or
key file, 4 refused (the key is a certificate, or the line could not be written exactly).

Examples:
  psm policy render policies/main-node.yaml --key ~/.ssh/id_ed25519.pub --app app-42
  psm policy render policies/admin.yaml --key admin.pub --worker worker-3 --json
  psm policy render policies/initiator.yaml --key i.pub --now 2026-01-01T00:00:00Z`,
    )
    .action(
      async (file: string, options: Json & { key: string; app?: string; worker?: string; now?: string }) =>
        runRender(io, file, options),
    );

  group
    .command('gate')
    .description("Print the gate (the keys' forced command, a POSIX sh script) generated from a policy")
    .argument('<file>', 'a policy file')
    .option('--gate-dir <dir>', "psm's gate directory on the workers (default /usr/local/libexec/psm)")
    .option('--out <path>', 'write the gate to this file (atomically, mode 0755) instead of printing it')
    .option('--json', 'print one JSON object (name, gate path, sha256, script)')
    .addHelpText(
      'after',
      `
Install the gate on the worker at the policy's command.gate path, owned by root, mode 0755.
It reads SSH_ORIGINAL_COMMAND and runs only "popcobjrun OBJECT [ARGS...]" for the policy's
objects; everything else is refused with a message on stderr, exit code 126 and a syslog entry.
The same policy always gives the same script (compare the sha256 before installing).

Exit codes: 0 done, 2 usage, 3 unreadable or invalid policy, or --out cannot be written (e.g.
its directory does not exist), 4 --out would overwrite a non-regular file.

Examples:
  psm policy gate policies/main-node.yaml > gate-main-node
  psm policy gate policies/admin.yaml --out /usr/local/libexec/psm/gate-admin
  psm policy gate policies/initiator.yaml --json`,
    )
    .action(async (file: string, options: Json & { out?: string }) => runGate(io, file, options));
}

async function runLint(io: CliIo, dir: string, options: Json & { strict?: boolean }): Promise<void> {
  const { isValidGateDir, lintPath } = await import('../psm/policy/index.js');
  const report = await lintPath(dir, undefined, { gateDir: gateDirOption(options.gateDir, isValidGateDir) });
  if (!report.ok)
    throw new CliFailure(report.error.code, report.error.message, policyErrorCategory(report.error.code));
  const { findings, errors, warnings, files } = report.value;
  const failed = errors > 0 || (options.strict === true && warnings > 0);
  if (options.json) printJson(io, { files, errors, warnings, findings, ok: !failed });
  else {
    for (const f of findings) printLine(io, `${where(f)}: ${f.severity} ${f.code}: ${f.message}`);
    printLine(io, `${files.length} policy file(s): ${errors} error(s), ${warnings} warning(s)`);
  }
  if (failed) process.exitCode = EXIT.FINDINGS;
}

async function runExplain(io: CliIo, file: string, options: Json): Promise<void> {
  const { explainPolicy, formatExplanation } = await import('../psm/policy/index.js');
  const policy = await loadPolicy(io, file, options.gateDir);
  const explanation = explainPolicy(policy);
  if (options.json) printJson(io, explanation);
  else printText(io, formatExplanation(explanation));
}

async function runRender(
  io: CliIo,
  file: string,
  options: Json & { key: string; app?: string; worker?: string; now?: string },
): Promise<void> {
  const { renderKeyLine } = await import('../psm/render-key-line.js');
  const now = options.now === undefined ? new Date() : parseNow(options.now);
  const policy = await loadPolicy(io, file, options.gateDir);
  const key = await readPublicKeyOption(options.key);
  const rendered = renderKeyLine(policy, key, {
    appId: options.app ?? null,
    worker: options.worker ?? null,
    now,
    ...(options.gateDir === undefined ? {} : { gateDir: options.gateDir }),
  });
  if (!rendered.ok) {
    const code = rendered.error.code;
    throw new CliFailure(code, rendered.error.message, renderErrorCategory(code));
  }
  if (options.json) printJson(io, { policy: policy.name, role: policy.role, ...rendered.value });
  else printLine(io, rendered.value.line);
}

async function runGate(io: CliIo, file: string, options: Json & { out?: string }): Promise<void> {
  const { generateGate } = await import('../psm/gate/index.js');
  const policy = await loadPolicy(io, file, options.gateDir);
  const gate = generateGate(policy);
  if (options.out !== undefined) {
    const existing = await lstat(options.out).catch(() => undefined);
    if (existing && !existing.isFile())
      throw new CliFailure('GATE_OUT_NOT_FILE', `${options.out} exists and is not a regular file`, 'refused');
    const { writeFileAtomic } = await import('../common/atomic-write.js');
    await writeFileAtomic(options.out, gate.script, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
      throw new CliFailure(
        'GATE_WRITE_FAILED',
        `cannot write ${options.out}: ${error.code ?? error.message}`,
        'input',
      );
    });
  }
  if (options.json)
    printJson(io, {
      policy: policy.name,
      gatePath: policy.gatePath,
      sha256: gate.sha256,
      ...(options.out === undefined ? { script: gate.script } : { written: options.out }),
    });
  else if (options.out === undefined) io.stdout.write(gate.script);
  else printLine(io, `wrote ${options.out} (sha256 ${gate.sha256})`);
}

/** Loads a policy or stops with every error of the file on stderr and exit code 3. */
async function loadPolicy(
  io: CliIo,
  file: string,
  gateDir: string | undefined,
): Promise<import('../psm/policy/index.js').KeyPolicy> {
  const { isValidGateDir, loadPolicyFile } = await import('../psm/policy/index.js');
  const loaded = await loadPolicyFile(file, { gateDir: gateDirOption(gateDir, isValidGateDir) });
  if (loaded.ok) return loaded.value;
  const [first, ...rest] = loaded.error;
  for (const e of rest) printError(io, `psm: ${where(e)}: ${e.code}: ${e.message}`);
  const more = rest.length > 0 ? ` (and ${rest.length} more error(s) above)` : '';
  throw new CliFailure(
    first?.code ?? 'POLICY_INVALID',
    `${first ? `${where(first)}: ${first.message}` : file}${more}`,
    first === undefined ? 'input' : policyErrorCategory(first.code),
  );
}

/** --gate-dir is checked before any policy is read with it (isValidGateDir). */
function gateDirOption(dir: string | undefined, valid: (dir: string) => boolean): string | undefined {
  if (dir === undefined) return undefined;
  if (!valid(dir))
    throw new CliFailure('POLICY_BAD_GATE_DIR', '--gate-dir must be a canonical absolute path', 'usage');
  return dir;
}

function where(e: { file?: string; line?: number; column?: number }): string {
  return [e.file ?? '?', e.line, e.column].filter((part) => part !== undefined).join(':');
}

function parseNow(text: string): Date {
  const date = parseUtcTimestamp(text);
  if (date === undefined)
    throw new CliFailure('RENDER_BAD_TIME', '--now must be a UTC time like 2026-01-01T00:00:00Z', 'usage');
  return date;
}
