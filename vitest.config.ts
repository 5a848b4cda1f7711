import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that need system tools (wrk, promtool, network namespaces) run under `npm run test:system`.
    exclude: ['test/system/**', '**/node_modules/**'],
    // Crash loops and power-loss simulations run real child processes and many cases; 2-core CI needs headroom.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Two cores: run test files two at a time so crash loops do not starve each other.
    maxWorkers: 2,
  },
});
