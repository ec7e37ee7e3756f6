import { AUTHORIZED_KEYS_DIR } from '../../guest-ops/image/guest-etc.js';
import { GUEST_USER } from '../../guest-ops/image/recipe.js';
import { PSM_HOST_KEY_DIR, PSM_SSHD_CONFIG_PATH } from '../host-keys/sshd-config.js';

/**
 * Where things are in the guest and which programs psm runs there (path + argv, never a shell).
 * The default is the psm worker image's; a template with another layout (a vSphere Debian image,
 * say) passes its own. Every path is absolute and fixed here, never taken from a guest answer.
 */
export interface GuestIdentityLayout {
  readonly sshd: string;
  /** psm's whole sshd_config; the guest's sshd must be started with `-f` this file. */
  readonly sshdConfig: string;
  /** Where psm's host keys go (root-owned, not group/world-writable). */
  readonly hostKeyDir: string;
  /** Where sshd writes its listener's pid (the PidFile of psm's config and of the image's). */
  readonly sshdPidFile: string;
  /** The guest user sshd's `-T -C user=` check is made for. */
  readonly guestUser: string;
  readonly authorizedKeysDir: string;
  /**
   * The directories searched (to depth 3) for identity files to remove: every `ssh_host_*` and
   * `psm_host_*` file under the host key directories, machine-id files and DHCP leases.
   */
  readonly searchRoots: readonly string[];
  /** Host key files live directly in these directories. */
  readonly hostKeyDirs: readonly string[];
  /** Emptied (not removed: systemd makes a new id at boot when the file is empty). */
  readonly machineIdFile: string;
  /** Removed when they are regular files (D-Bus keeps a copy). */
  readonly extraMachineIdFiles: readonly string[];
  /** Lease files directly in these directories are removed (dhclient, dhcpcd, NetworkManager, udhcpc). */
  readonly leaseDirs: readonly string[];
  readonly programs: {
    readonly find: string;
    readonly rm: string;
    readonly mv: string;
    readonly mkdir: string;
    readonly kill: string;
    readonly readlink: string;
  };
}

export const WORKER_IMAGE_LAYOUT: GuestIdentityLayout = {
  sshd: '/usr/sbin/sshd',
  sshdConfig: PSM_SSHD_CONFIG_PATH,
  hostKeyDir: PSM_HOST_KEY_DIR,
  sshdPidFile: '/run/sshd.pid',
  guestUser: GUEST_USER,
  authorizedKeysDir: AUTHORIZED_KEYS_DIR,
  searchRoots: ['/etc', '/var', '/run', '/persist/etc'],
  hostKeyDirs: ['/etc/ssh', PSM_HOST_KEY_DIR],
  machineIdFile: '/etc/machine-id',
  extraMachineIdFiles: ['/var/lib/dbus/machine-id'],
  leaseDirs: [
    '/var/lib/dhcp',
    '/var/lib/dhclient',
    '/var/lib/dhcpcd',
    '/var/lib/NetworkManager',
    '/var/lib/udhcpc',
    '/var/lib/systemd/network',
  ],
  programs: {
    find: '/usr/bin/find',
    rm: '/bin/rm',
    mv: '/bin/mv',
    mkdir: '/bin/mkdir',
    kill: '/bin/kill',
    readlink: '/bin/readlink',
  },
};

/** psm's own key file names: `psm_host_<algorithm>_key-<generation>` (and `.pub`). */
export function psmKeyPath(layout: GuestIdentityLayout, algorithm: string, generation: string): string {
  return `${layout.hostKeyDir}/psm_host_${algorithm}_key-${generation}`;
}

/** A generation is 12 lowercase hex digits (48 random bits): one per prepare run. */
export const GENERATION_PATTERN = /^[0-9a-f]{12}$/;
