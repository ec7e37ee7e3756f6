/**
 * The sshd settings every worker must have for psm's explanations to be true: what an
 * authorized_keys line cannot restrict itself. `psm policy explain` names them, the sshd e2e test
 * runs a server with them, and the worker set-up installs them (as a drop-in read before
 * Debian's own sshd_config lines, where the first value of a keyword wins).
 */
export interface WorkerSshdSetting {
  readonly keyword: string;
  /** The value as written in sshd_config. */
  readonly value: string;
  /** How `sshd -T` prints the keyword (lower case) and the value, to check an effective config. */
  readonly effective: string;
  readonly why: string;
}

export const WORKER_SSHD_SETTINGS: readonly WorkerSshdSetting[] = [
  {
    keyword: 'PermitUserEnvironment',
    value: 'no',
    effective: 'permituserenvironment no',
    why: 'keys and ~/.ssh/environment must not set environment variables',
  },
  {
    keyword: 'AllowStreamLocalForwarding',
    value: 'no',
    effective: 'allowstreamlocalforwarding no',
    why: 'once port forwarding is on, an authorized_keys line cannot stop Unix-socket forwarding',
  },
  {
    keyword: 'PermitTunnel',
    value: 'no',
    effective: 'permittunnel no',
    why: 'authorized_keys has no option that refuses tun/tap forwarding',
  },
  {
    keyword: 'AllowAgentForwarding',
    value: 'no',
    effective: 'allowagentforwarding no',
    why: 'defence in depth: restrict already refuses it per key',
  },
  {
    keyword: 'X11Forwarding',
    value: 'no',
    effective: 'x11forwarding no',
    why: 'defence in depth: restrict already refuses it per key',
  },
  {
    keyword: 'PermitUserRC',
    value: 'no',
    effective: 'permituserrc no',
    why: 'defence in depth: restrict already refuses ~/.ssh/rc per key',
  },
  {
    keyword: 'PermitTTY',
    value: 'no',
    effective: 'permittty no',
    why: 'defence in depth: restrict already refuses a pty per key',
  },
];

/**
 * `AcceptEnv` must accept nothing: Debian's default `AcceptEnv LANG LC_*` passes client values
 * to the account's shell and the gate. sshd has no "none" value, so the worker's configuration
 * must contain no AcceptEnv line at all; `sshd -T` then prints no `acceptenv` line.
 */
export const WORKER_ACCEPT_ENV_NONE = 'no AcceptEnv line (sshd -T prints no acceptenv)';

/** The settings as sshd_config lines. */
export function workerSshdConfigLines(): string[] {
  return WORKER_SSHD_SETTINGS.map((s) => `${s.keyword} ${s.value}`);
}
