import { err, ok, type Result } from '../../common/result.js';
import { auditError, type AuditLogError } from './errors.js';

/**
 * One audit log entry and its line: canonical JSON with a fixed field order, so every entry has
 * exactly one spelling. A line is accepted only if writing its parsed value again gives the same
 * bytes; that makes "the SHA-256 of the previous line" and the MAC well defined.
 */

export const AUDIT_ENTRY_VERSION = 1;
/** The longest line psm writes or reads (entries are names and fingerprints: far below this). */
export const MAX_LINE_BYTES = 16 * 1024;
export const MAX_SUBJECT_FIELDS = 32;
export const MAX_SUBJECT_STRING = 512;
export const MAX_SUBJECT_LIST = 64;
/** `prev` of the first entry: no line comes before it. */
export const GENESIS_PREV = '0'.repeat(64);

const ACTION = /^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31}){1,3}$/;
const FIELD = /^[a-z][A-Za-z0-9_-]{0,63}$/;
const USER = /^[A-Za-z0-9._@-]{1,64}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const HEX64 = /^[0-9a-f]{64}$/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/;

export type SubjectValue = string | number | boolean | null | readonly string[];
/** What an act was about: names, ids and fingerprints; never key material or secrets. */
export type AuditSubject = Readonly<Record<string, SubjectValue>>;

export interface AuditActor {
  readonly user: string;
  readonly uid: number;
  readonly pid: number;
}

export interface AuditEntry {
  readonly v: typeof AUDIT_ENTRY_VERSION;
  readonly seq: number;
  /** ISO 8601 UTC with milliseconds. */
  readonly time: string;
  readonly actor: AuditActor;
  /** `area.verb`, e.g. `key-exchange.write`. */
  readonly action: string;
  readonly subject: AuditSubject;
  /** SHA-256 (hex) of the previous line's bytes, or GENESIS_PREV for the first entry. */
  readonly prev: string;
  /** The MAC (hex) of the body: every field above, serialised canonically. */
  readonly mac: string;
}

export type AuditEntryBody = Omit<AuditEntry, 'mac'>;

/** The canonical text the MAC covers: the entry without `mac`, subject keys sorted. */
export function serializeBody(body: AuditEntryBody): string {
  const subject: Record<string, SubjectValue> = {};
  for (const key of Object.keys(body.subject).sort()) subject[key] = body.subject[key] as SubjectValue;
  return JSON.stringify({
    v: body.v,
    seq: body.seq,
    time: body.time,
    actor: { user: body.actor.user, uid: body.actor.uid, pid: body.actor.pid },
    action: body.action,
    subject,
    prev: body.prev,
  });
}

/** The line (without the line break): the body with the MAC as its last field. */
export function serializeLine(body: AuditEntryBody, mac: string): string {
  const text = serializeBody(body);
  return `${text.slice(0, -1)},"mac":"${mac}"}`;
}

type Check = string | null;

function checkSubjectShape(subject: unknown): Check {
  if (typeof subject !== 'object' || subject === null || Array.isArray(subject))
    return 'the subject must be an object';
  const entries = Object.entries(subject as Record<string, unknown>);
  if (entries.length > MAX_SUBJECT_FIELDS) return `the subject has more than ${MAX_SUBJECT_FIELDS} fields`;
  for (const [key, value] of entries) {
    if (!FIELD.test(key)) return `subject field ${JSON.stringify(key)} is not a valid name`;
    const problem = checkValue(value);
    if (problem !== null) return `subject field ${key}: ${problem}`;
  }
  return null;
}

function checkString(value: string): Check {
  if (value.length > MAX_SUBJECT_STRING) return `longer than ${MAX_SUBJECT_STRING} characters`;
  if (CONTROL.test(value)) return 'contains control characters';
  return null;
}

