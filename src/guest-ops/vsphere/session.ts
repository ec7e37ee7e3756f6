import { ok, type Result } from '../../common/result.js';
import type { GuestOpsError } from '../errors.js';
import { Deadline } from '../wire/deadline.js';
import { checkRole } from './role.js';
import type { VsphereDriverSettings } from './settings.js';
import { SoapClient } from './soap-client.js';

/** Logging out is a courtesy to vCenter's session limit; it never holds up the caller long. */
const LOGOUT_MS = 5_000;

/** A logged-in client; with strict_role, one whose privileges were checked against psm's role. */
export async function openSession(
  settings: VsphereDriverSettings,
  deadline: Deadline,
): Promise<Result<SoapClient, GuestOpsError>> {
  const client = new SoapClient(settings.endpoint, settings.credentials);
  const connected = await client.connect(deadline);
  if (!connected.ok) return connected;
  if (settings.strictRole) {
    const role = await checkRole(client, connected.value.rootFolder, deadline);
    if (!role.ok) {
      await closeSession(client);
      return role;
    }
  }
  return ok(client);
}

export async function closeSession(client: SoapClient): Promise<void> {
  await client.logout(new Deadline(LOGOUT_MS));
}

/** Runs `work` in a session of its own, logged out afterwards whatever happened. */
export async function withSession<T>(
  settings: VsphereDriverSettings,
  deadline: Deadline,
  work: (client: SoapClient) => Promise<Result<T, GuestOpsError>>,
): Promise<Result<T, GuestOpsError>> {
  const opened = await openSession(settings, deadline);
  if (!opened.ok) return opened;
  try {
    return await work(opened.value);
  } finally {
    await closeSession(opened.value);
  }
}
