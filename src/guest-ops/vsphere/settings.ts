import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { CredentialSource } from './soap-client.js';
import { THUMBPRINT_PATTERN, type Endpoint, type TlsPin } from './transport.js';

/** What the vSphere driver needs; the CLI fills it from virtual.conf [hypervisor] and the vault. */
export interface VsphereDriverSettings {
  readonly endpoint: Endpoint;
  /** The hypervisor login (hypervisor.username + the sealed hypervisor.password). */
  readonly credentials: CredentialSource;
  /** The guest login for guest operations (worker.guest_user + the sealed worker.guest_password). */
  readonly guestCredentials?: CredentialSource;
  /** Inventory path of the VM folder that holds psm's workers (`DC0/vm/psm`). */
  readonly folder: string;
  /** Inventory path of the resource pool for clones; default: the template's own pool. */
  readonly resourcePool?: string;
  /** Refuse a session holding privileges beyond contrib/vsphere/psm-role.txt. */
  readonly strictRole: boolean;
}

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
export const INVENTORY_PATH = /^[^\0-\x1f\x7f]{1,1024}$/;
export const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
export const SNAPSHOT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$/;

/**
 * `hypervisor.uri` as psm accepts it: https only, host and optional port, path `/sdk` or none.
 * No user name, password or query in it: the 2010 `?no_verify=1` is refused, not honoured.
 */
export function parseVsphereUri(uri: string): Result<{ host: string; port: number }, GuestOpsError> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return err(guestOpsError('INVALID_ARGUMENT', 'hypervisor.uri is not a URL'));
  }
  if (url.protocol !== 'https:')
    return err(guestOpsError('INVALID_ARGUMENT', 'hypervisor.uri must be https://'));
  if (url.username !== '' || url.password !== '')
    return err(guestOpsError('INVALID_ARGUMENT', 'hypervisor.uri must not hold a user name or password'));
  if (url.search !== '' || url.hash !== '')
    return err(
      guestOpsError(
        'INVALID_ARGUMENT',
        'hypervisor.uri must not have a query (no_verify is not supported: pin the certificate)',
      ),
    );
  if (url.pathname !== '/' && url.pathname !== '/sdk')
    return err(guestOpsError('INVALID_ARGUMENT', 'hypervisor.uri path must be /sdk'));
  if (!HOST.test(url.hostname))
    return err(guestOpsError('INVALID_ARGUMENT', 'hypervisor.uri host is not valid'));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return ok({ host, port: url.port === '' ? 443 : Number(url.port) });
}

/** A thumbprint as vSphere shows it (colons, any case) in the canonical upper-case form. */
export function canonicalThumbprint(text: string): string | undefined {
  const upper = text.trim().toUpperCase();
  return THUMBPRINT_PATTERN.test(upper) ? upper : undefined;
}

export function tlsPin(caPem: string | undefined, sha256: string | undefined): Result<TlsPin, GuestOpsError> {
  if (caPem !== undefined && sha256 !== undefined)
    return err(guestOpsError('INVALID_ARGUMENT', 'pin the hypervisor with tls_ca or tls_sha256, not both'));
  if (sha256 !== undefined) {
    const thumbprint = canonicalThumbprint(sha256);
    if (thumbprint === undefined)
      return err(guestOpsError('INVALID_ARGUMENT', 'tls_sha256 must be 32 hex bytes separated by colons'));
    return ok({ kind: 'sha256', thumbprint });
  }
  if (caPem !== undefined) {
    if (!caPem.includes('-----BEGIN CERTIFICATE-----'))
      return err(guestOpsError('INVALID_ARGUMENT', 'tls_ca must be a PEM certificate file'));
    return ok({ kind: 'ca', caPem });
  }
  return err(
    guestOpsError(
      'INVALID_ARGUMENT',
      'the hypervisor certificate is not pinned: set tls_ca or tls_sha256 in [hypervisor]',
    ),
  );
}
