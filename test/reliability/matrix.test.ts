/**
 * The fault matrix through the runtime providers: every scenario of `scenarios.ts` against a
 * fresh emulator, with the invariants checked against the emulator's own records. Scenarios
 * run concurrently (each in its own async context, see run.ts). The rows go to
 * `.results/matrix.json` for `npm run test:reliability`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CANARIES, countCanaries, type MatrixRow, runScenario, unattributedStderr, writeResults } from "./run";
import { SCENARIOS } from "./scenarios";

const rows: MatrixRow[] = [];

beforeAll(() => {
  process.env.GPU_CLOUD_POLL_MIN_MS = "50";
});
afterAll(() => {
  const order = new Map(SCENARIOS.map((s, i) => [s.id, i]));
  writeResults("matrix.json", rows.sort((a, b) => order.get(a.scenario)! - order.get(b.scenario)!));
});

describe("fault matrix", () => {
  it("has at least 30 scenarios over every resource and step, with unique ids", () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(30);
    expect(new Set(SCENARIOS.map((s) => s.id)).size).toBe(SCENARIOS.length);
    for (const resource of ["PpioInstance", "PpioEndpoint", "CompShareInstance"]) {
      const steps = new Set(SCENARIOS.filter((s) => s.resource === resource).map((s) => s.step));
      expect([...steps].sort(), resource).toEqual(["create", "delete", "read", "update", "wait"]);
    }
  });

  it.concurrent.for(SCENARIOS.map((s) => [s.id, s] as const))("%s", async ([, sc], { expect }) => {
    const row = await runScenario(sc);
    rows.push(row);
    expect(row.problems, `${sc.resource} ${sc.step}: ${sc.fault}`).toEqual([]);
  });

  it("printed no credential outside the scenarios either", () => {
    expect(countCanaries(unattributedStderr.join(""), CANARIES)).toBe(0);
  });
});
