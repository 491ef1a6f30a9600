/**
 * Fallbacks, the price cap and adoption through the real engine: a sold-out preferred shape
 * ends on a fallback with one object bought, and neither `pulumi refresh` nor the next
 * `pulumi up` sees the bought shape as drift; a cap below every price buys nothing; an
 * instance made outside Pulumi is adopted without a purchase and destroyed with the stack.
 */
import { expect, it } from "vitest";
import type { ResourceSpec } from "./harness";
import { e2eDescribe, useE2E } from "./setup";
import { COMPSHARE_INSTANCE } from "../support/fixtures";
import { PpioClient } from "../../src/ppio/client";

const e2e = useE2E();

const ppio = (args: Record<string, unknown>): ResourceSpec[] => [
  {
    kind: "ppioInstance",
    name: "gpu",
    args: { productId: "4090.24g", image: "nginx:1.27", resource: { gpuNum: 1, rootfsSizeGb: 30 }, ...args },
  },
];
const vm = (args: Record<string, unknown>): ResourceSpec[] => [{ kind: "compShareInstance", name: "vm", args: { ...COMPSHARE_INSTANCE, ...args } }];

e2eDescribe("fallbacks and the price cap through the engine", () => {
  it("PPIO: a sold-out product falls back, and refresh and the next up show no changes", async () => {
    const s = await e2e.h.stack();
    const emu = e2e.h.emu;
    emu.ppio.setStock("4090.24g", 0);
    try {
      const spec = ppio({ fallbacks: [{ productId: "3090.24g" }] });
      await s.up(spec);
      const recorded = await s.resource("gpu");
      expect(recorded.outputs).toMatchObject({ chosenFallback: 0, chosenShape: { productId: "3090.24g" }, productId: "4090.24g" });
      expect(emu.ppio.instances().map((i) => i.product_id)).toEqual(["3090.24g"]);

      // the bought shape is an output, not drift
      await s.refresh({ expectNoChanges: true });
      const again = await s.up(spec);
      expect(again.summary.resourceChanges).not.toHaveProperty("update");
      expect(again.summary.resourceChanges).not.toHaveProperty("replace");
      // a change to fallbacks alone is no change either
      const edited = await s.up(ppio({ fallbacks: [{ productId: "h100.80g" }, { productId: "3090.24g" }] }));
      expect(edited.summary.resourceChanges).toMatchObject({ same: 2 });
      expect(emu.ppio.instances()).toHaveLength(1);
    } finally {
      emu.ppio.setStock("4090.24g", 4096);
      await s.destroy();
    }
    expect(emu.ppio.instances()).toEqual([]);
  });

  it("CompShare: a sold-out GPU type falls back, and refresh and the next up show no changes", async () => {
    const s = await e2e.h.stack();
    const emu = e2e.h.emu;
    emu.compshare.setStock("4090", 0);
    try {
      const spec = vm({ fallbacks: [{ gpuType: "3090" }] });
      await s.up(spec);
      const recorded = await s.resource("vm");
      expect(recorded.outputs).toMatchObject({ chosenFallback: 0, chosenShape: { gpuType: "3090" }, gpuType: "4090" });
      expect(emu.compshare.instances().map((i) => i.GpuType)).toEqual(["3090"]);

      await s.refresh({ expectNoChanges: true });
      const again = await s.up(spec);
      expect(again.summary.resourceChanges).toMatchObject({ same: 2 });
      expect(emu.compshare.instances()).toHaveLength(1);
    } finally {
      emu.compshare.setStock("4090", 10_000);
      await s.destroy();
    }
    expect(emu.compshare.instances()).toEqual([]);
  });

  it("a cap below every candidate's price fails the up and buys nothing", async () => {
    const s = await e2e.h.stack();
    const emu = e2e.h.emu;
    emu.resetRequests();
    const err = await s.up(vm({ maxPricePerHour: 0.05, fallbacks: [{ gpuType: "3090" }] })).catch((e) => e);
    expect(String(err)).toMatch(/above maxPricePerHour 0\.05/);
    expect(String(err)).toMatch(/nothing was bought/);
    expect(emu.compshare.instances()).toEqual([]);
    expect(emu.requests.filter((r) => r.action === "CreateCompShareInstance")).toEqual([]);
    expect(await s.resources()).toEqual([]);
    await s.destroy();
  });

  it("adopts an instance made outside Pulumi: no purchase, no drift, and removing adoptId is no change", async () => {
    const s = await e2e.h.stack();
    const emu = e2e.h.emu;
    const client = new PpioClient({ apiKey: emu.apiKey, baseUrl: emu.url });
    const existing = await client.createInstance({
      name: "made-in-console",
      product_id: "4090.24g",
      image: "nginx:1.27",
      billing: { mode: "postpaid" },
      resource: { gpu_num: 1, rootfs_size_gb: 30 },
    } as never);
    await client.close();
    const posts = () => emu.requests.filter((r) => r.route === "POST /gpus/v2/instances").length;
    const before = posts();
    try {
      await s.up(ppio({ adoptId: existing, image: "nginx:1.28" }));
      const recorded = await s.resource("gpu");
      expect(recorded.id).toBe(existing);
      expect(posts()).toBe(before);
      expect(emu.ppio.instances()).toHaveLength(1);
      expect(emu.ppio.get(existing)).toMatchObject({ image: "nginx:1.28" });

      await s.refresh({ expectNoChanges: true });
      const dropped = await s.up(ppio({ image: "nginx:1.28" }));
      expect(dropped.summary.resourceChanges).toMatchObject({ same: 2 });
      expect((await s.resource("gpu")).id).toBe(existing);
    } finally {
      await s.destroy();
    }
    expect(emu.ppio.get(existing)).toBeUndefined();
    expect(posts()).toBe(before);
  });
});
