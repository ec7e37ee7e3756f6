// Builds POP-C++ 2.5 (the grid middleware psm serves) from its source tarball with psm's patch
// (contrib/popc/pop-cpp-2.5-psm.patch), then the POP-C++ programs psm's tests run
// (contrib/popc/programs/). Cached like the worker image: the tree under .cache/popc-2.5 is
// rebuilt only when the tarball, the patch, the programs or this recipe changed. `make` and
// `configure` run as processes with argv arrays; nothing here goes through a shell of ours.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PATCH = join(REPO, 'contrib/popc/pop-cpp-2.5-psm.patch');
const PROGRAMS = join(REPO, 'contrib/popc/programs');
/** Bumped whenever the steps below change what they produce. */
const RECIPE = 'popc-2.5-recipe-2';
/** POP-C++'s own install prefix: the worker image puts the worker side at exactly these paths. */
export const POPC_PREFIX = '/usr/local/popc';
const STEP_TIMEOUT_MS = 90 * 60 * 1000;
// glibc has no SunRPC any more: the XDR code comes from libtirpc. The 2012 sources are C++98.
const CONFIGURE_ARGS = [
  `--prefix=${POPC_PREFIX}`,
  'CPPFLAGS=-I/usr/include/tirpc',
  'LIBS=-ltirpc',
  'CXXFLAGS=-O2 -std=gnu++98 -Wreturn-type',
  'CXXCPP=g++ -E -std=gnu++98',
  'CFLAGS=-O2',
];

/** popcc hands these to g++: the same language as the libraries (its preprocessor has it built in). */
const PROGRAM_FLAGS = ['-std=gnu++98', '-O2'];

/**
 * What the build runs (program that must exist -> the Debian package that provides it): the
 * compilers, POP-C++'s build tools, and SunRPC's XDR, gone from glibc. scripts/test-setup.mjs
 * installs them; a build without them stops at once with POPC_BUILD_DEPS_MISSING.
 */
export const POPC_BUILD_PACKAGES = {
  '/usr/bin/g++': 'g++',
  '/usr/bin/make': 'make',
  '/usr/bin/autoconf': 'autoconf',
  '/usr/bin/automake': 'automake',
  '/usr/bin/libtoolize': 'libtool',
  '/usr/bin/bison': 'bison',
  '/usr/bin/flex': 'flex',
  '/usr/bin/byacc': 'byacc',
  '/usr/bin/patch': 'patch',
  '/usr/include/tirpc/rpc/xdr.h': 'libtirpc-dev',
};

/** The Debian packages of POPC_BUILD_PACKAGES whose program is missing here. */
export function missingBuildPackages() {
  const missing = Object.entries(POPC_BUILD_PACKAGES).filter(([path]) => !existsSync(path));
  return [...new Set(missing.map(([, pkg]) => pkg))];
}

