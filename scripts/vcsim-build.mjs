// Builds test/helpers/vcsim (govmomi's simulator plus psm's fixture) with Debian's Go and
// govmomi sources, in GOPATH mode: no module download, no network. The binary is cached like
// the worker image: rebuilt only when its sources, the Go toolchain or govmomi changed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const SOURCE_DIR = 'test/helpers/vcsim';
const DEBIAN_GOPATH = '/usr/share/gocode';
const GOVMOMI_VERSION_FILE = '/usr/share/doc/golang-github-vmware-govmomi-dev/changelog.Debian.gz';
const BUILD_TIMEOUT_MS = 15 * 60 * 1000;

function goEnv(cacheRoot) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? cacheRoot,
    GO111MODULE: 'off',
    GOPATH: `${join(cacheRoot, 'gopath')}:${DEBIAN_GOPATH}`,
    GOCACHE: join(cacheRoot, 'gocache'),
    GOFLAGS: '-trimpath',
    CGO_ENABLED: '0',
  };
}

function inputsDigest(env) {
  const hash = createHash('sha256');
  for (const name of readdirSync(SOURCE_DIR)
    .filter((n) => n.endsWith('.go'))
    .sort()) {
    hash
      .update(`${name}\0`)
      .update(readFileSync(join(SOURCE_DIR, name)))
      .update('\0');
  }
  hash.update(execFileSync('go', ['version'], { env, encoding: 'utf8', timeout: 60_000 }));
  if (existsSync(GOVMOMI_VERSION_FILE)) hash.update(readFileSync(GOVMOMI_VERSION_FILE));
  return hash.digest('hex');
}

/** Builds the simulator binary at `out` unless the one there was built from the same inputs. */
export function buildVcsim(out) {
  const target = resolve(out);
  const cacheRoot = join(dirname(target), 'go');
  mkdirSync(cacheRoot, { recursive: true });
  const env = goEnv(cacheRoot);
  const digest = inputsDigest(env);
  const stamp = `${target}.inputs`;
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  console.log('psm test set-up: building the vSphere simulator (govmomi, GOPATH mode)');
  const temp = `${target}.tmp`;
  execFileSync('go', ['build', '-o', temp, `./${SOURCE_DIR}`], {
    env,
    stdio: 'inherit',
    timeout: BUILD_TIMEOUT_MS,
  });
  renameSync(temp, target);
  writeFileSync(stamp, digest);
}
