import { err, ok, type Result } from '../../common/result.js';
import { guestOpsError, type GuestOpsError } from '../errors.js';
import type { Deadline } from '../wire/deadline.js';
import {
  el,
  envelope,
  envelopeWithSecret,
  isSendableSecret,
  type MoRef,
  type XmlElement,
} from './envelope.js';
import { faultError, readFault, type FaultContext } from './faults.js';
import { httpsCall, type Endpoint } from './transport.js';
import { child, parseXml, path, textOf, typeOf, MAX_SOAP_REPLY_BYTES, type XmlNode } from './xml.js';

/**
 * A vim25 SOAP session: RetrieveServiceContent, Login with the hypervisor credentials, then
 * calls with the session cookie. The password is asked for only at login, sent from bytes and
 * wiped by its owner; the cookie is held in a Buffer, wiped at logout, and never put in a
 * message (fault strings that quote it are dropped).
 */
export interface Credentials {
  readonly username: string;
  /** The caller's bytes; the client never keeps them past Login. */
  readonly password: Uint8Array;
}

/** Gives the credentials for one login; the client wipes the password afterwards. */
export type CredentialSource = () => Promise<Result<Credentials, GuestOpsError>>;

export interface ServiceContent {
  readonly rootFolder: MoRef;
  readonly propertyCollector: MoRef;
  readonly searchIndex: MoRef;
  readonly sessionManager: MoRef;
  readonly authorizationManager: MoRef | undefined;
  readonly guestOperationsManager: MoRef | undefined;
  readonly apiType: string;
}

const SOAP_ACTION = 'urn:vim25/6.7';
const SERVICE_INSTANCE: MoRef = { type: 'ServiceInstance', value: 'ServiceInstance' };
const COOKIE_NAME = 'vmware_soap_session';
const COOKIE_VALUE = /^[A-Za-z0-9"._=+/-]{1,512}$/;

export function moRefOf(node: XmlNode | undefined): MoRef | undefined {
  const type = typeOf(node);
  if (node === undefined || type === undefined || !/^[A-Za-z]{1,64}$/.test(type)) return undefined;
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(node.text)) return undefined;
  return { type, value: node.text };
}

