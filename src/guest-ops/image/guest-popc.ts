import type { GuestTextFile } from './guest-etc.js';

/**
 * Stand-ins for POP-C++'s worker side, at the paths the shipped policies name, so that the demo
 * and the end-to-end tests exercise the real gate and the real sshd before POP-C++
 * itself is in the image (the POP-C++ issue replaces these with its build). They are busybox sh
 * scripts made only of constants; nothing a client sends is evaluated.
 */
export const POPC_ROOT = '/usr/local/popc';
export const POPC_OBJECTS_DIR = `${POPC_ROOT}/objects`;
/** The demo's parallel object: prints its name, the worker and its arguments. */
export const DEMO_OBJECT = `${POPC_OBJECTS_DIR}/hello`;

// popcobjrun OBJECT [ARGS...]: runs OBJECT (an executable file under the objects directory, no
// "..") with ARGS, the way POP-C++'s popcobjrun starts a parallel object's code file.
const POPCOBJRUN = `#!/bin/sh
# psm worker image: stand-in for POP-C++'s popcobjrun (replaced by the real one with POP-C++).
case \${1-} in
  ${POPC_OBJECTS_DIR}/*) ;;
  *) echo "popcobjrun: not an object: \${1-}" >&2; exit 2 ;;
esac
case $1 in
  *..*) echo "popcobjrun: not an object: $1" >&2; exit 2 ;;
esac
[ -f "$1" ] && [ -x "$1" ] || { echo "popcobjrun: no such object: $1" >&2; exit 2; }
exec "$@"
`;

const HELLO_OBJECT = `#!/bin/sh
# psm worker image: the demo's parallel object.
echo "hello from $(hostname) (uid $(id -u)): $*"
`;

/** The stand-in at POP-C++'s own popcobjrun path, for images built without a POP-C++ tree. */
export function popcStandInAt(path: string): GuestTextFile {
  return { path, mode: 0o755, text: POPCOBJRUN };
}

export function popcStandInFiles(): GuestTextFile[] {
  return [
    { path: `${POPC_ROOT.slice(1)}/bin/popcobjrun`, mode: 0o755, text: POPCOBJRUN },
    { path: DEMO_OBJECT.slice(1), mode: 0o755, text: HELLO_OBJECT },
  ];
}
