import { isAbsolute, join, resolve } from 'node:path';
import { err, ok, type Result } from '../common/result.js';
import { vaultError, type VaultError } from './errors.js';

/**
 * Where psm's files live under a POP-C++ location. The roadmap puts the configuration in
 * `$POPC_LOCATION/etc/virtual.conf`; POP-C++ installs to /usr/local/popc by default, so that is
 * psm's default location too.
 */
export const DEFAULT_LOCATION = '/usr/local/popc';
export const LOCATION_ENV = 'POPC_LOCATION';
/** systemd's LoadCredential=psm.key:... puts the key here. */
export const CREDENTIALS_ENV = 'CREDENTIALS_DIRECTORY';
export const CREDENTIAL_NAME = 'psm.key';

export interface Layout {
  readonly location: string;
  readonly etcDir: string;
  readonly configFile: string;
  readonly keyFile: string;
  /** The next key during a rekey, renamed over keyFile once the config names it. */
  readonly nextKeyFile: string;
  readonly lockFile: string;
  readonly psmDir: string;
  readonly keysDir: string;
  readonly policiesDir: string;
  readonly stateDir: string;
  readonly imagesDir: string;
  readonly adminKey: string;
}

/** --location, then $POPC_LOCATION, then the default; always made absolute. */
export function resolveLocation(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? (env[LOCATION_ENV] || undefined) ?? DEFAULT_LOCATION;
  return isAbsolute(chosen) ? chosen : resolve(chosen);
}

/** Control and invisible format characters: a newline in a path splits every line psm prints. */
const UNSAFE_IN_PATH = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * A location psm can work in: not empty (`--location ''` must not mean the current directory),
 * no control or invisible characters. Checked before anything is created.
 */
export function checkLocation(location: string): Result<string, VaultError> {
  if (location === '')
    return err(vaultError('BAD_LOCATION', 'the location is empty: give a directory, e.g. /usr/local/popc'));
  if (UNSAFE_IN_PATH.test(location))
    return err(
      vaultError(
        'BAD_LOCATION',
        `the location ${JSON.stringify(location)} holds a control or invisible character; choose another directory`,
      ),
    );
  return ok(location);
}

/** resolveLocation for a flag a user typed: refuses what checkLocation refuses. */
export function locationFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Result<string, VaultError> {
  if (flag !== undefined) {
    const checked = checkLocation(flag);
    if (!checked.ok) return checked;
  }
  return checkLocation(resolveLocation(flag, env));
}

export function layoutOf(location: string): Layout {
  const etcDir = join(location, 'etc');
  const psmDir = join(location, 'var', 'psm');
  const keysDir = join(psmDir, 'keys');
  return {
    location,
    etcDir,
    configFile: join(etcDir, 'virtual.conf'),
    keyFile: join(etcDir, 'psm.key'),
    nextKeyFile: join(etcDir, 'psm.key.next'),
    lockFile: join(etcDir, '.virtual.conf.lock'),
    psmDir,
    keysDir,
    policiesDir: join(etcDir, 'psm-policies'),
    stateDir: join(psmDir, 'state'),
    imagesDir: join(psmDir, 'images'),
    adminKey: join(keysDir, 'admin_ed25519'),
  };
}
