import { isDeepStrictEqual } from 'node:util';
import { err, ok, type CodedError, type Result } from '../common/result.js';
import {
  parseAuthorizedKeysLine,
  serializeOptions,
  type KeyOptions,
  type PublicKey,
} from '../authorized-keys/index.js';
import { parseExpiryTime } from '../authorized-keys/lines/option-values.js';
import { gateDigest } from './gate/generate.js';
import { commandPathProblems, DEFAULT_GATE_DIR, isCanonicalAbsolutePath } from './policy/command-paths.js';
import type { KeyPolicy } from './policy/types.js';

/**
 * What psm writes when a policy re-enables forwarding but allows no remote forwarding. An
 * authorized_keys line cannot re-enable only local forwarding, and `port-forwarding` without any
 * `permitlisten` lets the key listen anywhere, so psm adds a listen permission that can never be
 * used: sshd lower-cases the host a client asks for before matching it against this upper-case
 * pattern (so it never matches), port 1 is privileged, and .invalid never resolves.
 */
export const NO_LISTEN_SENTINEL = 'NO-LISTEN.INVALID:1';
/** The comment tag's first word, so psm's lines are recognisable in any authorized_keys file. */
export const COMMENT_TAG = 'psm';
export const MAX_CONTEXT_ID_LENGTH = 128;
const CONTEXT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

export type RenderErrorCode =
  | 'RENDER_BAD_APP_ID'
  | 'RENDER_BAD_WORKER'
  | 'RENDER_BAD_TIME'
  | 'RENDER_CERTIFICATE_KEY'
  | 'RENDER_UNREPRESENTABLE'
  | 'RENDER_VERIFY_MISMATCH'
  | 'RENDER_UNSAFE_COMMAND';
export type RenderError = CodedError<RenderErrorCode>;

export interface RenderContext {
  /** The POP application the key is written for, if any. */
  readonly appId?: string | null;
  /** The worker the key is written onto, if known. */
  readonly worker?: string | null;
  /** The moment of writing; the expiry is counted from it (whole seconds, UTC). */
  readonly now: Date;
  /** psm's gate directory on the worker; DEFAULT_GATE_DIR when absent. */
  readonly gateDir?: string;
}

export interface RenderedKeyLine {
  /** Exactly one authorized_keys line, without a line break. */
  readonly line: string;
  readonly fingerprint: string;
  /** The absolute UTC expiry written into the line (ISO 8601), or null when the policy has none. */
  readonly expiresAt: string | null;
}

/**
 * Renders the one authorized_keys line that gives `key` exactly what `policy` allows: `restrict`
 * first, `port-forwarding` only when permitOpen is not empty, then permitopen, permitlisten,
 * from, expiry-time, command, the key and a comment tag. Deterministic. Values that cannot be
 * written exactly are refused, and the line is parsed back with the authorized_keys engine and
 * refused unless it means exactly the policy (fail closed).
 */
export function renderKeyLine(
  policy: KeyPolicy,
  key: PublicKey,
  context: RenderContext,
): Result<RenderedKeyLine, RenderError> {
  const appId = contextId(context.appId, 'RENDER_BAD_APP_ID', 'app id');
  if (!appId.ok) return appId;
  const worker = contextId(context.worker, 'RENDER_BAD_WORKER', 'worker name');
  if (!worker.ok) return worker;
  if (key.certificate)
    return fail(
      'RENDER_CERTIFICATE_KEY',
      'a certificate cannot be written as a restricted key; give its plain public key',
    );
  // Checked again here (the parser already did): a KeyPolicy built any other way must not render a shell.
  const gateDir = context.gateDir ?? DEFAULT_GATE_DIR;
  const unsafe = commandPathProblems(policy.name, policy.gatePath, policy.popcobjrunPath, gateDir)[0];
  if (unsafe !== undefined || !isCanonicalAbsolutePath(gateDir))
    return fail(
      'RENDER_UNSAFE_COMMAND',
      unsafe?.message ?? 'the gate directory must be a canonical absolute path',
    );
  const expiry = expiryText(policy, context.now);
  if (!expiry.ok) return expiry;

  const expected = expectedOptions(policy, expiry.value?.text ?? null);
  const items: { name: string; value?: string }[] = [{ name: 'restrict' }];
  if (expected.permit.portForwarding) items.push({ name: 'port-forwarding' });
  for (const value of expected.permitOpen) items.push({ name: 'permitopen', value });
  for (const value of expected.permitListen) items.push({ name: 'permitlisten', value });
  if (expected.from !== null) items.push({ name: 'from', value: expected.from });
  for (const value of expected.expiryTime) items.push({ name: 'expiry-time', value });
  items.push({ name: 'command', value: policy.gatePath });
  const options = serializeOptions(items);
  if (!options.ok)
    return fail('RENDER_UNREPRESENTABLE', `cannot write the options exactly: ${options.error.message}`);

  const comment = [
    COMMENT_TAG,
    `role=${policy.role}`,
    `policy=${policy.name}`,
    ...(appId.value === null ? [] : [`app=${appId.value}`]),
    ...(worker.value === null ? [] : [`worker=${worker.value}`]),
    `fp=${key.fingerprint}`,
    `gate-sha256=${gateDigest(policy)}`,
  ].join(' ');
  const line = `${options.value} ${key.type} ${key.base64} ${comment}`;
  const verified = verifyLine(line, expected, key, comment, expiry.value?.epoch ?? null);
  if (!verified.ok) return verified;
  return ok({
    line,
    fingerprint: key.fingerprint,
    expiresAt: expiry.value === null ? null : new Date(expiry.value.epoch * 1000).toISOString(),
  });
}

