import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn real processes (sshd, PTYs, UDP peers); give them room on a 2-core box.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
