import { err, ok, type Result } from '../../common/result.js';
import { fail, guestOpsError, type GuestOpsError } from '../errors.js';
import type { Deadline } from '../wire/deadline.js';
import {
  CLOSE,
  el,
  escapeSecret,
  isSendableSecret,
  OPEN,
  renderElement,
  type MoRef,
  type XmlElement,
} from './envelope.js';
import { retrieve } from './properties.js';
import type { CredentialSource, SoapClient } from './soap-client.js';
import { moRefOf } from './soap-client.js';
import type { XmlNode } from './xml.js';

/**
 * Calls on the GuestOperationsManager's FileManager and ProcessManager, each carrying the guest
 * login (NamePasswordAuthentication). The guest password is asked for once per worker
 * operation, escaped byte by byte into each request body (never a JavaScript string), and wiped
 * with the bodies when the operation ends. Guest faults are never quoted: a hostile or broken
 * server could echo the password in one.
 *
 * While VMware Tools do not run (GuestOperationsUnavailable) the call is retried until the
 * operation's deadline, which then reports AGENT_TIMEOUT, as waiting for the agent does.
 */

const RETRY_MS = 250;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const GUEST_USER = /^[^\0-\x1f\x7f]{1,256}$/;

export interface GuestManagers {
  readonly fileManager: MoRef;
  readonly processManager: MoRef;
}

export async function guestManagers(
  client: SoapClient,
  deadline: Deadline,
): Promise<Result<GuestManagers, GuestOpsError>> {
  const connected = await client.connect(deadline);
  if (!connected.ok) return connected;
  const manager = connected.value.guestOperationsManager;
  if (manager === undefined) return fail('AGENT_UNAVAILABLE', 'the hypervisor has no GuestOperationsManager');
  const props = await retrieve(client, manager, ['fileManager', 'processManager'], deadline);
  if (!props.ok) return props;
  const fileManager = moRefOf(props.value.get('fileManager'));
  const processManager = moRefOf(props.value.get('processManager'));
  if (fileManager === undefined || processManager === undefined)
    return fail('HYPERVISOR_PROTOCOL', 'the GuestOperationsManager has no file or process manager');
  return ok({ fileManager, processManager });
}

/** One worker operation's guest calls: the login is fetched once and wiped by `close`. */
export class GuestCaller {
  private constructor(
    private readonly client: SoapClient,
    private readonly managers: GuestManagers,
    private readonly vm: MoRef,
    private readonly username: string,
    private readonly password: Uint8Array,
  ) {}

  static async open(
    client: SoapClient,
    vm: MoRef,
    credentials: CredentialSource | undefined,
    deadline: Deadline,
  ): Promise<Result<GuestCaller, GuestOpsError>> {
    if (credentials === undefined)
      return fail(
        'AGENT_UNAVAILABLE',
        'no guest login is configured for guest operations (worker.guest_user, worker.guest_password)',
      );
    const managers = await guestManagers(client, deadline);
    if (!managers.ok) return managers;
    const creds = await credentials();
    if (!creds.ok) return creds;
    const { username, password } = creds.value;
    if (!isSendableSecret(password) || !GUEST_USER.test(username)) {
      password.fill(0);
      return fail('INVALID_ARGUMENT', 'the guest user or password is empty or has control characters');
    }
    return ok(new GuestCaller(client, managers.value, vm, username, password));
  }

  close(): void {
    this.password.fill(0);
  }

  /** `method` on the file or process manager with (vm, auth, ...args). */
  async call(
    manager: keyof GuestManagers,
    method: string,
    args: readonly XmlElement[],
    deadline: Deadline,
  ): Promise<Result<XmlNode, GuestOpsError>> {
    const target = this.managers[manager];
    const toolsTimeout = (): Result<never, GuestOpsError> =>
      err(deadline.error('AGENT_TIMEOUT', `${method} (VMware Tools are not answering)`));
    let toolsDown = false;
    for (;;) {
      const reply = await this.client.callWithSecret(method, () => this.body(method, target, args), deadline);
      // The deadline cut a retry short: still the agent's timeout, not the hypervisor's.
      if (!reply.ok && toolsDown && reply.error.code === 'TIMEOUT') return toolsTimeout();
      if (reply.ok || !isToolsDown(reply.error)) return reply;
      toolsDown = true;
      if (!(await deadline.sleep(RETRY_MS))) return toolsTimeout();
    }
  }

  private body(method: string, target: MoRef, args: readonly XmlElement[]): Buffer {
    const head = Buffer.from(
      `${OPEN}<${method} xmlns="urn:vim25">${renderElement(el('_this', target))}${renderElement(el('vm', this.vm))}` +
        `<auth xsi:type="NamePasswordAuthentication"><interactiveSession>false</interactiveSession>` +
        `${renderElement(el('username', this.username))}<password>`,
      'utf8',
    );
    const tail = Buffer.from(
      `</password></auth>${args.map(renderElement).join('')}</${method}>${CLOSE}`,
      'utf8',
    );
    const secret = escapeSecret(this.password);
    const out = Buffer.concat([head, secret, tail]);
    secret.fill(0);
    return out;
  }
}

/** GuestOperationsUnavailable: Tools are not (yet, or no longer) running in the guest. */
function isToolsDown(error: GuestOpsError): boolean {
  return error.code === 'AGENT_UNAVAILABLE' && error.message.includes('answered GuestOperationsUnavailable');
}

/** The reply's <returnval>, or a protocol error naming the method. */
export function returnval(node: XmlNode, method: string): Result<XmlNode, GuestOpsError> {
  const value = node.children.get('returnval')?.[0];
  return value === undefined
    ? err(guestOpsError('HYPERVISOR_PROTOCOL', `${method}: the answer has no returnval`))
    : ok(value);
}
