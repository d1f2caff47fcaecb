import { defineConfig } from 'vitest/config';

// Integration tests start their own etcd on free loopback ports, so files can
// run side by side; two workers match the 2-core machines we run on.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CI asks for a JSON report too (VITEST_JSON=path) to print a plain "N passed, N failed" line.
    reporters: process.env.VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.VITEST_JSON ? { outputFile: { json: process.env.VITEST_JSON } } : {}),
  },
});
