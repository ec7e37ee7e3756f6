import { createHash } from 'node:crypto';
import {
  AUDIT_ENTRY_VERSION,
  serializeBody,
  serializeLine,
  type AuditActor,
  type AuditEntry,
  type AuditSubject,
} from './entry.js';
import type { AuditLogErrorCode } from './errors.js';
import type { AuditKeys } from './keys.js';

/** The hash chain: each entry names the SHA-256 of the line before it and carries a MAC. */

/** SHA-256 (hex) of a line's bytes (a string is hashed as UTF-8: the same bytes). */
export function lineHash(line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex');
}

export interface NewEntry {
  readonly action: string;
  readonly subject: AuditSubject;
  readonly actor: AuditActor;
  readonly time: Date;
}

/** The line for entry `seq` after the line hashing to `prev` (the caller checked the input). */
export function sealEntry(keys: AuditKeys, seq: number, prev: string, entry: NewEntry): string {
  const body = {
    v: AUDIT_ENTRY_VERSION,
    seq,
    time: entry.time.toISOString(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    prev,
  } as const;
  return serializeLine(body, keys.mac(serializeBody(body)));
}

export interface LinkProblem {
  readonly code: Extract<
    AuditLogErrorCode,
    'AUDIT_SEQ_MISMATCH' | 'AUDIT_CHAIN_BROKEN' | 'AUDIT_MAC_INVALID'
  >;
  readonly message: string;
}

/** What is wrong with `entry` as the successor of (expectedSeq, expectedPrev); empty when nothing. */
export function linkProblems(
  keys: AuditKeys,
  entry: AuditEntry,
  expectedSeq: number,
  expectedPrev: string,
): LinkProblem[] {
  const problems: LinkProblem[] = [];
  if (entry.seq !== expectedSeq)
    problems.push({
      code: 'AUDIT_SEQ_MISMATCH',
      message: `entry has seq ${entry.seq} where ${expectedSeq} belongs (an entry was removed, moved or inserted)`,
    });
  if (entry.prev !== expectedPrev)
    problems.push({
      code: 'AUDIT_CHAIN_BROKEN',
      message: `entry ${entry.seq} does not follow the line before it (its prev hash differs)`,
    });
  if (!keys.macMatches(serializeBody(entry), entry.mac))
    problems.push({
      code: 'AUDIT_MAC_INVALID',
      message: `entry ${entry.seq} does not carry a valid MAC (edited, or not written by psm)`,
    });
  return problems;
}
