import { describe, expect, it } from 'vitest';
import { JsonLineSplitter, type FrameEvent } from '../../src/guest-ops/wire/json-lines.js';

function texts(events: FrameEvent[]): string[] {
  return events.map((e) => (e.kind === 'line' ? e.bytes.toString('latin1') : `<${e.kind}>`));
}

describe('JSON line framing of the agent channel', () => {
  it('splits lines and skips blank ones', () => {
    const splitter = new JsonLineSplitter(1024, true);
    expect(texts(splitter.push(Buffer.from('{"a":1}\n\n  \r\n{"b":2}\n{"c"')))).toEqual([
      '{"a":1}',
      '{"b":2}',
    ]);
    expect(splitter.pendingBytes).toBe(4);
    expect(texts(splitter.push(Buffer.from(':3}\n')))).toEqual(['{"c":3}']);
  });

  it('treats 0xFF as a resynchronisation point that drops the partial line before it', () => {
    const splitter = new JsonLineSplitter(1024, true);
    const wire = Buffer.concat([
      Buffer.from('{"error": {"class": "GenericError", "desc": "JSON parse error"}}\n{"stale'),
      Buffer.from([0xff]),
      Buffer.from('{"return": 12345}\n'),
    ]);
    expect(texts(splitter.push(wire))).toEqual([
      '{"error": {"class": "GenericError", "desc": "JSON parse error"}}',
      '<delimiter>',
      '{"return": 12345}',
    ]);
  });

  it('passes 0xFF through as data when the channel has no delimiter (QMP)', () => {
    const splitter = new JsonLineSplitter(1024, false);
    const events = splitter.push(Buffer.from([0x61, 0xff, 0x62, 0x0a]));
    expect(events).toHaveLength(1);
    expect(events[0]?.kind === 'line' && [...events[0].bytes]).toEqual([0x61, 0xff, 0x62]);
  });

  it('reports an over-long line once and drops it up to the next newline', () => {
    const splitter = new JsonLineSplitter(8, true);
    expect(texts(splitter.push(Buffer.from('0123456')))).toEqual([]);
    expect(texts(splitter.push(Buffer.from('789abc')))).toEqual(['<oversize>']);
    expect(texts(splitter.push(Buffer.from('more junk\n{"ok":1}\n')))).toEqual(['{"ok":1}']);
    expect(splitter.pendingBytes).toBe(0);
  });

  it('ends an over-long line at a delimiter too', () => {
    const splitter = new JsonLineSplitter(4, true);
    expect(
      texts(
        splitter.push(Buffer.concat([Buffer.from('xxxxxxxx'), Buffer.from([0xff]), Buffer.from('{}\n')])),
      ),
    ).toEqual(['<oversize>', '<delimiter>', '{}']);
  });

  it('refuses a non-positive limit (a bug, so it throws)', () => {
    expect(() => new JsonLineSplitter(0, true)).toThrow();
  });
});
