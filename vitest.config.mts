import { defineConfig } from 'vitest/config';

// Which tests run (LOCKED_SUITE):
//   main         unit + integration (real etcd) + the chaos proxy's own tests — the bulk of `npm test`
//   chaos-short  the seeded 40-fault chaos mix (every kind once, then drawn), run alone after `main` so that its timing bounds
//                are judged on a machine not also running the rest of the suite
//   chaos-all    every chaos scenario (`npm run test:chaos`, ~10+ minutes)
const SUITES: Record<string, string[]> = {
  main: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/chaos/proxy.test.ts'],
  'chaos-short': ['test/chaos/mix.test.ts'],
  'chaos-all': ['test/chaos/**/*.test.ts'],
};
const suite = process.env.LOCKED_SUITE ?? 'main';
const include = SUITES[suite];
if (!include) throw new Error(`LOCKED_SUITE must be one of ${Object.keys(SUITES).join(', ')}, got ${suite}`);
// The etcd build the tests run on: LOCKED_ETCD (3.4 when unset; see src/testing/etcd-binary.ts).
const etcdTag = process.env.LOCKED_ETCD ? `.etcd-${process.env.LOCKED_ETCD}` : '';

// Integration tests start their own etcd on free loopback ports, so files can
// run side by side; two workers match the 2-core machines we run on.
export default defineConfig({
  test: {
    include,
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CI asks for a JSON report too (VITEST_JSON=path prefix) to print a plain "N passed, N failed" line;
    // a run on another etcd build (LOCKED_ETCD) gets a name of its own, so no report overwrites another.
    reporters: process.env.VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.VITEST_JSON ? { outputFile: { json: `${process.env.VITEST_JSON}.${suite}${etcdTag}.json` } } : {}),
  },
});