/** Where the tarball is: $PSM_POPC_SOURCE, else the shared vendor directory next to the checkout. */
export function popcSourceTarball() {
  if (process.env.PSM_POPC_SOURCE) return resolve(process.env.PSM_POPC_SOURCE);
  const candidates = [
    resolve(REPO, '../shared/vendor/pop-cpp-2.5.tar.gz'),
    resolve(REPO, '../../shared/vendor/pop-cpp-2.5.tar.gz'),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function programFiles() {
  const files = [];
  for (const program of readdirSync(PROGRAMS).sort()) {
    for (const name of readdirSync(join(PROGRAMS, program)).sort()) files.push(join(program, name));
  }
  return files;
}

/** The cache key: the tarball's sha256, the patch's sha256, the programs and the recipe. */
export function popcInputsDigest(tarball) {
  const hash = createHash('sha256');
  hash.update(`${RECIPE}\0tarball ${sha256(readFileSync(tarball))}\0patch ${sha256(readFileSync(PATCH))}\0`);
  for (const file of programFiles()) hash.update(`${file}\0${sha256(readFileSync(join(PROGRAMS, file)))}\0`);
  return hash.digest('hex');
}

function step(file, args, cwd, env) {
  execFileSync(file, args, { cwd, env, stdio: 'inherit', timeout: STEP_TIMEOUT_MS });
}

function buildEnv() {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LC_ALL: 'C' };
}

/** Compiles each program under contrib/popc/programs/ with the freshly installed popcc. */
function buildPrograms(root, programsOut) {
  const location = join(root, POPC_PREFIX.slice(1));
  const env = { ...buildEnv(), POPC_LOCATION: location };
  const popcc = join(location, 'bin/popcc');
  for (const program of readdirSync(PROGRAMS).sort()) {
    const out = join(programsOut, program);
    // popcc writes its intermediate files beside the sources: compile copies, never the checkout.
    const src = join(programsOut, `${program}.src`);
    mkdirSync(out, { recursive: true });
    cpSync(join(PROGRAMS, program), src, { recursive: true });
    const names = readdirSync(src);
    const ph = names.filter((n) => n.endsWith('.ph')).map((n) => join(src, n));
    const objectCc = names.filter((n) => n.endsWith('.cc') && n !== 'main.cc').map((n) => join(src, n));
    // The parallel objects' code file (what popcobjrun starts on a worker), static so the worker
    // image needs no shared libraries for it; then the client, which runs on the admin.
    step(
      popcc,
      [...PROGRAM_FLAGS, '-object', '-static', '-o', join(out, `${program}.obj`), ...ph, ...objectCc],
      out,
      env,
    );
    step(
      popcc,
      [...PROGRAM_FLAGS, '-o', join(out, program), ...ph, ...objectCc, join(src, 'main.cc')],
      out,
      env,
    );
    rmSync(src, { recursive: true, force: true });
  }
}

/** Builds POP-C++ into `out` (out/root is a DESTDIR tree) unless the tree there has the same inputs. */
export function buildPopc(out) {
  const target = resolve(out);
  const tarball = popcSourceTarball();
  if (!existsSync(tarball)) {
    throw new Error(`POP-C++ source not found at ${tarball} (set PSM_POPC_SOURCE to pop-cpp-2.5.tar.gz)`);
  }
  const digest = popcInputsDigest(tarball);
  const stamp = join(target, 'inputs');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return target;
  const missing = missingBuildPackages();
  if (missing.length > 0)
    throw new Error(
      `POPC_BUILD_DEPS_MISSING: building POP-C++ needs ${missing.join(' ')} (apt-get install -y ${missing.join(' ')})`,
    );
  console.log(`psm test set-up: building POP-C++ 2.5 into ${target} (make -j2; slow on 2 cores)`);
  const started = process.hrtime.bigint();
  const temp = `${target}.tmp`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  const env = buildEnv();
  step('tar', ['-xzf', tarball, '-C', temp], temp, env);
  const src = join(temp, 'pop-cpp-2.5');
  step('patch', ['-p1', '--no-backup-if-mismatch', '-i', PATCH], src, env);
  // patch gives the files it touched a new mtime; put the Makefile.am/.in pair back on the
  // tarball's date so make never tries to rerun automake.
  step(
    'touch',
    ['-r', join(src, 'configure.ac'), join(src, 'services/Makefile.am'), join(src, 'services/Makefile.in')],
    src,
    env,
  );
  step(join(src, 'configure'), CONFIGURE_ARGS, src, env);
  step('make', ['-j2'], src, env);
  const root = join(temp, 'root');
  step('make', ['install', `DESTDIR=${root}`], src, env);
  buildPrograms(root, join(temp, 'programs'));
  rmSync(src, { recursive: true, force: true });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  writeFileSync(join(temp, 'build-seconds'), `${seconds.toFixed(1)}\n`);
  writeFileSync(join(temp, 'inputs'), digest);
  rmSync(target, { recursive: true, force: true });
  renameSync(temp, target);
  console.log(`psm test set-up: POP-C++ 2.5 built in ${seconds.toFixed(1)} s`);
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    buildPopc(process.argv[2] ?? process.env.PSM_POPC ?? join(REPO, '.cache/popc-2.5'));
  } catch (error) {
    console.error(`popc-build: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
