import { GUEST_HOSTNAME, GUEST_UID, GUEST_USER } from './recipe.js';

/**
 * The guest's account and service configuration. sshd needs its privilege-separation user, a
 * '*' (not '!') password field for key-only accounts, and UsePAM no (there is no PAM stack).
 */
export interface GuestTextFile {
  /** Path inside the guest, relative (no leading '/'). */
  readonly path: string;
  readonly mode: number;
  readonly text: string;
}

/**
 * authorized_keys live in a root-owned directory (one root-owned 0644 file per user), not in the
 * user's home: the keys psm installs carry restrictions the user must not be able to edit away.
 */
export const AUTHORIZED_KEYS_DIR = '/persist/etc/ssh/authorized_keys';

export const SSHD_CONFIG = `# psm worker image: key-only logins for ${GUEST_USER}; state under /persist (per clone).
Port 22
HostKey /persist/etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile ${AUTHORIZED_KEYS_DIR}/%u
PidFile /run/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PubkeyAuthentication yes
AllowUsers ${GUEST_USER}
StrictModes yes
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
Subsystem sftp internal-sftp
`;

export function guestEtcFiles(): GuestTextFile[] {
  const home = `/persist/home/${GUEST_USER}`;
  return [
    {
      path: 'etc/passwd',
      mode: 0o644,
      text:
        'root:x:0:0:root:/root:/bin/sh\n' +
        'sshd:x:100:65534:sshd privilege separation:/run/sshd:/bin/false\n' +
        `${GUEST_USER}:x:${GUEST_UID}:${GUEST_UID}:POP-C++ worker:${home}:/bin/sh\n`,
    },
    {
      path: 'etc/group',
      mode: 0o644,
      text: `root:x:0:\ntty:x:5:\nnogroup:x:65534:\n${GUEST_USER}:x:${GUEST_UID}:\n`,
    },
    {
      // '*' : no password can match, but the account is not locked, so key logins work.
      path: 'etc/shadow',
      mode: 0o600,
      text: `root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n${GUEST_USER}:*:19000:0:99999:7:::\n`,
    },
    {
      path: 'etc/nsswitch.conf',
      mode: 0o644,
      text: 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n',
    },
    { path: 'etc/hostname', mode: 0o644, text: `${GUEST_HOSTNAME}\n` },
    { path: 'etc/hosts', mode: 0o644, text: `127.0.0.1 localhost\n127.0.1.1 ${GUEST_HOSTNAME}\n` },
    {
      path: 'etc/os-release',
      mode: 0o644,
      text: 'ID=psm-worker\nNAME="psm worker test image"\nPRETTY_NAME="psm worker test image (busybox, Debian 12 binaries)"\n',
    },
    { path: 'etc/ssh/sshd_config', mode: 0o644, text: SSHD_CONFIG },
  ];
}
