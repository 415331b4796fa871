import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Service-backed tests start real servers (influxd, mosquitto, pymodbus, chromium).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The hub serves the built dashboard (dashboard/dist); build it when a source changed.
    globalSetup: ['./test/helpers/build-dashboard.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
