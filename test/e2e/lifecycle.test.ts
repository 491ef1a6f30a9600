/**
 * Each resource through the real engine: up → refresh (no changes) → in-place change
 * (an update, same cloud id) → replacing change (a replace, new id) → destroy → nothing
 * left in the emulator.
 */
import { expect, it } from "vitest";
import type { Emulator } from "../../src/emulator/server";
import type { Kind, ResourceSpec } from "./harness";
import { e2eDescribe, useE2E } from "./setup";
import { COMPSHARE_INSTANCE } from "../support/fixtures";

interface Case {
  kind: Kind;
  base: Record<string, unknown>;
  inPlace: Record<string, unknown>;
  replacing: Record<string, unknown>;
  /** Cloud id output. */
  idOutput: string;
  live(emu: Emulator): number;
}

const cases: Case[] = [
  {
    kind: "ppioInstance",
    base: { productId: "4090.24g", image: "nginx:1.27", resource: { gpuNum: 1, rootfsSizeGb: 30 }, envs: { A: "1" } },
    inPlace: { image: "nginx:1.28", envs: { A: "2" } },
    replacing: { resource: { gpuNum: 2, rootfsSizeGb: 30 } },
    idOutput: "instanceId",
    live: (emu) => emu.ppio.instances().length,
  },
  {
    kind: "ppioEndpoint",
    base: {
      type: "sync",
      productId: "4090.24g.serverless",
      image: "vllm/vllm-openai:v0.6.0",
      workerConfig: { minReplicas: 1, maxReplicas: 2, gpuNum: 1, rootfsSizeGb: 50 },
      ports: [8000],
    },
    inPlace: { workerConfig: { minReplicas: 0, maxReplicas: 4, gpuNum: 1, rootfsSizeGb: 50 }, envs: { A: "1" } },
    replacing: { type: "async" },
    idOutput: "endpointId",
    live: (emu) => emu.ppio.endpoints().length,
  },
  {
    kind: "compShareInstance",
    base: { ...COMPSHARE_INSTANCE },
    inPlace: { gpu: 2, cpu: 32, memory: 131072 },
    replacing: { gpuType: "3090" },
    idOutput: "uhostId",
    live: (emu) => emu.compshare.instances().length,
  },
];

const e2e = useE2E();

e2eDescribe.each(cases)("$kind through the Pulumi engine", (c) => {
  it("creates, refreshes clean, updates in place, replaces, destroys", async () => {
    const s = await e2e.h.stack();
    const spec = (args: Record<string, unknown>): ResourceSpec[] => [{ kind: c.kind, name: "r", args }];

    const created = await s.up(spec(c.base));
    expect(created.summary.resourceChanges).toMatchObject({ create: 2 });
    const first = await s.resource("r");
    expect(first.id).toBeTruthy();
    expect(first.outputs[c.idOutput]).toBe(first.id);
    expect(c.live(e2e.h.emu)).toBe(1);

    await s.refresh({ expectNoChanges: true });

    const updated = await s.up(spec({ ...c.base, ...c.inPlace }));
    expect(updated.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(updated.summary.resourceChanges?.replace).toBeUndefined();
    expect((await s.resource("r")).id).toBe(first.id);

    const replaced = await s.up(spec({ ...c.base, ...c.inPlace, ...c.replacing }));
    expect(replaced.summary.resourceChanges).toMatchObject({ replace: 1 });
    const second = await s.resource("r");
    expect(second.id).not.toBe(first.id);
    expect(c.live(e2e.h.emu)).toBe(1);

    await s.destroy();
    expect(await s.resources()).toEqual([]);
    expect(c.live(e2e.h.emu)).toBe(0);
  });
});
