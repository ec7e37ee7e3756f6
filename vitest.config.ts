import { defineConfig } from 'vitest/config';

// One config for every suite. Suites that start real sshd or QEMU processes set their own,
// longer timeouts per test; the defaults here are for pure logic.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
