/** Shared by every e2e file: the CLI or a skip (a failure under CI=true), and one harness per file. */
import { afterAll, beforeAll, describe } from "vitest";
import type { EmulatorOptions } from "../../src/emulator/server";
import { CLI_MISSING, E2E, pulumiCli } from "./harness";

const cli = await pulumiCli();
const inCI = /^(1|true)$/i.test(process.env.CI ?? "");
if (!cli && !inCI) process.stderr.write(`\nSKIPPED: ${CLI_MISSING}\n`);

/** `describe`, skipped without a CLI except in CI, where the missing CLI fails the suite. */
export const e2eDescribe = describe.skipIf(!cli && !inCI);

/** Starts the harness before the file's tests and tears it down after. */
export function useE2E(emulator?: EmulatorOptions): { readonly h: E2E } {
  const box = {} as { h: E2E };
  beforeAll(async () => {
    if (!cli) throw new Error(`CI=true and ${CLI_MISSING}`);
    process.env.GPU_CLOUD_POLL_MIN_MS = "100";
    box.h = await E2E.start(cli, emulator);
  });
  afterAll(async () => {
    await box.h?.stop();
  });
  return box;
}
