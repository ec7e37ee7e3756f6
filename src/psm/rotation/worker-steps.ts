import { AUDIT_ACTIONS } from '../audit-log/actions.js';
import { ok, type Result } from '../../common/result.js';
import type { GuestOpsDriver, OpOptions, Worker } from '../../guest-ops/guest-ops.js';
import { pinnedKeys } from '../host-keys/pin-store.js';
import { setAdminKeys, type KeyExchangeSettings } from '../key-exchange/index.js';
import type { HeldKey } from './admin-key-files.js';
import { rotationError, type RotationError } from './errors.js';
import { tryLogin, type LoginTarget } from './ssh-login.js';

export interface StepContext {
  readonly settings: KeyExchangeSettings;
  readonly driver: GuestOpsDriver;
  readonly ops: OpOptions;
  /** Counts the SSH logins made (for the benchmark's per-worker figure). */
  readonly countLogin: () => void;
}

async function withRunningWorker<T>(
  ctx: StepContext,
  name: string,
  work: (worker: Worker, target: LoginTarget) => Promise<Result<T, RotationError>>,
): Promise<Result<T, RotationError>> {
  const opened = await ctx.driver.openWorker(name, ctx.ops);
  if (!opened.ok)
    return rotationError('ROTATE_INCOMPLETE', `${name}: ${opened.error.code}: ${opened.error.message}`);
  const worker = opened.value;
  try {
    const status = await worker.status(ctx.ops);
    if (!status.ok) return rotationError('ROTATE_INCOMPLETE', `${name}: ${status.error.message}`);
    if (status.value.power !== 'running' || status.value.ssh === undefined)
      return rotationError(
        'ROTATE_INCOMPLETE',
        `${name} is ${status.value.power}: left as it is, retried by the next run`,
      );
    const pins = await pinnedKeys(ctx.settings.location, name);
    if (!pins.ok) return rotationError('ROTATE_INCOMPLETE', `${name}: ${pins.error.message}`);
    return await work(worker, { ...status.value.ssh, pins: pins.value });
  } finally {
    await worker.close();
  }
}

async function login(
  ctx: StepContext,
  target: LoginTarget,
  key: HeldKey,
): Promise<Result<boolean, RotationError>> {
  ctx.countLogin();
  return tryLogin(target, key.file);
}

/** Phase 1 on one worker: both keys written, and a real login with the new one succeeds. */
export function addNewKey(
  ctx: StepContext,
  name: string,
  old: HeldKey,
  next: HeldKey,
): Promise<Result<void, RotationError>> {
  return withRunningWorker(ctx, name, async (worker, target) => {
    const written = await setAdminKeys(
      ctx.settings,
      worker,
      [old.key, next.key],
      AUDIT_ACTIONS.rotateAdd,
      ctx.ops,
    );
    if (!written.ok)
      return rotationError('ROTATE_INCOMPLETE', `${name}: ${written.error.code}: ${written.error.message}`);
    const accepted = await login(ctx, target, next);
    if (!accepted.ok) return accepted;
    if (!accepted.value)
      return rotationError('ROTATE_PROOF_FAILED', `${name} refuses the new admin key it was just given`);
    return ok(undefined);
  });
}

/** Phase 2 on one worker: only the new key is left; it logs in, and the old one is refused. */
export function removeOldKey(
  ctx: StepContext,
  name: string,
  old: HeldKey,
  next: HeldKey,
): Promise<Result<void, RotationError>> {
  return withRunningWorker(ctx, name, async (worker, target) => {
    const written = await setAdminKeys(ctx.settings, worker, [next.key], AUDIT_ACTIONS.rotateRemove, ctx.ops);
    if (!written.ok)
      return rotationError('ROTATE_INCOMPLETE', `${name}: ${written.error.code}: ${written.error.message}`);
    const accepted = await login(ctx, target, next);
    if (!accepted.ok) return accepted;
    if (!accepted.value) return rotationError('ROTATE_PROOF_FAILED', `${name} refuses the new admin key`);
    const refused = await login(ctx, target, old);
    if (!refused.ok) return refused;
    if (refused.value)
      return rotationError(
        'ROTATE_PROOF_FAILED',
        `${name} still accepts the old admin key after it was removed`,
      );
    return ok(undefined);
  });
}
