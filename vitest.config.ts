import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Those need system tools (chromium, wrk, root for namespaces): `npm run test:system`.
    exclude: [...configDefaults.exclude, 'test/system/**'],
    // Crash loops and power-loss simulations run real child processes and many cases; 2-core CI needs headroom.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Two cores: run test files two at a time so crash loops do not starve each other.
    maxWorkers: 2,
  },
});
