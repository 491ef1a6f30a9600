import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Provider progress lines reach the terminal only where a test captures them.
    setupFiles: ["test/support/quiet-progress.ts"],
    // Provider tests wait on the emulator's (fast) state machine; e2e tests run the real
    // Pulumi CLI. Generous per-test limits, since these machines are shared and noisy.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Most test time is spent waiting on the emulator's clock, not on the CPU.
    maxWorkers: 4,
  },
});