/** The options sshd must see for this policy; the rendered line is checked against exactly this. */
export function expectedOptions(policy: KeyPolicy, expiryTime: string | null): KeyOptions {
  const forwarding = policy.permitOpen.length > 0;
  const permitListen = policy.permitListen.map((p) => `${p.host}:${p.port}`);
  return {
    restrict: true,
    permit: {
      portForwarding: forwarding,
      agentForwarding: false,
      x11Forwarding: false,
      pty: false,
      userRc: false,
    },
    certAuthority: false,
    noTouchRequired: false,
    verifyRequired: false,
    command: policy.gatePath,
    principals: null,
    from: policy.from.length === 0 ? null : policy.from.join(','),
    environment: [],
    permitOpen: policy.permitOpen.map((p) => `${p.host}:${p.port}`),
    permitListen: forwarding ? (permitListen.length > 0 ? permitListen : [NO_LISTEN_SENTINEL]) : [],
    expiryTime: expiryTime === null ? [] : [expiryTime],
    tunnel: null,
  };
}

function verifyLine(
  line: string,
  expected: KeyOptions,
  key: PublicKey,
  comment: string,
  epoch: number | null,
): Result<void, RenderError> {
  const parsed = parseAuthorizedKeysLine(line);
  if (!parsed.ok)
    return fail('RENDER_VERIFY_MISMATCH', `the rendered line does not parse: ${parsed.error.message}`);
  const entry = parsed.value;
  if (entry.kind !== 'key') return fail('RENDER_VERIFY_MISMATCH', 'the rendered line is not a key line');
  if (!isDeepStrictEqual(entry.options, expected))
    return fail('RENDER_VERIFY_MISMATCH', 'the rendered line would grant something other than the policy');
  if (entry.key.type !== key.type || entry.key.base64 !== key.base64 || entry.comment !== comment)
    return fail('RENDER_VERIFY_MISMATCH', 'the rendered line does not carry the key and tag unchanged');
  const written = entry.options.expiryTime[0];
  if (epoch !== null && (written === undefined || parseExpiryTime(written) !== epoch))
    return fail('RENDER_VERIFY_MISMATCH', 'the rendered expiry-time does not mean the intended moment');
  return ok(undefined);
}

function expiryText(
  policy: KeyPolicy,
  now: Date,
): Result<{ text: string; epoch: number } | null, RenderError> {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs) || nowMs < 0)
    return fail('RENDER_BAD_TIME', 'the time of writing is not a valid date');
  if (policy.expiry === null) return ok(null);
  const epoch = Math.floor(nowMs / 1000) + policy.expiry.seconds;
  const at = new Date(epoch * 1000);
  if (at.getUTCFullYear() > 9999) return fail('RENDER_BAD_TIME', 'the expiry would be after the year 9999');
  const two = (n: number): string => String(n).padStart(2, '0');
  const text =
    String(at.getUTCFullYear()).padStart(4, '0') +
    two(at.getUTCMonth() + 1) +
    two(at.getUTCDate()) +
    two(at.getUTCHours()) +
    two(at.getUTCMinutes()) +
    two(at.getUTCSeconds()) +
    'Z';
  return ok({ text, epoch });
}

function contextId(
  value: string | null | undefined,
  code: 'RENDER_BAD_APP_ID' | 'RENDER_BAD_WORKER',
  label: string,
): Result<string | null, RenderError> {
  if (value === undefined || value === null) return ok(null);
  if (value.length === 0 || value.length > MAX_CONTEXT_ID_LENGTH || !CONTEXT_ID.test(value))
    return fail(
      code,
      `the ${label} must be 1-${MAX_CONTEXT_ID_LENGTH} letters, digits and . _ : @ - (starting with a letter or digit)`,
    );
  return ok(value);
}

function fail(code: RenderErrorCode, message: string): Result<never, RenderError> {
  return err({ code, message });
}
