import { setTimeout as sleepFor } from 'node:timers/promises';
import { guestOpsError, type GuestOpsError, type GuestOpsErrorCode } from '../errors.js';

/**
 * One time budget for an operation made of several steps: a signal that fires when the caller
 * aborts or the time is up, and a way to tell the two apart for the error code.
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly endsAt: number;
  private readonly timeoutSignal: AbortSignal;

  constructor(
    readonly timeoutMs: number,
    private readonly callerSignal?: AbortSignal,
  ) {
    this.endsAt = Date.now() + timeoutMs;
    this.timeoutSignal = AbortSignal.timeout(Math.max(1, timeoutMs));
    this.signal =
      callerSignal === undefined ? this.timeoutSignal : AbortSignal.any([callerSignal, this.timeoutSignal]);
  }

  /** Milliseconds left, at least 1 so that a step always gets a chance to fail by itself. */
  remaining(): number {
    return Math.max(1, this.endsAt - Date.now());
  }

  /** The smaller of `ms` and what is left. */
  cap(ms: number): number {
    return Math.min(ms, this.remaining());
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  /** True once the time is up (whether or not anything noticed yet). */
  get expired(): boolean {
    return Date.now() >= this.endsAt;
  }

  /**
   * Options for one step: at most `capMs`, never past the deadline, aborted by the caller's signal.
   * The step's own timeout then reports its own code, and the caller's abort stays ABORTED.
   */
  step(capMs: number): { timeoutMs: number; signal?: AbortSignal } {
    const timeoutMs = this.cap(capMs);
    return this.callerSignal === undefined ? { timeoutMs } : { timeoutMs, signal: this.callerSignal };
  }

  /** The error for a fired signal: ABORTED for the caller, `timeoutCode` for the clock. */
  error(timeoutCode: GuestOpsErrorCode, what: string): GuestOpsError {
    if (this.callerSignal?.aborted === true) return guestOpsError('ABORTED', `${what} was aborted`);
    return guestOpsError(timeoutCode, `${what} did not finish within ${this.timeoutMs} ms`);
  }

  /** Sleeps `ms` (capped by the deadline); resolves false when the deadline fired instead. */
  async sleep(ms: number): Promise<boolean> {
    if (this.signal.aborted) return false;
    try {
      await sleepFor(this.cap(ms), undefined, { signal: this.signal });
      return !this.signal.aborted;
    } catch {
      return false;
    }
  }
}
