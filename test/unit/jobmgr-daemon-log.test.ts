import { describe, expect, it } from 'vitest';
import { createDaemonLogger } from '../../src/jobmgr/daemon/log.js';

describe("the daemon's JSON log (pino through psm's redaction)", () => {
  it('writes one JSON object per line and never key material or secrets', () => {
    const lines: string[] = [];
    const log = createDaemonLogger({
      level: 'debug',
      destination: { write: (text: string) => lines.push(text) },
    });
    log.info('granted with password=hunter2', {
      worker: 'w-1',
      password: 'hunter1',
      privateKey:
        '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----',
      note: 'value psm-sealed:v1:QUJDREVGRw==',
      blob: new Uint8Array([1, 2, 3]),
      nested: { secret: 'sekrit', fingerprint: 'SHA256:abc' },
    });
    log.child({ app: 'A', token: 'tok-123' }).warn('child line');
    expect(lines).toHaveLength(2);
    const text = lines.join('');
    for (const secret of ['hunter2', 'hunter1', 'b3BlbnNzaC1rZXktdjEAAAA', 'QUJDREVGRw', 'sekrit', 'tok-123'])
      expect(text).not.toContain(secret);
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(first).toMatchObject({
      level: 'info',
      service: 'psm-daemon',
      worker: 'w-1',
      blob: '[3 bytes]',
      nested: { fingerprint: 'SHA256:abc' },
    });
    expect(first.message).toBe('granted with password=[redacted]');
    expect(JSON.parse(lines[1] as string)).toMatchObject({ level: 'warn', app: 'A', message: 'child line' });
  });
});
