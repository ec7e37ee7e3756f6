import { randomBytes } from 'node:crypto';

/** The most runs whose end a daemon waits for; beyond it the oldest is forgotten (its end is then refused). */
export const MAX_OPEN_RUNS = 4096;

/** What the start of a `psm run-main` recorded, kept until its end is recorded. */
export interface OpenRun {
  readonly app: string;
  readonly worker: string;
  readonly object: string;
}

/**
 * The runs of `psm run-main` this daemon answered and whose end is not recorded yet. The id ties
 * a run's `run-main.end` entry in the audit log to its `run-main.start`, and only an id this
 * daemon gave out can be ended, once. They live in memory: after a daemon restart a run that
 * was still going cannot be ended (the CLI warns that its end went unrecorded).
 */
export class OpenRuns {
  readonly #runs = new Map<string, OpenRun>();

  open(run: OpenRun): string {
    const id = randomBytes(16).toString('hex');
    if (this.#runs.size >= MAX_OPEN_RUNS) {
      const oldest = this.#runs.keys().next().value;
      if (oldest !== undefined) this.#runs.delete(oldest);
    }
    this.#runs.set(id, run);
    return id;
  }

  /** The run, removed; undefined when this daemon gave out no such id or it was ended already. */
  close(id: string): OpenRun | undefined {
    const run = this.#runs.get(id);
    this.#runs.delete(id);
    return run;
  }
}

/** A run id as open() makes them. */
export const RUN_ID_PATTERN = /^[0-9a-f]{32}$/;
