import { readRegularFile } from '../common/bounded-read.js';
import { err, ok, type Result } from '../common/result.js';
import {
  loadVsphereSettingsChecks,
  type TemplateSource,
  type VsphereSettings,
} from '../guest-ops/driver-factory.js';
import { guestOpsError, type GuestOpsError } from '../guest-ops/errors.js';
import type { VirtualConf } from '../vault/schema-types.js';

/** A CA bundle larger than this is not a pin. */
const MAX_CA_BYTES = 64 * 1024;

export interface VsphereSetup {
  readonly settings: VsphereSettings;
  readonly template: TemplateSource;
  /** Wipes psm's copy of the password. */
  dispose(): void;
}

/**
 * The vSphere driver's settings from virtual.conf [hypervisor] and [worker], with the unsealed
 * hypervisor password (and the guest password, when sealed, for guest operations). psm keeps one copy (wiped by dispose) and hands the driver a fresh copy at
 * each login, which the driver wipes once it has sent it.
 */
export async function vsphereSetup(
  conf: VirtualConf,
  password: Uint8Array,
  guestPassword?: Uint8Array,
): Promise<Result<VsphereSetup, GuestOpsError>> {
  const bad = (message: string): Result<never, GuestOpsError> =>
    err(guestOpsError('INVALID_ARGUMENT', `${conf.file}: ${message}`));
  const { hypervisor, worker } = conf;
  if (hypervisor.kind !== 'vsphere') return bad('hypervisor.kind is not "vsphere"');
  if (hypervisor.uri === undefined || hypervisor.username === undefined)
    return bad('hypervisor.uri and hypervisor.username are required for vSphere');
  if (hypervisor.folder === undefined)
    return bad("hypervisor.folder (the workers' VM folder) is required for vSphere");
  if (worker.templateSnapshot === undefined) return bad('worker.template_snapshot is required for vSphere');
  const { parseVsphereUri, tlsPin } = await loadVsphereSettingsChecks();
  const address = parseVsphereUri(hypervisor.uri);
  if (!address.ok) return address;
  let caPem: string | undefined;
  if (hypervisor.tlsCa !== undefined) {
    const read = await readRegularFile(hypervisor.tlsCa, MAX_CA_BYTES);
    if (!read.ok)
      return err(guestOpsError('HOST_IO', `hypervisor.tls_ca: ${read.error.message}`, hypervisor.tlsCa));
    caPem = Buffer.from(read.value).toString('utf8');
  }
  const pin = tlsPin(caPem, hypervisor.tlsSha256);
  if (!pin.ok) return pin;
  const held = new Uint8Array(password);
  const username = hypervisor.username;
  // The guest login for guest operations (worker.guest_user + the sealed worker.guest_password).
  const guestHeld = guestPassword === undefined ? undefined : new Uint8Array(guestPassword);
  const guestUser = worker.guestUser;
  return ok({
    settings: {
      kind: 'vsphere',
      endpoint: { ...address.value, pin: pin.value },
      credentials: () => Promise.resolve(ok({ username, password: new Uint8Array(held) })),
      folder: hypervisor.folder,
      ...(hypervisor.resourcePool === undefined ? {} : { resourcePool: hypervisor.resourcePool }),
      strictRole: hypervisor.strictRole,
      ...(guestHeld === undefined
        ? {}
        : {
            guestCredentials: () =>
              Promise.resolve(ok({ username: guestUser, password: new Uint8Array(guestHeld) })),
          }),
    },
    template: { kind: 'vsphere-snapshot', vm: worker.template, snapshot: worker.templateSnapshot },
    dispose: () => {
      held.fill(0);
      guestHeld?.fill(0);
    },
  });
}
