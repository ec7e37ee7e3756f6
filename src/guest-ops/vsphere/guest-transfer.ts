import { err, ok, type Result } from '../../common/result.js';
import { fail, guestOpsError, type GuestOpsError } from '../errors.js';
import type { Deadline } from '../wire/deadline.js';
import { httpsCall, type Endpoint } from './transport.js';

/**
 * The HTTPS leg of a guest file transfer: the URL InitiateFileTransferToGuest/FromGuest answers
 * is fetched over the same pinned TLS as the SOAP calls, and only when it points at the pinned
 * host. ESXi answers `https://*:443/guestFile?id=...&token=...` ("*" meaning the host the
 * client called); a URL naming another host or port, another scheme, or a user is refused
 * rather than followed with a certificate psm never pinned. The URL carries a one-time ticket:
 * it never appears in a message. No session cookie is sent: the ticket is the credential.
 */

const MAX_URL_CHARS = 8192;
/** What a PUT may answer (ESXi answers an empty 200). */
const MAX_PUT_REPLY_BYTES = 64 * 1024;

/** The request path (path and query) of a transfer URL that targets the pinned host. */
export function transferPath(url: string, endpoint: Endpoint): Result<string, GuestOpsError> {
  if (url.length === 0 || url.length > MAX_URL_CHARS)
    return fail('HYPERVISOR_PROTOCOL', 'the file-transfer URL is empty or too long');
  // ESXi's wildcard host is not a valid URL host: put the pinned one in its place first.
  const wildcard = /^https:\/\/\*(:\d{1,5})?\//i.exec(url);
  let parsed: URL;
  try {
    parsed = new URL(
      wildcard === null ? url : `https://pinned.invalid${wildcard[1] ?? ''}/${url.slice(wildcard[0].length)}`,
    );
  } catch {
    return fail('HYPERVISOR_PROTOCOL', 'the file-transfer URL is not a URL');
  }
  if (parsed.protocol !== 'https:')
    return fail('HYPERVISOR_PROTOCOL', 'the file-transfer URL is not https: refused');
  if (parsed.username !== '' || parsed.password !== '')
    return fail('HYPERVISOR_PROTOCOL', 'the file-transfer URL carries a user: refused');
  const port = parsed.port === '' ? 443 : Number(parsed.port);
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  // "*" (with or without ESXi's :443) is the host psm called, which is where the request goes:
  // psm always connects to the pinned endpoint and takes only the path from the URL.
  if (wildcard === null && (host !== endpoint.host.toLowerCase() || port !== endpoint.port))
    return fail(
      'HYPERVISOR_PROTOCOL',
      'the file-transfer URL points at another host or port than the pinned hypervisor: refused',
    );
  if (!parsed.pathname.startsWith('/guestFile'))
    return fail('HYPERVISOR_PROTOCOL', 'the file-transfer URL is not a /guestFile URL: refused');
  return ok(`${parsed.pathname}${parsed.search}`);
}

export async function putGuestFile(
  endpoint: Endpoint,
  url: string,
  data: Uint8Array,
  deadline: Deadline,
): Promise<Result<void, GuestOpsError>> {
  const path = transferPath(url, endpoint);
  if (!path.ok) return path;
  const reply = await httpsCall(endpoint, {
    method: 'PUT',
    path: path.value,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) },
    body: data,
    maxReplyBytes: MAX_PUT_REPLY_BYTES,
    deadline,
    what: 'the file upload to the guest',
  });
  if (!reply.ok) return reply;
  if (reply.value.status !== 200)
    return fail('AGENT_ERROR', `the file upload to the guest failed (HTTP ${reply.value.status})`);
  return ok(undefined);
}

/** GETs exactly `size` bytes (what FileTransferInformation announced); more or fewer is refused. */
export async function getGuestFile(
  endpoint: Endpoint,
  url: string,
  size: number,
  deadline: Deadline,
): Promise<Result<Buffer, GuestOpsError>> {
  const path = transferPath(url, endpoint);
  if (!path.ok) return path;
  const reply = await httpsCall(endpoint, {
    method: 'GET',
    path: path.value,
    headers: {},
    maxReplyBytes: size,
    deadline,
    what: 'the file download from the guest',
  });
  if (!reply.ok) return reply;
  if (reply.value.status !== 200)
    return fail('AGENT_ERROR', `the file download from the guest failed (HTTP ${reply.value.status})`);
  if (reply.value.body.length !== size)
    return err(
      guestOpsError(
        'HYPERVISOR_PROTOCOL',
        `the file download from the guest gave ${reply.value.body.length} bytes, not the ${size} announced`,
      ),
    );
  return ok(reply.value.body);
}
