import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED } from '../../src/common/logger.js';

function capture(format: 'json' | 'text' = 'json') {
  const lines: string[] = [];
  const logger = createLogger({
    sink: { write: (text: string) => lines.push(text) },
    level: 'debug',
    format,
  });
  return { logger, lines };
}

describe('redacting logger', () => {
  it('redacts secret-named fields, bytes, and secrets inside strings', () => {
    const { logger, lines } = capture();
    logger.info('connecting to https://root:hunter2@esx.example.org/sdk with password=hunter3', {
      password: 'hunter4',
      guestPassword: 'hunter5',
      passphrase: 'hunter6',
      key: 'hunter7',
      token: 'hunter8',
      master: new Uint8Array([1, 2, 3]),
      nested: { apiSecret: 'hunter9', sealed: 'psm-sealed:v1:0123456789abcdef:AAAA:BBBB' },
      pem: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----',
      keyId: '0123456789abcdef',
      fingerprint: 'SHA256:abc',
      user: 'root',
    });
    const line = lines.join('');
    for (let i = 2; i <= 9; i += 1) expect(line).not.toContain(`hunter${i}`);
    expect(line).not.toContain('AAAA:BBBB');
    expect(line).not.toContain('b3BlbnNzaA');
    expect(line).toContain(REDACTED);
    expect(line).toContain('[3 bytes]');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      level: 'info',
      keyId: '0123456789abcdef',
      fingerprint: 'SHA256:abc',
      user: 'root',
    });
  });

  it('filters by level, adds child fields, and survives cycles', () => {
    const lines: string[] = [];
    const logger = createLogger({
      sink: { write: (t: string) => lines.push(t) },
      level: 'warn',
      format: 'text',
    });
    logger.info('hidden');
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    logger.child({ vm: 'popc-worker-1' }).warn('slow', { cyclic });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warn slow vm="popc-worker-1" cyclic=/);
    expect(lines[0]).toContain('nested too deep');
  });

  it('redacts an Error message that carries a secret', () => {
    const { logger, lines } = capture('text');
    logger.error('failed', { cause: new Error('login failed for passphrase: letmein') });
    expect(lines.join('')).not.toContain('letmein');
  });
});
