import type { AppPhase, WorkerState } from './schema.js';

/** Who a key belongs to, which decides the policy the key exchange renders it under. */
export type KeyRole = 'main-node' | 'initiator';
export const KEY_ROLES: readonly KeyRole[] = ['main-node', 'initiator'];

/** One public key an application hands its worker: canonical `type base64` (no comment, no options). */
export interface ApplicationKey {
  readonly role: KeyRole;
  readonly key: string;
}

export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
}

/** What preparing a worker yields: where its sshd is reachable and the host keys pinned for it. */
export interface PreparedWorker {
  readonly ssh: SshEndpoint;
  /** The worker's host public keys as `type base64` lines, as pinned in the admin's known_hosts. */
  readonly hostKeys: readonly string[];
}

export interface WorkerRow {
  readonly name: string;
  readonly state: WorkerState;
  readonly ssh: SshEndpoint | undefined;
  readonly hostKeys: readonly string[];
  /** How often this clone was reverted to its clean snapshot and handed to a new application. */
  readonly reverts: number;
  readonly createdAt: number;
  readonly stateSince: number;
  readonly lastError: string | undefined;
  /** The application this worker serves (reserved, or reverting after its end). */
  readonly app: string | undefined;
}

export interface AppRow {
  readonly appId: string;
  readonly worker: string;
  readonly phase: AppPhase;
  readonly keys: readonly ApplicationKey[];
  readonly createdAt: number;
  readonly lastActive: number;
  readonly jobs: readonly string[];
}

export interface RawWorker {
  name: string;
  state: WorkerState;
  ssh_host: string | null;
  ssh_port: number | null;
  host_keys: string;
  reverts: number;
  created_at: number;
  state_since: number;
  last_error: string | null;
  app_id: string | null;
}

export interface RawApp {
  app_id: string;
  worker: string;
  phase: AppPhase;
  keys: string;
  created_at: number;
  last_active: number;
  jobs: string | null;
}

function stringArray(text: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new Error('state database: a host_keys column is not a list of strings');
  return value as string[];
}

function keyArray(text: string): ApplicationKey[] {
  const value: unknown = JSON.parse(text);
  const valid =
    Array.isArray(value) &&
    value.every(
      (k: unknown) =>
        typeof k === 'object' &&
        k !== null &&
        KEY_ROLES.includes((k as ApplicationKey).role) &&
        typeof (k as ApplicationKey).key === 'string',
    );
  if (!valid) throw new Error('state database: a keys column is not a list of application keys');
  return value as ApplicationKey[];
}

export function workerOf(raw: RawWorker): WorkerRow {
  return {
    name: raw.name,
    state: raw.state,
    ssh:
      raw.ssh_host === null || raw.ssh_port === null ? undefined : { host: raw.ssh_host, port: raw.ssh_port },
    hostKeys: stringArray(raw.host_keys),
    reverts: raw.reverts,
    createdAt: raw.created_at,
    stateSince: raw.state_since,
    lastError: raw.last_error ?? undefined,
    app: raw.app_id ?? undefined,
  };
}

export function appOf(raw: RawApp): AppRow {
  return {
    appId: raw.app_id,
    worker: raw.worker,
    phase: raw.phase,
    keys: keyArray(raw.keys),
    createdAt: raw.created_at,
    lastActive: raw.last_active,
    jobs: raw.jobs === null ? [] : stringArray(raw.jobs),
  };
}
