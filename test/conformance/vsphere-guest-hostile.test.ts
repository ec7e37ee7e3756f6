import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GuestOpsError } from '../../src/guest-ops/errors.js';
import { VsphereWorker } from '../../src/guest-ops/vsphere/index.js';
import { transferPath } from '../../src/guest-ops/vsphere/guest-transfer.js';
import { SoapClient } from '../../src/guest-ops/vsphere/soap-client.js';
import type { Endpoint } from '../../src/guest-ops/vsphere/transport.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { VCSIM_BINARY } from '../helpers/vcsim.js';

// Bad answers to guest operations from a hostile HTTPS server on 127.0.0.1 (its certificate
// pinned, so only the answers are wrong): faults that quote the request, transfer URLs that
// point elsewhere, downloads larger than allowed or than announced, a program that never ends,
// Tools that never come up. Each gives a coded error within its deadline, and neither the guest
// password nor the transfer ticket reaches a message.
const PASSWORD = 'hostile-pw-7a2c';
const GUEST_PASSWORD = 'guest-pw-<&>-41d9e3';
const COOKIE = 'cookie-8c1e-secret';
const TICKET = 'ticket-52aa90f1';

type Mode = 'echo-fault' | 'elsewhere' | 'http' | 'oversized' | 'longer' | 'never-exits' | 'tools-down';
let mode: Mode = 'echo-fault';
let server: Server;
let endpoint: Endpoint;
let removeCert: () => Promise<void>;
/** What the hostile server saw: SOAP method names and other requests. */
let seen: string[] = [];

