import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Provider progress lines reach the terminal only where a test captures them.
    setupFiles: ["test/support/quiet-progress.ts"],
    // Provider tests wait on the emulator's (fast) state machine; e2e tests run the real
    // Pulumi CLI, several at once beside the kill matrix's. Generous per-test limits: they stop
    // a hung test, they do not measure anything (these machines are shared and noisy).
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Most test time is spent waiting on the emulator's clock, not on the CPU.
    maxWorkers: 4,
  },
});