function checkValue(value: unknown): Check {
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? null : 'numbers must be whole';
  if (typeof value === 'string') return checkString(value);
  if (Array.isArray(value)) {
    if (value.length > MAX_SUBJECT_LIST) return `more than ${MAX_SUBJECT_LIST} items`;
    for (const item of value) {
      if (typeof item !== 'string') return 'lists hold strings only';
      const problem = checkString(item);
      if (problem !== null) return problem;
    }
    return null;
  }
  return 'must be a string, whole number, boolean, null or a list of strings';
}

// A run this long of base64 characters is longer than any digest psm records (64 hex digits)
// and shorter than any SSH public key blob (ed25519: 68); SSH blobs also all start with AAAA.
const KEY_BLOB_RUN = /[A-Za-z0-9+/=]{65,}|AAAA[A-Za-z0-9+/]{16,}/;
const SECRET_MARKERS = ['PRIVATE KEY', 'psm-sealed:', 'openssh-key-v1'];

/** Refuses subjects that look like they carry key material: a guard, not a proof. */
export function checkNoSecrets(subject: AuditSubject): Check {
  for (const [key, value] of Object.entries(subject)) {
    const strings = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
    for (const text of strings) {
      if (KEY_BLOB_RUN.test(text) || SECRET_MARKERS.some((m) => text.includes(m)))
        return `subject field ${key} looks like key material; record fingerprints and names only`;
    }
  }
  return null;
}

/** Validates what a caller asks to append (everything but seq, prev and mac, which psm sets). */
export function checkEntryInput(
  action: string,
  subject: AuditSubject,
  actor: AuditActor,
): Result<void, AuditLogError> {
  if (!ACTION.test(action))
    return err(
      auditError('AUDIT_BAD_ENTRY', `action ${JSON.stringify(action)} is not area.verb (lower case)`),
    );
  const shape = checkSubjectShape(subject);
  if (shape !== null) return err(auditError('AUDIT_BAD_ENTRY', shape));
  const secret = checkNoSecrets(subject);
  if (secret !== null) return err(auditError('AUDIT_SUBJECT_SECRET', secret));
  if (!USER.test(actor.user) || !Number.isSafeInteger(actor.uid) || !Number.isSafeInteger(actor.pid))
    return err(auditError('AUDIT_BAD_ENTRY', 'the actor must be a user name, a uid and a pid'));
  return ok(undefined);
}

function isActor(value: unknown): value is AuditActor {
  if (typeof value !== 'object' || value === null) return false;
  const actor = value as Record<string, unknown>;
  return (
    typeof actor.user === 'string' &&
    USER.test(actor.user) &&
    Number.isSafeInteger(actor.uid) &&
    Number.isSafeInteger(actor.pid)
  );
}

/** Parses one line (without its line break). Only psm's canonical spelling is accepted. */
export function parseLine(line: string, lineNumber: number): Result<AuditEntry, AuditLogError> {
  const malformed = (why: string): Result<never, AuditLogError> =>
    err(auditError('AUDIT_LINE_MALFORMED', `line ${lineNumber}: ${why}`, lineNumber));
  if (Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES)
    return malformed(`longer than ${MAX_LINE_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return malformed('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return malformed('not an object');
  const e = value as Record<string, unknown>;
  if (e.v !== AUDIT_ENTRY_VERSION) return malformed(`entry version is not ${AUDIT_ENTRY_VERSION}`);
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 0) return malformed('bad seq');
  if (typeof e.time !== 'string' || !TIME.test(e.time)) return malformed('bad time');
  if (!isActor(e.actor)) return malformed('bad actor');
  if (typeof e.action !== 'string' || !ACTION.test(e.action)) return malformed('bad action');
  const shape = checkSubjectShape(e.subject);
  if (shape !== null) return malformed(shape);
  if (typeof e.prev !== 'string' || !HEX64.test(e.prev)) return malformed('bad prev');
  if (typeof e.mac !== 'string' || !HEX64.test(e.mac)) return malformed('bad mac');
  const entry = value as AuditEntry;
  if (serializeLine(entry, entry.mac) !== line) return malformed('not in canonical form');
  return ok(entry);
}
