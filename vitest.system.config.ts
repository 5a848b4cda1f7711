import { defineConfig } from 'vitest/config';

// Tests that need system tools or root (wrk, nats-server, iproute2 network namespaces, chromium,
// promtool): `npm run test:system`. `.ci/run` installs the tools first.
export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Clusters, namespaces and browsers are heavy on two cores: one file at a time.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
