import { AUTHORIZED_KEYS_DIR } from '../../guest-ops/image/guest-etc.js';
import { GUEST_UID, GUEST_USER } from '../../guest-ops/image/recipe.js';

/**
 * Where key exchange writes in a worker (the psm worker image's layout). authorized_keys is one
 * root-owned file per user in a root-owned directory, so the user cannot edit its restrictions
 * away; 0644 because sshd reads it with the user's uid, and StrictModes refuses anything
 * group- or world-writable.
 */
export const GUEST_AUTHORIZED_KEYS = `${AUTHORIZED_KEYS_DIR}/${GUEST_USER}`;
export const AUTHORIZED_KEYS_MODE = 0o644;
export const ROOT_OWNER = { uid: 0, gid: 0 } as const;

/**
 * The worker's own user key (for POP-C++ connections from the worker back to its main node): the
 * private half lives only in the guest, in the POP-C++ user's ~/.ssh, owned by that user, 0600.
 * psm makes it, writes it there and wipes its copy; the admin VM keeps only the public half.
 */
export const GUEST_USER_HOME = `/persist/home/${GUEST_USER}`;
export const GUEST_SSH_DIR = `${GUEST_USER_HOME}/.ssh`;
export const GUEST_USER_KEY = `${GUEST_SSH_DIR}/id_ed25519`;
export const GUEST_USER_OWNER = { uid: GUEST_UID, gid: GUEST_UID } as const;

/** Guest programs psm runs for key exchange (path + argv, never a shell). */
export const GUEST_PROGRAMS = {
  mkdir: '/bin/mkdir',
  chown: '/bin/chown',
  chmod: '/bin/chmod',
  stat: '/bin/stat',
} as const;
