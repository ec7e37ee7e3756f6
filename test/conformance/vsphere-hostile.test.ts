import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VsphereDriver } from '../../src/guest-ops/vsphere/index.js';
import { SoapClient } from '../../src/guest-ops/vsphere/soap-client.js';
import { startTask } from '../../src/guest-ops/vsphere/tasks.js';
import { Deadline } from '../../src/guest-ops/wire/deadline.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startVcsim, VCSIM_BINARY, type Vcsim } from '../helpers/vcsim.js';

// Bad answers from a hypervisor: a hostile HTTPS server on 127.0.0.1 (its certificate pinned,
// so only the answers are wrong), and the real simulator with a wrong pin or login.
const PASSWORD = 'hostile-pw-5e1c9a';
const COOKIE = 'cookie-3f9d0b7e-secret';
const SERVICE_CONTENT = `<returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector><searchIndex type="SearchIndex">SearchIndex</searchIndex><sessionManager type="SessionManager">SessionManager</sessionManager></returnval>`;

function soap(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
}

type Mode = 'fault' | 'truncated' | 'huge' | 'task' | 'echo-fault';
let mode: Mode = 'fault';
let server: Server;
let thumbprint = '';
let port = 0;
let sim: Vcsim;
let removeCert: () => Promise<void>;
let hostileCertPem = '';

