import { describe, expect, it } from 'vitest';
import { Interrupt } from '../../src/cli/interrupt.js';

// process.emit calls the listeners as a real signal would, without signalling the test runner.
describe("main's interrupt signal", () => {
  it('installs its handlers only when a command asks, and lets a second Ctrl-C through', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const interrupt = new Interrupt();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
    const { signal } = interrupt;
    expect(interrupt.signal).toBe(signal);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(
      before.map((n) => n + 1),
    );
    process.emit('SIGINT');
    expect(signal.aborted).toBe(true);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
    interrupt.dispose();
  });

  it('aborts on SIGTERM too, and dispose removes unused handlers', () => {
    const before = process.listenerCount('SIGTERM');
    const first = new Interrupt();
    const { signal } = first;
    process.emit('SIGTERM');
    expect(signal.aborted).toBe(true);
    const second = new Interrupt();
    void second.signal;
    second.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
