import { POOL_LIMITS } from '../vault/schema.js';

/**
 * The named limits of everything the job manager takes from outside (a request to the daemon, a
 * flag, a row read back from the state database). Checked before anything is allocated or stored.
 */

/** POP-C++ application IDs are short tokens; psm accepts a conservative alphabet so an ID is safe in a log, a file name and an SQL row. */
export const APP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
export const MAX_APP_ID_CHARS = 128;
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
export const MAX_JOB_ID_CHARS = 128;
/** The job ID a reserve without --job gets. */
export const DEFAULT_JOB_ID = 'default';

/** Keys one application may hand its worker (main node + initiators of every job). */
export const MAX_KEYS_PER_APP = 32;
/** One public key line (type, base64, comment): a 16384-bit RSA key is under 3 KiB. */
export const MAX_KEY_LINE_CHARS = 16 * 1024;
/** Jobs one application may hold at once. */
export const MAX_JOBS_PER_APP = 1024;

/** Longest a reserve waits for a worker unless it asks for less (ms). */
export const DEFAULT_RESERVE_WAIT_MS = 60_000;
export const MAX_RESERVE_WAIT_MS = 15 * 60_000;

/** Pool settings: the same bounds as virtual.conf's schema. */
export const MAX_POOL_VMS = POOL_LIMITS.maxVms;
export const MAX_IDLE_TIMEOUT_SECONDS = POOL_LIMITS.idleTimeoutSeconds;
/** A failed clone is retried after this back-off, doubled per failure up to the maximum (ms). */
export const FILL_RETRY_MIN_MS = 1_000;
export const FILL_RETRY_MAX_MS = 5 * 60_000;
/** Longest error text kept in the state database for a failed worker. */
export const MAX_ERROR_TEXT = 512;

/**
 * How long the daemon waits for a pool worker that another process is driving (`psm vm exec` or
 * `psm audit` run by hand hold the VM's lock while connected to its agent) before the step fails
 * with WORKER_BUSY. The agent serves one client: the daemon queues behind the other client rather
 * than fail its step, or interleave with it on the socket.
 */
export const DAEMON_VM_LOCK_WAIT_MS = 120_000;
