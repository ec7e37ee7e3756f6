/**
 * The guest programs psm runs (through guest-exec, path + argv, never a shell) to finish file
 * copies and to stop a program that ran over its time. Absolute paths: the agent would otherwise
 * search its PATH. Busybox and Debian (merged /usr) both provide every one of them under /bin.
 */
export interface GuestTools {
  readonly mkdir: string;
  readonly chmod: string;
  readonly chown: string;
  readonly mv: string;
  readonly rm: string;
  readonly rmdir: string;
  readonly stat: string;
  readonly kill: string;
}

export const DEFAULT_GUEST_TOOLS: GuestTools = {
  mkdir: '/bin/mkdir',
  chmod: '/bin/chmod',
  chown: '/bin/chown',
  mv: '/bin/mv',
  rm: '/bin/rm',
  rmdir: '/bin/rmdir',
  stat: '/bin/stat',
  kill: '/bin/kill',
};
