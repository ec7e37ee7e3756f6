import { AUDIT_ACTIONS } from '../audit-log/actions.js';
import { err, ok, type Result } from '../../common/result.js';
import type { GuestOpsDriver, OpOptions } from '../../guest-ops/guest-ops.js';
import type { AuditLog } from '../audit-log/index.js';
import type { KeyExchangeSettings } from '../key-exchange/index.js';
import { auditWorker } from './audit-worker.js';
import type { AuditContext } from './context.js';
import type { DriftAuditError } from './errors.js';
import type { DriftFinding } from './findings.js';
import { fixWorker, type FixStep } from './fix.js';

export interface WorkerReport {
  readonly worker: string;
  /** `stopped` workers cannot be read out of band (and cannot be used either): reported, not audited. */
  readonly state: 'audited' | 'stopped';
  readonly findings: readonly DriftFinding[];
  /** With --fix: what was written, and what the first audit found. */
  readonly fixed?: readonly FixStep[];
  readonly foundBeforeFix?: readonly DriftFinding[];
}

export interface AuditRunReport {
  readonly workers: readonly WorkerReport[];
  readonly findings: number;
}

export interface AuditRunOptions {
  readonly settings: KeyExchangeSettings;
  readonly driver: GuestOpsDriver;
  readonly audit: AuditLog;
  /** Only these workers (default: every worker the driver lists). */
  readonly workers?: readonly string[];
  readonly fix?: boolean;
  readonly ops?: OpOptions;
  readonly onWorker?: (report: WorkerReport) => void;
}

/** `psm audit [--fix]`: every worker, one after the other, then one audit log entry for the run. */
export async function runAudit(options: AuditRunOptions): Promise<Result<AuditRunReport, DriftAuditError>> {
  const { settings, driver } = options;
  const listed = await driver.listWorkers(options.ops);
  if (!listed.ok) return err({ code: 'DRIFT_LIST_FAILED', message: listed.error.message });
  const known = new Map(listed.value.map((w) => [w.name, w]));
  const names = options.workers ?? [...known.keys()].sort();
  const reports: WorkerReport[] = [];
  for (const name of names) {
    const report = await auditOne(options, known.has(name), name);
    reports.push(report);
    options.onWorker?.(report);
  }
  const findings = reports.reduce((n, r) => n + r.findings.length, 0);
  const logged = await options.audit.append({
    action: options.fix === true ? AUDIT_ACTIONS.auditFix : AUDIT_ACTIONS.auditRun,
    subject: {
      workers: names.slice(0, 64),
      findings,
      codes: [
        ...new Set(reports.flatMap((r) => [...(r.foundBeforeFix ?? []), ...r.findings].map((f) => f.code))),
      ],
      location: settings.location,
    },
  });
  if (!logged.ok) return err({ code: 'DRIFT_NOT_RECORDED', message: logged.error.message });
  return ok({ workers: reports, findings });
}

async function auditOne(options: AuditRunOptions, exists: boolean, name: string): Promise<WorkerReport> {
  const unreachable = (message: string): WorkerReport => ({
    worker: name,
    state: 'audited',
    findings: [{ code: 'WORKER_UNREACHABLE', message }],
  });
  if (!exists) return unreachable(`no worker ${name} in ${options.driver.kind}`);
  const opened = await options.driver.openWorker(name, options.ops);
  if (!opened.ok) return unreachable(`${opened.error.code}: ${opened.error.message}`);
  const worker = opened.value;
  try {
    const status = await worker.status(options.ops);
    if (status.ok && status.value.power === 'stopped')
      return { worker: name, state: 'stopped', findings: [] };
    const ctx: AuditContext = {
      location: options.settings.location,
      policies: options.settings.policies,
      now: options.settings.now?.() ?? new Date(),
      ops: options.ops ?? {},
      ...(options.settings.gateDir === undefined ? {} : { gateDir: options.settings.gateDir }),
    };
    const first = await auditWorker(ctx, worker);
    if (options.fix !== true || first.findings.length === 0)
      return { worker: name, state: 'audited', findings: first.findings };
    const fixed = await fixWorker(ctx, options.settings, worker, first);
    const again = await auditWorker({ ...ctx, now: options.settings.now?.() ?? new Date() }, worker);
    return {
      worker: name,
      state: 'audited',
      findings: again.findings,
      fixed,
      foundBeforeFix: first.findings,
    };
  } finally {
    await worker.close();
  }
}