export class SoapClient {
  private cookie: Buffer | undefined;
  private user = '';
  private serviceContent: ServiceContent | undefined;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly credentials: CredentialSource,
  ) {}

  get content(): ServiceContent | undefined {
    return this.serviceContent;
  }

  get userName(): string {
    return this.user;
  }

  /** Logs in unless a session is open. */
  async connect(deadline: Deadline): Promise<Result<ServiceContent, GuestOpsError>> {
    if (this.serviceContent !== undefined && this.cookie !== undefined) return ok(this.serviceContent);
    const content = await this.send('RetrieveServiceContent', SERVICE_INSTANCE, [], deadline, 'call');
    if (!content.ok) return content;
    const parsed = readServiceContent(child(content.value, 'returnval'));
    if (!parsed.ok) return parsed;
    const creds = await this.credentials();
    if (!creds.ok) return creds;
    const { username, password } = creds.value;
    try {
      if (!isSendableSecret(password))
        return err(
          guestOpsError('HYPERVISOR_AUTH', 'the hypervisor password is empty or has control characters'),
        );
      const body = envelopeWithSecret(
        'Login',
        parsed.value.sessionManager,
        [el('userName', username), el('password', undefined)],
        1,
        password,
      );
      const login = await this.post('Login', body, deadline, 'call', true);
      body.fill(0);
      if (!login.ok) return login;
      this.cookie = login.value.cookie;
      this.user = textOf(child(login.value.node, 'returnval'), 'userName') ?? username;
    } finally {
      password.fill(0);
    }
    if (this.cookie === undefined)
      return err(
        guestOpsError('HYPERVISOR_PROTOCOL', 'the hypervisor accepted the login but set no session cookie'),
      );
    this.serviceContent = parsed.value;
    return ok(parsed.value);
  }

  /** Calls `method`; one new login when the session expired. Returns the <methodResponse> node. */
  async call(
    method: string,
    target: MoRef,
    args: readonly XmlElement[],
    deadline: Deadline,
    context: FaultContext = 'call',
  ): Promise<Result<XmlNode, GuestOpsError>> {
    const connected = await this.connect(deadline);
    if (!connected.ok) return connected;
    const first = await this.send(method, target, args, deadline, context);
    if (first.ok || first.error.code !== 'HYPERVISOR_AUTH') return first;
    this.dropSession();
    const again = await this.connect(deadline);
    if (!again.ok) return again;
    return this.send(method, target, args, deadline, context);
  }

  /**
   * Calls `method` with a body holding a secret (the guest password): `build` makes the bytes,
   * which are wiped after sending. Its faults are never quoted, as at login.
   */
  async callWithSecret(
    method: string,
    build: () => Buffer,
    deadline: Deadline,
  ): Promise<Result<XmlNode, GuestOpsError>> {
    for (let attempt = 0; ; attempt += 1) {
      const connected = await this.connect(deadline);
      if (!connected.ok) return connected;
      const body = build();
      try {
        const sent = await this.post(method, body, deadline, 'call', true);
        if (sent.ok) return ok(sent.value.node);
        // An expired session (NotAuthenticated): one new login, as for call().
        if (attempt > 0 || !sent.error.message.includes('answered NotAuthenticated')) return sent;
        this.dropSession();
      } finally {
        body.fill(0);
      }
    }
  }

  /** The session cookie header value, for the file-transfer URLs of the same host. */
  cookieHeader(): string | undefined {
    return this.cookie === undefined ? undefined : `${COOKIE_NAME}=${this.cookie.toString('latin1')}`;
  }

  async logout(deadline: Deadline): Promise<void> {
    const content = this.serviceContent;
    if (content !== undefined && this.cookie !== undefined)
      await this.send('Logout', content.sessionManager, [], deadline, 'call');
    this.dropSession();
  }

  private dropSession(): void {
    this.cookie?.fill(0);
    this.cookie = undefined;
    this.serviceContent = undefined;
  }

  private send(
    method: string,
    target: MoRef,
    args: readonly XmlElement[],
    deadline: Deadline,
    context: FaultContext,
  ): Promise<Result<XmlNode, GuestOpsError>> {
    return this.post(method, envelope(method, target, args), deadline, context, false).then((r) =>
      r.ok ? ok(r.value.node) : r,
    );
  }

  private async post(
    method: string,
    body: Buffer,
    deadline: Deadline,
    context: FaultContext,
    isLogin: boolean,
  ): Promise<Result<{ node: XmlNode; cookie: Buffer | undefined }, GuestOpsError>> {
    const cookie = this.cookieHeader();
    const reply = await httpsCall(this.endpoint, {
      method: 'POST',
      path: '/sdk',
      headers: {
        'Content-Type': 'text/xml; charset=utf-8',
        SOAPAction: SOAP_ACTION,
        ...(cookie === undefined ? {} : { Cookie: cookie }),
      },
      body,
      maxReplyBytes: MAX_SOAP_REPLY_BYTES,
      deadline,
      what: method,
    });
    if (!reply.ok) return reply;
    const secrets = cookie === undefined ? [] : [cookie.slice(COOKIE_NAME.length + 1)];
    const parsed = parseXml(reply.value.body);
    if (!parsed.ok) return err(guestOpsError('HYPERVISOR_PROTOCOL', `${method}: ${parsed.error}`));
    const soapBody = path(parsed.value, 'Envelope', 'Body');
    const fault = child(soapBody, 'Fault');
    if (fault !== undefined) {
      const read = readFault(fault);
      // A login fault is never quoted: a hostile server could echo the password in it.
      return err(faultError(isLogin ? { type: read.type, text: '' } : read, method, context, secrets));
    }
    const response = child(soapBody, `${method}Response`);
    if (reply.value.status !== 200 || response === undefined)
      return err(
        guestOpsError(
          'HYPERVISOR_PROTOCOL',
          `${method}: HTTP ${reply.value.status} without a ${method}Response`,
        ),
      );
    return ok({
      node: response,
      cookie: isLogin ? sessionCookie(reply.value.headers['set-cookie']) : undefined,
    });
  }
}

function sessionCookie(headers: readonly string[] | undefined): Buffer | undefined {
  for (const header of headers ?? []) {
    const first = header.split(';', 1)[0] ?? '';
    const at = first.indexOf('=');
    if (first.slice(0, at).trim() !== COOKIE_NAME) continue;
    const value = first.slice(at + 1).trim();
    if (COOKIE_VALUE.test(value)) return Buffer.from(value, 'latin1');
  }
  return undefined;
}

function readServiceContent(node: XmlNode | undefined): Result<ServiceContent, GuestOpsError> {
  const ref = (name: string): MoRef | undefined => moRefOf(child(node, name));
  const rootFolder = ref('rootFolder');
  const propertyCollector = ref('propertyCollector');
  const searchIndex = ref('searchIndex');
  const sessionManager = ref('sessionManager');
  if (!rootFolder || !propertyCollector || !searchIndex || !sessionManager)
    return err(
      guestOpsError('HYPERVISOR_PROTOCOL', 'RetrieveServiceContent: the service content is incomplete'),
    );
  return ok({
    rootFolder,
    propertyCollector,
    searchIndex,
    sessionManager,
    authorizationManager: ref('authorizationManager'),
    guestOperationsManager: ref('guestOperationsManager'),
    apiType: textOf(child(node, 'about'), 'apiType') ?? 'unknown',
  });
}
