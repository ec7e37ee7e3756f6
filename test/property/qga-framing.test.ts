import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonLineSplitter, type FrameEvent } from '../../src/guest-ops/wire/json-lines.js';

function render(events: FrameEvent[]): string[] {
  return events.map((e) => (e.kind === 'line' ? `L:${e.bytes.toString('hex')}` : e.kind));
}

describe('agent framing properties', () => {
  it('the events do not depend on how the stream is cut into chunks', () => {
    const byte = fc.oneof(fc.constantFrom(0x0a, 0xff, 0x20, 0x7b, 0x7d), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(
        fc.array(byte, { maxLength: 400 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 50 }),
        (bytes, cuts) => {
          const wire = Buffer.from(bytes);
          const whole = render(new JsonLineSplitter(64, true).push(wire));
          const chunked = new JsonLineSplitter(64, true);
          const events: FrameEvent[] = [];
          let at = 0;
          for (const cut of cuts) {
            events.push(...chunked.push(wire.subarray(at, at + cut)));
            at += cut;
          }
          events.push(...chunked.push(wire.subarray(at)));
          expect(render(events)).toEqual(whole);
        },
      ),
    );
  });

  it('every emitted line is within the limit and contains neither newline nor 0xFF', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 50 }), (bytes, limit) => {
        for (const event of new JsonLineSplitter(limit, true).push(Buffer.from(bytes))) {
          if (event.kind !== 'line') continue;
          expect(event.bytes.length).toBeLessThanOrEqual(limit);
          expect(event.bytes.includes(0x0a) || event.bytes.includes(0xff)).toBe(false);
        }
      }),
    );
  });
});