function soap(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

const SERVICE_CONTENT = `<returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector><searchIndex type="SearchIndex">SearchIndex</searchIndex><sessionManager type="SessionManager">SessionManager</sessionManager><guestOperationsManager type="GuestOperationsManager">guestOperationsManager</guestOperationsManager></returnval>`;
const MANAGERS = `<returnval><objects><obj type="GuestOperationsManager">guestOperationsManager</obj><propSet><name>fileManager</name><val type="GuestFileManager">fm</val></propSet><propSet><name>processManager</name><val type="GuestProcessManager">pm</val></propSet></objects></returnval>`;

function reply(method: string, inner: string): string {
  return soap(`<${method}Response xmlns="urn:vim25">${inner}</${method}Response>`);
}

function fault(type: string, text: string): string {
  return soap(
    `<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>${text}</faultstring><detail><${type}Fault xsi:type="${type}"/></detail></soapenv:Fault>`,
  );
}

function transferUrl(): string {
  if (mode === 'elsewhere') return `https://evil.example:${endpoint.port}/guestFile?id=1&amp;token=${TICKET}`;
  if (mode === 'http') return `http://*/guestFile?id=1&amp;token=${TICKET}`;
  return `https://*/guestFile?id=1&amp;token=${TICKET}`;
}

function answer(method: string, body: string): { status: number; text: string } {
  if (method === 'RetrieveServiceContent') return { status: 200, text: reply(method, SERVICE_CONTENT) };
  if (method === 'Login')
    return {
      status: 200,
      text: reply(method, '<returnval><key>k</key><userName>psm</userName></returnval>'),
    };
  if (method === 'RetrievePropertiesEx') return { status: 200, text: reply(method, MANAGERS) };
  if (method === 'Logout') return { status: 200, text: reply(method, '') };
  if (mode === 'tools-down') return { status: 500, text: fault('GuestOperationsUnavailable', '') };
  if (mode === 'echo-fault')
    // A server quoting what it was sent: the guest password must not come back out.
    return { status: 500, text: fault('InvalidGuestLogin', body.replace(/</g, '&lt;').slice(0, 4000)) };
  switch (method) {
    case 'InitiateFileTransferToGuest':
      return { status: 200, text: reply(method, `<returnval>${transferUrl()}</returnval>`) };
    case 'InitiateFileTransferFromGuest': {
      const size = mode === 'oversized' ? 100 * 1024 * 1024 : 10;
      return {
        status: 200,
        text: reply(
          method,
          `<returnval><attributes xsi:type="GuestPosixFileAttributes"><ownerId>0</ownerId><groupId>0</groupId><permissions>384</permissions></attributes><size>${size}</size><url>${transferUrl()}</url></returnval>`,
        ),
      };
    }
    case 'CreateTemporaryDirectoryInGuest':
      return { status: 200, text: reply(method, '<returnval>/tmp/.psm-copy-a1b2c3</returnval>') };
    case 'StartProgramInGuest':
      return { status: 200, text: reply(method, '<returnval>4242</returnval>') };
    case 'ListProcessesInGuest':
      return {
        status: 200,
        text: reply(
          method,
          '<returnval><name>/bin/sh</name><pid>4242</pid><owner>root</owner><cmdLine>x</cmdLine><startTime>2026-12-03T00:00:00Z</startTime></returnval>',
        ),
      };
    case 'TerminateProcessInGuest':
    case 'DeleteFileInGuest':
    case 'DeleteDirectoryInGuest':
      return { status: 200, text: reply(method, '') };
  }
  return { status: 500, text: fault('NotSupported', '') };
}

beforeAll(async () => {
  const dir = await makeTempDir('guest-hostile');
  removeCert = dir.remove;
  execFileSync(VCSIM_BINARY, ['-dir', dir.path, '-make-cert'], { timeout: 30_000 });
  const cert = readFileSync(`${dir.path}/cert.pem`);
  server = createServer({ key: readFileSync(`${dir.path}/key.pem`), cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/guestFile')) {
        seen.push(`${req.method} /guestFile`);
        res.end(req.method === 'GET' ? Buffer.alloc(mode === 'longer' ? 10 * 1024 * 1024 : 10, 0x41) : '');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const method = /<([A-Za-z_]+) xmlns="urn:vim25">/.exec(body)?.[1] ?? '';
      seen.push(method);
      if (method === 'Login') res.setHeader('Set-Cookie', `vmware_soap_session="${COOKIE}"; Path=/; Secure`);
      const { status, text } = answer(method, body);
      res.statusCode = status;
      res.end(text);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { X509Certificate } = await import('node:crypto');
  endpoint = {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    pin: { kind: 'sha256', thumbprint: new X509Certificate(cert).fingerprint256 },
  };
}, 60_000);

afterAll(async () => {
  await new Promise<void>((done) => server?.close(() => done()));
  await removeCert?.();
});

beforeEach(() => {
  seen = [];
});

function worker(): VsphereWorker {
  const client = new SoapClient(endpoint, async () => ({
    ok: true,
    value: { username: 'psm', password: Buffer.from(PASSWORD) },
  }));
  return new VsphereWorker(
    'hostile',
    client,
    { type: 'VirtualMachine', value: 'vm-1' },
    endpoint,
    async () => ({
      ok: true,
      value: { username: 'root', password: Buffer.from(GUEST_PASSWORD) },
    }),
  );
}

function expectClean(error: GuestOpsError): void {
  for (const secret of [PASSWORD, GUEST_PASSWORD, 'guest-pw-', COOKIE, TICKET])
    expect(error.message).not.toContain(secret);
}

describe('vSphere guest operations against hostile answers', () => {
  it('a fault quoting the request (with the guest password) is reported by type only', async () => {
    mode = 'echo-fault';
    const ran = await worker().runProgram('/bin/true', [], { timeoutMs: 10_000 });
    expect(!ran.ok && ran.error.code).toBe('AGENT_ERROR');
    if (!ran.ok) {
      expect(ran.error.message).toContain('InvalidGuestLogin');
      expectClean(ran.error);
    }
  });

  it('refuses a transfer URL naming another host, or plain http, and sends nothing there', async () => {
    for (const bad of ['elsewhere', 'http'] as const) {
      mode = bad;
      seen = [];
      const put = await worker().copyToGuest(Buffer.from('secret bytes'), '/tmp/x', { timeoutMs: 10_000 });
      expect(!put.ok && put.error.code).toBe('HYPERVISOR_PROTOCOL');
      const got = await worker().copyFromGuest('/tmp/x', { timeoutMs: 10_000 });
      expect(!got.ok && got.error.code).toBe('HYPERVISOR_PROTOCOL');
      if (!put.ok) expectClean(put.error);
      if (!got.ok) expectClean(got.error);
      expect(seen.filter((s) => s.includes('/guestFile'))).toEqual([]);
    }
  });

  it('refuses a download announced above the limit without fetching it, and one longer than announced', async () => {
    mode = 'oversized';
    const big = await worker().copyFromGuest('/tmp/x', { timeoutMs: 10_000 });
    expect(!big.ok && big.error.code).toBe('TOO_LARGE');
    expect(seen).not.toContain('GET /guestFile');
    mode = 'longer';
    const longer = await worker().copyFromGuest('/tmp/x', { timeoutMs: 10_000 });
    expect(!longer.ok && longer.error.code).toBe('HYPERVISOR_PROTOCOL');
  });

  it('kills a program that never reports its exit at the deadline', async () => {
    mode = 'never-exits';
    const ran = await worker().runProgram('/bin/sleep', ['1000'], { timeoutMs: 1_500 });
    expect(!ran.ok && ran.error.code).toBe('GUEST_PROGRAM_TIMEOUT');
    expect(seen).toContain('TerminateProcessInGuest');
  });

  it('waits for VMware Tools only until the deadline', async () => {
    mode = 'tools-down';
    const ran = await worker().copyFromGuest('/tmp/x', { timeoutMs: 1_500 });
    expect(!ran.ok && ran.error.code).toBe('AGENT_TIMEOUT');
  });

  it('takes only the path from a transfer URL, for the pinned host or ESXi’s "*"', () => {
    const at = { host: '127.0.0.1', port: 8443, pin: endpoint.pin };
    expect(transferPath('https://*:443/guestFile?id=1&token=t', at)).toEqual({
      ok: true,
      value: '/guestFile?id=1&token=t',
    });
    expect(transferPath('https://127.0.0.1:8443/guestFile?id=2', at).ok).toBe(true);
    for (const bad of [
      'https://127.0.0.1:9443/guestFile?id=2',
      'https://127.0.0.2:8443/guestFile?id=2',
      'https://user:pw@127.0.0.1:8443/guestFile',
      'https://127.0.0.1:8443/sdk',
      'ftp://*/guestFile',
      '',
    ])
      expect(transferPath(bad, at).ok).toBe(false);
  });
});
