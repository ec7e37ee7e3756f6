import { AUTHORIZED_KEYS_DIR } from '../../guest-ops/image/guest-etc.js';
import { GUEST_USER, PSM_SSHD_CONFIG } from '../../guest-ops/image/recipe.js';
import { WORKER_SSHD_SETTINGS } from '../worker-sshd-settings.js';

/**
 * The sshd_config psm owns on a prepared worker. A whole file, not a drop-in, because the image's
 * sshd_config has no Include and sshd keeps the first value it reads for most keywords: psm's
 * file must be the one sshd is started with (`sshd -f`), checked with `sshd -t -f` first.
 * The hardening lines are the login settings below plus every setting `psm policy explain`
 * relies on (WORKER_SSHD_SETTINGS), so what explain promises is what the worker's sshd enforces.
 */
export const PSM_SSHD_CONFIG_PATH = PSM_SSHD_CONFIG;
export const PSM_HOST_KEY_DIR = '/persist/etc/ssh';

/** Each setting with the value psm requires; `sshd -T` prints them with these lowercase names. */
export const WORKER_SSHD_HARDENING: readonly (readonly [keyword: string, value: string])[] = [
  ['PasswordAuthentication', 'no'],
  ['KbdInteractiveAuthentication', 'no'],
  ['PermitRootLogin', 'no'],
  ['PubkeyAuthentication', 'yes'],
  ['StrictModes', 'yes'],
  ...WORKER_SSHD_SETTINGS.map((setting) => [setting.keyword, setting.value] as const),
  ['GatewayPorts', 'no'],
  ['UsePAM', 'no'],
  ['UseDNS', 'no'],
];

export interface WorkerSshdConfigInput {
  /** Absolute guest paths of psm's host key files: the only HostKey lines. */
  readonly hostKeyPaths: readonly string[];
  /** Appended verbatim after psm's settings (tests inject a bad line here). */
  readonly extra?: string;
}

export function renderWorkerSshdConfig(input: WorkerSshdConfigInput): string {
  if (input.hostKeyPaths.length === 0) throw new Error('a worker sshd needs at least one host key');
  const lines = [
    '# Written by psm worker prepare; replaced on every prepare. Edits here are lost.',
    'Port 22',
    ...input.hostKeyPaths.map((path) => `HostKey ${path}`),
    `AuthorizedKeysFile ${AUTHORIZED_KEYS_DIR}/%u`,
    'PidFile /run/sshd.pid',
    `AllowUsers ${GUEST_USER}`,
    // No AcceptEnv line: sshd accepts no client environment unless one names some.
    ...WORKER_SSHD_HARDENING.map(([keyword, value]) => `${keyword} ${value}`),
    'PrintMotd no',
    'PrintLastLog no',
    'Subsystem sftp internal-sftp',
  ];
  const extra = input.extra === undefined || input.extra === '' ? '' : `${input.extra.replace(/\n?$/, '\n')}`;
  return `${lines.join('\n')}\n${extra}`;
}
