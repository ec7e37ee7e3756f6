import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { imageError, type ImageError } from './errors.js';
import { POPC_OBJECTS_DIR, POPC_ROOT } from './guest-popc.js';

/**
 * POP-C++ 2.5's worker side, taken from a build made by scripts/popc-build.mjs (DIR/root is its
 * `make install DESTDIR=` tree, DIR/programs/NAME/NAME.obj the static code files of the POP-C++
 * programs psm's tests run), at POP-C++'s real paths:
 * - POPC_ROOT/services/popcobjrun: POP-C++'s own popcobjrun, unchanged (the gate's only program);
 * - POPC_ROOT/etc/popc-runtime-env.sh: the runtime environment popcobjrun sources, written by
 *   psm (POP-C++'s popc_setup would ask for it interactively);
 * - POPC_OBJECTS_DIR/NAME.obj: the code files, statically linked (the guest has no libstdc++).
 */
export interface GuestBinaryFile {
  /** Path inside the guest, relative (no leading '/'). */
  readonly path: string;
  readonly mode: number;
  readonly data: Buffer;
}

export const POPC_POPCOBJRUN = `${POPC_ROOT}/services/popcobjrun`;
/** A code file larger than this is not one psm built (the static psmsum.obj is under 3 MiB). */
const MAX_CODE_FILE_BYTES = 64 * 1024 * 1024;
const MAX_PROGRAMS = 32;

// Objects advertise the worker's loopback: the admin reaches them only through the SSH tunnels
// psm's popc-rsh opens with the restricted key (docs/popc.md), never over the worker's network.
const RUNTIME_ENV = `# psm worker image: POP-C++'s runtime environment, sourced by popcobjrun.
POPC_LOCATION=${POPC_ROOT}
POPC_HOST=127.0.0.1
POPC_IP=127.0.0.1
PATH=${POPC_ROOT}/bin:/usr/sbin:/usr/bin:/sbin:/bin
export POPC_LOCATION POPC_HOST POPC_IP PATH
`;

/** The worker-side files from the POP-C++ build in `dir`, or a coded failure naming what is missing. */
export async function popcWorkerFiles(dir: string): Promise<Result<GuestBinaryFile[], ImageError>> {
  const files: GuestBinaryFile[] = [];
  const popcobjrun = join(dir, 'root', POPC_POPCOBJRUN.slice(1));
  const script = await readFile(popcobjrun).catch(() => undefined);
  if (script === undefined || !script.subarray(0, 10).toString('latin1').startsWith('#!/bin/sh'))
    return err(imageError('IMAGE_FILE_MISSING', `no POP-C++ popcobjrun script at ${popcobjrun}`, popcobjrun));
  files.push({ path: POPC_POPCOBJRUN.slice(1), mode: 0o755, data: script });
  files.push({
    path: `${POPC_ROOT.slice(1)}/etc/popc-runtime-env.sh`,
    mode: 0o644,
    data: Buffer.from(RUNTIME_ENV, 'utf8'),
  });
  const programs = await readdir(join(dir, 'programs')).catch(() => undefined);
  if (programs === undefined || programs.length === 0 || programs.length > MAX_PROGRAMS)
    return err(imageError('IMAGE_FILE_MISSING', `no POP-C++ programs under ${dir}/programs`, dir));
  for (const name of programs.sort()) {
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(name))
      return err(
        imageError('IMAGE_FILE_MISSING', `unexpected POP-C++ program name ${JSON.stringify(name)}`, dir),
      );
    const codeFile = join(dir, 'programs', name, `${name}.obj`);
    const info = await stat(codeFile).catch(() => undefined);
    if (info === undefined || !info.isFile() || info.size > MAX_CODE_FILE_BYTES)
      return err(imageError('IMAGE_FILE_MISSING', `no code file ${codeFile}`, codeFile));
    const data = await readFile(codeFile);
    if (data.subarray(0, 4).toString('latin1') !== '\x7fELF')
      return err(imageError('IMAGE_FILE_MISSING', `${codeFile} is not an ELF program`, codeFile));
    files.push({ path: `${POPC_OBJECTS_DIR.slice(1)}/${name}.obj`, mode: 0o755, data });
  }
  return ok(files);
}

/** A digest of the files' paths, modes and bytes, recorded in the image's inputs. */
export function popcFilesDigest(files: readonly GuestBinaryFile[]): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.path}\0${f.mode}\0`).update(f.data).update('\0');
  return hash.digest('hex');
}
