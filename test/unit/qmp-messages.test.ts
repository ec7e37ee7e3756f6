import { describe, expect, it } from 'vitest';
import { decodeQueryKvm, decodeQueryStatus, parseQmpMessage } from '../../src/guest-ops/qmp/messages.js';
import { isValidSnapshotName } from '../../src/guest-ops/qmp/snapshots.js';

const parse = (text: string) => parseQmpMessage(Buffer.from(text));

describe('QMP messages', () => {
  it('parses the greeting, replies and events QEMU 7.2 sends', () => {
    expect(
      parse(
        '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}',
      ),
    ).toEqual({ ok: true, value: { kind: 'greeting', version: '7.2.22' } });
    expect(parse('{"return": {}, "id": 3}')).toEqual({
      ok: true,
      value: { kind: 'return', id: 3, value: {} },
    });
    expect(
      parse('{"id": 4, "error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}'),
    ).toEqual({
      ok: true,
      value: {
        kind: 'error',
        id: 4,
        errorClass: 'CommandNotFound',
        desc: 'The command x has not been found',
      },
    });
    expect(
      parse(
        '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}',
      ),
    ).toEqual({
      ok: true,
      value: { kind: 'event', event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' } },
    });
  });

  it('refuses what is not QMP', () => {
    for (const bad of [
      '[]',
      '{}',
      '{"return": 1, "x": 2}',
      '{"event": "bad name"}',
      '{"error": {"class": 1}}',
      '{"QMP": {}}',
      'nope',
    ])
      expect(parse(bad).ok).toBe(false);
    expect(parseQmpMessage(Buffer.from([0x7b, 0xff, 0x7d])).ok).toBe(false);
  });

  it('decodes query-status and query-kvm', () => {
    expect(decodeQueryStatus({ running: true, singlestep: false, status: 'running' })).toEqual({
      ok: true,
      value: { running: true, status: 'running' },
    });
    expect(decodeQueryStatus({ running: 'yes', status: 'running' }).ok).toBe(false);
    expect(decodeQueryStatus({ running: false, status: 'Paused!' }).ok).toBe(false);
    expect(decodeQueryKvm({ enabled: false, present: true })).toEqual({ ok: true, value: false });
    expect(decodeQueryKvm({}).ok).toBe(false);
  });

  it('allows only [A-Za-z0-9_-] snapshot names (they go into an HMP command line)', () => {
    for (const good of ['clean', 'Clean_2', 'a-b', 'x'.repeat(64)])
      expect(isValidSnapshotName(good)).toBe(true);
    for (const bad of ['', 'a b', 'a;b', 'a\nquit', 'é', 'x'.repeat(65), 'a,b', '"a"'])
      expect(isValidSnapshotName(bad)).toBe(false);
  });
});
