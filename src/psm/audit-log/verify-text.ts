import { GENESIS_PREV, parseLine } from './entry.js';
import { verifyCheckpoint, type Checkpoint } from './checkpoint.js';
import { linkProblems, lineHash } from './chain.js';
import type { AuditLogErrorCode } from './errors.js';
import type { AuditKeys } from './keys.js';
import { decodeUtf8Strict } from '../../common/utf8.js';

/** More findings than this are counted, not listed: one edit never floods the report. */
export const MAX_LISTED_FINDINGS = 100;

export interface AuditFinding {
  readonly code: AuditLogErrorCode;
  /** 1-based line of the log, when the finding is about one. */
  readonly line?: number;
  readonly message: string;
}

export interface AuditLogReport {
  /** True when nothing at all is wrong (a torn tail is a finding too). */
  readonly ok: boolean;
  /** Complete lines in the log. */
  readonly entries: number;
  /** SHA-256 (hex) of the last complete line, or 64 zeros. */
  readonly head: string;
  readonly checkpoint: Checkpoint | null;
  /** Bytes after the last line break (a cut-off write), 0 when the log ends cleanly. */
  readonly tornBytes: number;
  /** True when the only finding is a torn tail after the checkpointed entries: safe to cut off. */
  readonly repairable: boolean;
  readonly findings: readonly AuditFinding[];
  readonly findingCount: number;
}

/**
 * Verifies a whole log (its bytes) and its checkpoint (null when there is none): every line
 * canonical, seq 0, 1, 2, ..., each prev the hash of the line before, each MAC valid, and the
 * checkpoint signed by this log's key, counting no more entries than there are and ending at an
 * entry whose hash is its head. Pure: no I/O, so the property tests drive it directly.
 */
export function verifyLogBytes(
  keys: AuditKeys,
  data: Uint8Array,
  checkpointText: string | null,
): AuditLogReport {
  const findings: AuditFinding[] = [];
  let findingCount = 0;
  const report = (finding: AuditFinding): void => {
    findingCount += 1;
    if (findings.length < MAX_LISTED_FINDINGS) findings.push(finding);
  };
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  const hashes: string[] = [];
  let prev = GENESIS_PREV;
  let expectedSeq = 0;
  let start = 0;
  for (let nl = bytes.indexOf(0x0a, start); nl >= 0; nl = bytes.indexOf(0x0a, start)) {
    const lineNumber = hashes.length + 1;
    const text = decodeUtf8Strict(bytes.subarray(start, nl), { bom: 'drop' }) ?? undefined;
    const hash = lineHash(bytes.subarray(start, nl));
    const parsed = text === undefined ? null : parseLine(text, lineNumber);
    if (parsed === null)
      report({ code: 'AUDIT_LINE_MALFORMED', line: lineNumber, message: `line ${lineNumber}: not UTF-8` });
    else if (!parsed.ok) report({ code: parsed.error.code, line: lineNumber, message: parsed.error.message });
    else {
      for (const problem of linkProblems(keys, parsed.value, expectedSeq, prev))
        report({ code: problem.code, line: lineNumber, message: `line ${lineNumber}: ${problem.message}` });
      expectedSeq = parsed.value.seq;
    }
    expectedSeq += 1;
    prev = hash;
    hashes.push(hash);
    start = nl + 1;
  }
  const tornBytes = bytes.length - start;
  const checkpoint = checkCheckpoint(keys, checkpointText, hashes, report);
  const otherFindings = findingCount;
  if (tornBytes > 0)
    report({
      code: 'AUDIT_TORN_TAIL',
      line: hashes.length + 1,
      message: `the log ends with ${tornBytes} bytes without a line break (a write cut off by a crash, or a cut file)`,
    });
  return {
    ok: findingCount === 0,
    entries: hashes.length,
    head: hashes[hashes.length - 1] ?? GENESIS_PREV,
    checkpoint,
    tornBytes,
    repairable: tornBytes > 0 && otherFindings === 0,
    findings,
    findingCount,
  };
}

function checkCheckpoint(
  keys: AuditKeys,
  text: string | null,
  hashes: readonly string[],
  report: (finding: AuditFinding) => void,
): Checkpoint | null {
  if (text === null) {
    if (hashes.length > 0)
      report({
        code: 'AUDIT_CHECKPOINT_MISSING',
        message:
          'the log has entries but there is no checkpoint: it was removed, so cut-off entries would not show',
      });
    return null;
  }
  const verified = verifyCheckpoint(keys, text);
  if (!verified.ok) {
    report({ code: verified.error.code, message: verified.error.message });
    return null;
  }
  const checkpoint = verified.value;
  if (checkpoint.count > hashes.length) {
    report({
      code: 'AUDIT_TRUNCATED',
      message: `the checkpoint counts ${checkpoint.count} entries but the log has ${hashes.length}: the newest entries were removed`,
    });
    return checkpoint;
  }
  const head = checkpoint.count === 0 ? GENESIS_PREV : hashes[checkpoint.count - 1];
  if (head !== checkpoint.head)
    report({
      code: 'AUDIT_HEAD_MISMATCH',
      ...(checkpoint.count === 0 ? {} : { line: checkpoint.count }),
      message: `entry ${checkpoint.count - 1} is not the one the checkpoint signed (the log was rewritten)`,
    });
  return checkpoint;
}