beforeAll(async () => {
  const dir = await makeTempDir('hostile');
  removeCert = dir.remove;
  execFileSync(VCSIM_BINARY, ['-dir', dir.path, '-make-cert'], { timeout: 30_000 });
  const cert = readFileSync(`${dir.path}/cert.pem`);
  hostileCertPem = cert.toString('utf8');
  server = createServer({ key: readFileSync(`${dir.path}/key.pem`), cert }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const method = /<([A-Za-z_]+) xmlns="urn:vim25">/.exec(body)?.[1] ?? '';
      if (method === 'RetrieveServiceContent' && mode !== 'fault')
        return res.end(
          soap(
            `<RetrieveServiceContentResponse xmlns="urn:vim25">${SERVICE_CONTENT}</RetrieveServiceContentResponse>`,
          ),
        );
      if (method === 'Login' && mode !== 'echo-fault') {
        res.setHeader('Set-Cookie', `vmware_soap_session="${COOKIE}"; Path=/; HttpOnly; Secure`);
        return res.end(
          soap(
            `<LoginResponse xmlns="urn:vim25"><returnval><key>k</key><userName>psm</userName></returnval></LoginResponse>`,
          ),
        );
      }
      switch (mode) {
        case 'fault':
          res.statusCode = 500;
          return res.end(
            soap(
              `<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>no such thing</faultstring><detail><NotSupportedFault xsi:type="NotSupported"/></detail></soapenv:Fault>`,
            ),
          );
        case 'echo-fault':
          // A server quoting what it was sent: the password must not come back out in a message.
          res.statusCode = 500;
          return res.end(
            soap(
              `<soapenv:Fault><faultcode>x</faultcode><faultstring>${body.slice(0, 3000)}</faultstring><detail><InvalidLoginFault xsi:type="InvalidLogin"/></detail></soapenv:Fault>`,
            ),
          );
        case 'truncated':
          return res.end(
            soap(`<${method}Response xmlns="urn:vim25"><returnval type="Task">task-1</returnval>`).slice(
              0,
              -40,
            ),
          );
        case 'huge':
          return res.end(
            soap(
              `<${method}Response xmlns="urn:vim25"><returnval>${'x'.repeat(10 * 1024 * 1024)}</returnval></${method}Response>`,
            ),
          );
        case 'task':
          if (method === 'PowerOnVM_Task' || method === 'CancelTask')
            return res.end(
              soap(
                `<${method}Response xmlns="urn:vim25"><returnval type="Task">task-1</returnval></${method}Response>`,
              ),
            );
          if (method === 'RetrievePropertiesEx')
            return res.end(
              soap(
                `<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="Task">task-1</obj><propSet><name>info.state</name><val xsi:type="TaskInfoState">running</val></propSet></objects></returnval></RetrievePropertiesExResponse>`,
              ),
            );
      }
      res.statusCode = 500;
      return res.end('');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  port = (server.address() as AddressInfo).port;
  thumbprint = new (await import('node:crypto')).X509Certificate(cert).fingerprint256;
  sim = await startVcsim();
}, 60_000);

afterAll(async () => {
  await new Promise<void>((done) => server?.close(() => done()));
  await sim?.stop();
  await removeCert?.();
});

function hostileClient(): SoapClient {
  return new SoapClient({ host: '127.0.0.1', port, pin: { kind: 'sha256', thumbprint } }, async () => ({
    ok: true,
    value: { username: 'psm', password: Buffer.from(PASSWORD) },
  }));
}

function expectNoSecret(message: string): void {
  expect(message).not.toContain(PASSWORD);
  expect(message).not.toContain(COOKIE);
}

describe('hostile hypervisor answers give coded errors within their deadlines', () => {
  it('a SOAP fault is HYPERVISOR_FAILED naming the fault type', async () => {
    mode = 'fault';
    const got = await hostileClient().connect(new Deadline(5_000));
    expect(!got.ok && [got.error.code, got.error.message]).toEqual([
      'HYPERVISOR_FAILED',
      'RetrieveServiceContent: the hypervisor answered NotSupported (no such thing)',
    ]);
  });

  it('truncated XML is HYPERVISOR_PROTOCOL', async () => {
    mode = 'truncated';
    const client = hostileClient();
    const got = await startTask(
      client,
      'PowerOnVM_Task',
      { type: 'VirtualMachine', value: 'vm-1' },
      [],
      new Deadline(5_000),
    );
    expect(!got.ok && got.error.code).toBe('HYPERVISOR_PROTOCOL');
    if (!got.ok) expect(got.error.message).toMatch(/not well-formed XML/);
  });

  it('a 10 MB reply is refused as HYPERVISOR_PROTOCOL, not parsed', async () => {
    mode = 'huge';
    const got = await startTask(
      hostileClient(),
      'PowerOnVM_Task',
      { type: 'VirtualMachine', value: 'vm-1' },
      [],
      new Deadline(10_000),
    );
    expect(!got.ok && got.error.code).toBe('HYPERVISOR_PROTOCOL');
    if (!got.ok) expect(got.error.message).toMatch(/larger than 8388608 bytes/);
  });

  it('a task that never finishes is TIMEOUT at the deadline, and ABORTED on the caller’s signal', async () => {
    mode = 'task';
    const timed = await startTask(
      hostileClient(),
      'PowerOnVM_Task',
      { type: 'VirtualMachine', value: 'vm-1' },
      [],
      new Deadline(800),
    );
    expect(!timed.ok && timed.error.code).toBe('TIMEOUT');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const aborted = await startTask(
      hostileClient(),
      'PowerOnVM_Task',
      { type: 'VirtualMachine', value: 'vm-1' },
      [],
      new Deadline(60_000, controller.signal),
    );
    expect(!aborted.ok && aborted.error.code).toBe('ABORTED');
  });

  it('a server that echoes the request into its fault does not get the password or cookie into a message', async () => {
    mode = 'echo-fault';
    const got = await hostileClient().connect(new Deadline(5_000));
    expect(!got.ok && got.error.code).toBe('HYPERVISOR_AUTH');
    if (!got.ok) {
      expectNoSecret(got.error.message);
      expect(got.error.message).toBe('Login: the hypervisor answered InvalidLogin');
    }
  });
});

describe('the real simulator: TLS pin, login and role', () => {
  const template = { kind: 'vsphere', vm: 'DC0/vm/psm-template', snapshot: 'psm-base' } as const;

  it('a wrong SHA-256 pin is HYPERVISOR_TLS before anything is sent', async () => {
    const settings = sim.settings();
    const driver = new VsphereDriver({
      ...settings,
      endpoint: { ...settings.endpoint, pin: { kind: 'sha256', thumbprint } },
    });
    const got = await driver.listWorkers({ timeoutMs: 5_000 });
    expect(!got.ok && got.error.code).toBe('HYPERVISOR_TLS');
  });

  it('a CA that did not sign the certificate is HYPERVISOR_TLS; the right CA works', async () => {
    const settings = sim.settings();
    const withCa = (caPem: string) =>
      new VsphereDriver({ ...settings, endpoint: { ...settings.endpoint, pin: { kind: 'ca', caPem } } });
    const wrong = await withCa(hostileCertPem).listWorkers({ timeoutMs: 5_000 });
    expect(!wrong.ok && wrong.error.code).toBe('HYPERVISOR_TLS');
    expect((await withCa(sim.caPem).listWorkers({ timeoutMs: 5_000 })).ok).toBe(true);
  });

  it('a wrong password is HYPERVISOR_AUTH, and the message holds neither password', async () => {
    const wrong = 'wrong-pw-8c2d';
    const driver = new VsphereDriver(
      sim.settings({
        credentials: async () => ({ ok: true, value: { username: sim.user, password: Buffer.from(wrong) } }),
      }),
    );
    const got = await driver.cloneWorker('hostile-a', template, { timeoutMs: 5_000 });
    expect(!got.ok && got.error.code).toBe('HYPERVISOR_AUTH');
    if (!got.ok) {
      expect(got.error.message).not.toContain(wrong);
      expect(got.error.message).not.toContain(sim.password.toString());
    }
  });

  it('strict_role refuses an admin session, naming privileges beyond psm’s role', async () => {
    const driver = new VsphereDriver(sim.settings({ strictRole: true }));
    const got = await driver.listWorkers({ timeoutMs: 5_000 });
    expect(!got.ok && got.error.code).toBe('ROLE_TOO_BROAD');
    if (!got.ok) expect(got.error.message).toMatch(/privilege\(s\) beyond psm's role \(Alarm\./);
  });
});
